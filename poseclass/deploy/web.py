"""A web page that classifies poses in the browser, offline: ``poseclass deploy MODEL_DIR --web OUT_DIR``.

OUT_DIR gets everything a static file server needs (``python -m http.server -d OUT_DIR``)::

    index.html, app.js, letterbox.js   the page (plain HTML and ES modules, no build step; ``page/``)
    NOTICE                             what the files are and their licences
    pose_fused.tflite                  the folder's fused model (one graph: letterboxed image -> classes)
    model.json                         labels and the settings the CLI uses (input size, smoothing, no-person score)
    vendor/litert/                     LiteRT.js, Google's LiteRT for the web (WebAssembly), from npm

The runtime is LiteRT.js (``@litertjs/core``, Apache-2.0), the web build of the LiteRT that
``poseclass predict`` runs: on the same letterboxed pixels it gives the Python fused model's
probabilities to about 1e-7. Its files come from the npm packages at the pinned versions below,
each checked against its sha256, and are kept in poseclass's cache (``web/``), like MoveNet's
TF.js weights (:func:`poseclass.pose.models.fetch_tfjs`): npm runs once per machine, and the
page itself never touches the network.

The page letterboxes with a port of Pillow's bicubic resampling (``page/letterbox.js``), so its
model input is byte-identical to ``poseclass predict``'s first pass, and it smooths the camera's
probabilities with the CLI's moving average (:data:`poseclass.video.filters.SMOOTHING_ALPHA`).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tarfile
import tempfile
from pathlib import Path

from poseclass import __version__
from poseclass.classify.folder import ModelFolder
from poseclass.errors import ModelFolderError, RuntimeFetchError, UsageError
from poseclass.files import atomic_write, locked, replace_dir, sha256
from poseclass.pose.detector import is_single_pose
from poseclass.pose.models import home
from poseclass.pose.movenet import NO_POSE_SCORE
from poseclass.quiet import working
from poseclass.video.filters import SMOOTHING_ALPHA

PAGE = Path(__file__).resolve().parent / "page"
PAGE_FILES = ("index.html", "app.js", "letterbox.js", "NOTICE")
SETTINGS_NAME = "model.json"
FUSED_NAME = "pose_fused.tflite"

# npm package@version -> {file in its tarball: (path under OUT_DIR, sha256)}. The two WebAssembly
# builds are both needed: LiteRT.js loads the faster one where the browser has relaxed SIMD, the
# other elsewhere. The tarballs' files are used as they are (an import map in index.html resolves
# the one bare import), so each can be checked against the published package.
RUNTIME: dict[str, dict[str, tuple[str, str]]] = {
    "@litertjs/core@2.5.3": {
        "package/dist/index.js": (
            "vendor/litert/litert.js", "e7daccc3a31eef890848a737ccb863ded5f046a6b40c3fdc0556495adeb5d9b3"),
        "package/wasm/litert_wasm_internal.js": (
            "vendor/litert/wasm/litert_wasm_internal.js",
            "68efb69f770e3f76aff36a377de629ca496c131b86ac0f0f4b592a1543a898eb"),
        "package/wasm/litert_wasm_internal.wasm": (
            "vendor/litert/wasm/litert_wasm_internal.wasm",
            "7280cf4471774867e385e6c3cd53e2b45e2975b80fea338fff4ef359b0865614"),
        "package/wasm/litert_wasm_compat_internal.js": (
            "vendor/litert/wasm/litert_wasm_compat_internal.js",
            "4d8f894b7883654fd6e8439730aa41e79ceaab7d19184fc4f1f0b0f1a2a2c8a5"),
        "package/wasm/litert_wasm_compat_internal.wasm": (
            "vendor/litert/wasm/litert_wasm_compat_internal.wasm",
            "5255c8ad06eabdbd2522cdebf6b22fc10faf74625c23a49b9e072570cd1fa41c"),
    },
    "@litertjs/wasm-utils@2.5.3": {
        "package/dist/index.js": (
            "vendor/litert/wasm-utils.js", "e0e20bc28ab001ac732cf40d15b6eebd24fb0deaeb95eeba5100f51eebf015f2"),
    },
}


def runtime_cache() -> Path:
    """Where the checked runtime files are kept: ``<poseclass cache>/web/<packages>/``."""
    return home() / "web" / "litertjs-2.5.3"


def _cached(members: dict[str, tuple[str, str]]) -> bool:
    return all((runtime_cache() / rel).exists() and sha256(runtime_cache() / rel) == digest
               for rel, digest in members.values())


def runtime_files() -> dict[str, Path]:
    """``{path under OUT_DIR: cached file}`` for LiteRT.js, fetched with ``npm pack`` once and sha256-checked.

    Raises :class:`RuntimeFetchError` (one line) when npm is missing or fails, or a file does not
    match its pin; nothing unchecked ever enters the cache.
    """
    cache = runtime_cache()
    for package, members in RUNTIME.items():
        if _cached(members):
            continue
        with locked(cache.parent / ".litertjs.lock"):
            if _cached(members):  # another process may have just fetched it
                continue
            if shutil.which("npm") is None:
                raise RuntimeFetchError(f"npm is not installed (needed once to fetch the web runtime {package}; "
                                        f"it is then kept in {cache})")
            cache.mkdir(parents=True, exist_ok=True)
            with tempfile.TemporaryDirectory(dir=cache.parent) as work, working(f"fetching {package} with npm"):
                done = subprocess.run(["npm", "pack", "--silent", package, "--pack-destination", work],
                                      capture_output=True, text=True, timeout=600)
                if done.returncode != 0:
                    raise RuntimeFetchError(f"npm pack {package} failed: {done.stderr.strip()[-300:]}")
                with tarfile.open(next(Path(work).glob("*.tgz"))) as archive:
                    for member, (rel, digest) in members.items():
                        try:
                            archive.extract(member, work, filter="data")
                        except KeyError:
                            raise RuntimeFetchError(f"npm package {package} has no {member}") from None
                        got = sha256(Path(work) / member)
                        if got != digest:
                            raise RuntimeFetchError(f"{member} in npm package {package} has sha256 {got}, "
                                                    f"expected {digest}")
                for member, (rel, _) in members.items():
                    (cache / rel).parent.mkdir(parents=True, exist_ok=True)
                    os.replace(Path(work) / member, cache / rel)
    return {rel: cache / rel for members in RUNTIME.values() for rel, _ in members.values()}


def page_settings(folder: ModelFolder) -> dict[str, object]:
    """``model.json``: what the page needs besides the model, taken from the constants the CLI uses.

    ``unknown_below``: the page answers "unknown" when the top probability is under it; None
    (never) for a folder trained with ``--no-unknown`` (manifest ``unknown_below``).
    """
    from poseclass.deploy.fused import graph_variant
    from poseclass.pose.models import VARIANTS

    return {
        "model": FUSED_NAME,
        "labels": folder.labels,
        "input_size": VARIANTS[graph_variant(folder.variant)].input_size,
        "smoothing_alpha": SMOOTHING_ALPHA,
        "no_person_below": NO_POSE_SCORE,
        "unknown_below": folder.unknown_below,
        "poseclass": __version__,
    }


def _ours(out: Path) -> bool:
    """Whether ``out`` is a folder this function wrote (so replacing it loses nothing of the user's)."""
    return (out / SETTINGS_NAME).is_file() and (out / "index.html").is_file() and (out / "vendor" / "litert").is_dir()


def write_web(model_dir: str | Path, out_dir: str | Path) -> list[Path]:
    """Write the web page of ``model_dir`` into ``out_dir`` (replaced as a whole); the files written.

    The folder's ``pose_fused.tflite`` is used as it is (no TensorFlow needed); a folder without one
    gets it built first (:func:`poseclass.deploy.bundle.write_deploy`, the train extra).
    """
    folder = ModelFolder.open(model_dir)
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise UsageError(f"--web {out}: it is a file; give a folder for the web page")
    if out.is_dir() and any(out.iterdir()) and not _ours(out):
        raise UsageError(f"--web {out}: the folder holds other files; give an empty or new folder "
                         "(a web folder written earlier is replaced)")
    if not out.resolve().parent.is_dir():
        raise UsageError(f"--web {out}: no folder {out.resolve().parent}")
    if not is_single_pose(folder.variant):
        raise ModelFolderError(f"{folder.path}: trained on MultiPose keypoints, which the web page cannot run "
                               "(it runs the single-pose fused model); train with a single-pose --pose-model")
    fused = folder.file(FUSED_NAME)
    if not fused.exists():
        from poseclass.deploy.bundle import write_deploy
        from poseclass.extras import TRAIN, require

        require(TRAIN, "tensorflow", "keras",
                what=f"the web page needs {FUSED_NAME}, which {folder.path} lacks; building it")
        write_deploy(folder.path)
        folder = ModelFolder.open(folder.path)
    copies = {name: PAGE / name for name in PAGE_FILES} | {FUSED_NAME: fused} | runtime_files()
    out = out.resolve()
    new = Path(tempfile.mkdtemp(prefix=f".{out.name}.new-", dir=out.parent))
    try:
        for rel, source in copies.items():
            (new / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, new / rel)
        atomic_write(new / SETTINGS_NAME, json.dumps(page_settings(folder), indent=2) + "\n")
        os.chmod(new, 0o755)  # mkdtemp's 0700 would hide the page from a server run as another user
        replace_dir(new, out)
    except BaseException:
        shutil.rmtree(new, ignore_errors=True)
        raise
    return sorted((out / rel for rel in [*copies, SETTINGS_NAME]), key=lambda p: (len(p.parts), p))
