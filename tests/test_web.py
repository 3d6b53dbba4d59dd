"""``poseclass deploy MODEL_DIR --web OUT_DIR``: the page in headless Chromium agrees with the Python fused model.

The folder is served on 127.0.0.1 by ``http.server`` in a thread, as a user would serve it; Chromium is
the Debian package (scripts/setup.sh installs it) driven over its debugging pipe (``browser.py``).
The photos are of girl1, the subject the ``model_dir`` fixture never trains on.
"""

from __future__ import annotations

import functools
import json
import os
import re
import shutil
import subprocess
import sys
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
import pytest
from browser import CHROMIUM, RESULT_JS, Browser, camera_flags
from conftest import HELD_OUT, ROOT, YOGA_TRAIN
from PIL import Image

PAGE = ROOT / "poseclass" / "deploy" / "page"
# One held-out photo per class.
PHOTOS = ("girl1_chair081.jpg", "girl1_cobra040.jpg", "girl1_dog031.jpg", "girl1_tree090.jpg", "girl1_warrior064.jpg")
TOLERANCE = 0.01  # the bound on |probability difference|; measured: about 1e-6

needs_chromium = pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (scripts/setup.sh installs it)")


def photo(name: str) -> Path:
    return YOGA_TRAIN / re.match(r"[a-z]+\d*_([a-z]+)", name).group(1) / name


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        pass


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: object, client_address: object) -> None:
        pass  # under headless Chromium the page aborts a fetch on purpose (see app.js `settled`)


@pytest.fixture(scope="module")
def folder(model_dir, tmp_path_factory) -> Path:
    """A copy of the trained folder (it has no fused model yet: --web builds it)."""
    return Path(shutil.copytree(model_dir, tmp_path_factory.mktemp("web") / "model"))


@pytest.fixture(scope="module")
def web(folder) -> Path:
    """OUT_DIR written by the CLI, plus the test photos in OUT_DIR/photos."""
    out = folder.parent / "site"
    done = subprocess.run([sys.executable, "-m", "poseclass", "deploy", str(folder), "--web", str(out), "--json"],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    files = {Path(p).relative_to(out).as_posix() for p in json.loads(done.stdout)["files"]}
    assert {"index.html", "app.js", "letterbox.js", "NOTICE", "model.json", "pose_fused.tflite",
            "vendor/litert/litert.js", "vendor/litert/wasm/litert_wasm_internal.wasm"} <= files
    (out / "photos").mkdir()
    for name in PHOTOS:
        shutil.copyfile(photo(name), out / "photos" / name)
    return out


@pytest.fixture(scope="module")
def server(web):
    httpd = _Server(("127.0.0.1", 0), functools.partial(_QuietHandler, directory=str(web)))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture(scope="module")
def python_answers(web) -> dict[str, tuple[str, np.ndarray]]:
    """What the Python fused model says for each photo: poseclass's letterbox, then plain LiteRT."""
    from ai_edge_litert.interpreter import Interpreter

    from poseclass.deploy.fused import letterbox

    settings = json.loads((web / "model.json").read_text())
    interpreter = Interpreter(model_path=str(web / "pose_fused.tflite"))
    interpreter.allocate_tensors()
    answers = {}
    for name in PHOTOS:
        interpreter.set_tensor(interpreter.get_input_details()[0]["index"],
                               letterbox(photo(name), settings["input_size"])[None])
        interpreter.invoke()
        probs = interpreter.get_tensor(interpreter.get_output_details()[0]["index"])[0]
        answers[name] = (settings["labels"][int(probs.argmax())], probs)
    return answers


def check_agrees(result: dict, label: str, probs: np.ndarray, labels: list[str]) -> None:
    assert result["status"] == "ok" and result["label"] == label, result
    assert list(result["probabilities"]) == labels
    assert np.abs(np.array(list(result["probabilities"].values())) - probs).max() < TOLERANCE, result


def test_the_folder_holds_the_page_the_model_and_pinned_runtime(web, folder):
    from poseclass.deploy.web import RUNTIME
    from poseclass.files import sha256

    settings = json.loads((web / "model.json").read_text())
    manifest = json.loads((folder / "manifest.json").read_text())
    assert settings["labels"] == manifest["labels"] and settings["input_size"] == 256
    assert (settings["smoothing_alpha"], settings["no_person_below"]) == (0.6, 0.1)  # the CLI's values
    assert (web / "pose_fused.tflite").read_bytes() == (folder / "pose_fused.tflite").read_bytes()
    for members in RUNTIME.values():
        for rel, digest in members.values():
            assert sha256(web / rel) == digest
    for name in ("index.html", "app.js", "letterbox.js"):
        assert (web / name).read_bytes() == (PAGE / name).read_bytes()


def test_deploy_web_on_the_runtime_install_reuses_the_fused_model(web, folder, tmp_path):
    """No TensorFlow: a folder with its fused model gets its page; one without says what it needs, in one line."""
    from test_runtime import _python

    run = "from poseclass.cli import main; sys.exit(main(sys.argv[1:]))"
    for _ in range(2):  # the second run replaces the first's folder
        done = _python(run, "deploy", str(folder), "--web", str(tmp_path / "again"), "-q")
        assert done.returncode == 0, done.stderr
    assert sorted(p.name for p in (tmp_path / "again").iterdir()) == sorted(p.name for p in web.iterdir()
                                                                            if p.name != "photos")
    bare = Path(shutil.copytree(folder, tmp_path / "bare"))
    (bare / "pose_fused.tflite").unlink()
    done = _python(run, "deploy", str(bare), "--web", str(tmp_path / "site"))
    assert done.returncode == 2 and len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert "pose_fused.tflite" in done.stderr and "pip install 'poseclass[train]'" in done.stderr
    assert not (tmp_path / "site").exists()


def test_deploy_web_never_replaces_a_folder_it_did_not_write(folder, tmp_path):
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("keep me")
    done = subprocess.run([sys.executable, "-m", "poseclass", "deploy", str(folder), "--web", str(mine)],
                          capture_output=True, text=True)
    assert done.returncode == 2 and "holds other files" in done.stderr
    assert [p.name for p in mine.iterdir()] == ["notes.txt"]


@needs_chromium
def test_photos_in_the_browser_agree_with_python(web, server, python_answers):
    labels = json.loads((web / "model.json").read_text())["labels"]
    with Browser() as browser:
        for name in PHOTOS:
            page = browser.open(f"{server}/index.html?image=photos/{name}")
            result = json.loads(page.wait_for(RESULT_JS, timeout=120))
            page.close()
            check_agrees(result, *python_answers[name], labels)
        offsite = [url for url in browser.requests if not url.startswith((server, "data:", "blob:"))]
    assert offsite == []  # the page needs no network beyond its own folder


def dump_dom(url: str, profile: Path, flags: tuple[str, ...] = (), budget_ms: int = 60000) -> dict:
    """#result after a plain ``chromium --headless=new --virtual-time-budget --dump-dom URL``, with no driver."""
    done = subprocess.run([CHROMIUM, "--headless=new", "--no-sandbox", "--disable-gpu", f"--user-data-dir={profile}",
                           *flags, f"--virtual-time-budget={budget_ms}", "--dump-dom", url],
                          capture_output=True, text=True, timeout=300)
    found = re.search(r'<pre id="result">(.*?)</pre>', done.stdout)
    assert found and found.group(1), done.stdout[-2000:]
    return json.loads(found.group(1))


@needs_chromium
def test_dump_dom_with_virtual_time_gives_the_same_answer(web, server, python_answers, tmp_path):
    """The page keeps virtual time waiting while it works (see app.js `settled`)."""
    name = PHOTOS[3]
    labels = json.loads((web / "model.json").read_text())["labels"]
    check_agrees(dump_dom(f"{server}/index.html?image=photos/{name}", tmp_path), *python_answers[name], labels)


def y4m(path: Path, frames: list[Path], width: int = 640, height: int = 480, fps: int = 10) -> None:
    """A Y4M clip (Chromium's fake-camera format): each frame letterboxed on grey, 4:2:0 BT.601."""
    with open(path, "wb") as out:
        out.write(f"YUV4MPEG2 W{width} H{height} F{fps}:1 Ip A1:1 C420jpeg\n".encode())
        for frame in frames:
            with Image.open(frame) as image:
                image = image.convert("RGB")
                scale = min(width / image.width, height / image.height)
                image = image.resize((round(image.width * scale), round(image.height * scale)),
                                     Image.Resampling.BICUBIC)
            canvas = Image.new("RGB", (width, height), (200, 200, 200))
            canvas.paste(image, ((width - image.width) // 2, (height - image.height) // 2))
            r, g, b = (np.asarray(canvas, np.float64)[..., i] for i in range(3))
            y = 16 + (65.481 * r + 128.553 * g + 24.966 * b) / 255
            u = 128 + (-37.797 * r - 74.203 * g + 112.0 * b) / 255
            v = 128 + (112.0 * r - 93.786 * g - 18.214 * b) / 255
            half = [c.reshape(height // 2, 2, width // 2, 2).mean(axis=(1, 3)) for c in (u, v)]
            out.write(b"FRAME\n" + b"".join(np.clip(np.round(p), 0, 255).astype(np.uint8).tobytes()
                                            for p in (y, *half)))


@pytest.fixture(scope="module")
def tree_clip(tmp_path_factory) -> Path:
    """girl1's 32 tree frames at 10 frames/s (the fake camera loops it)."""
    clip = tmp_path_factory.mktemp("camera") / "tree.y4m"
    y4m(clip, sorted((YOGA_TRAIN / "tree").glob(f"{HELD_OUT}_tree*.jpg")))
    return clip


@needs_chromium
def test_a_fake_camera_holding_tree_settles_on_tree(web, server, tree_clip):
    clip = tree_clip
    seen: list[dict] = []
    with Browser(camera_flags(str(clip))) as browser:
        page = browser.open(f"{server}/index.html?camera=1")
        last, deadline = None, 120.0
        while deadline > 0 and (not seen or seen[-1].get("frames", 0) < 20):
            text = page.evaluate(f"{RESULT_JS} || ''")
            if text and text != last:
                last = text
                seen.append(json.loads(text))
                assert seen[-1]["status"] != "error", seen[-1]
            browser.pump(0.1)
            deadline -= 0.1
    assert len(seen) >= 5, seen
    assert all(r["source"] == "camera" for r in seen)
    assert [r["label"] for r in seen[-5:]] == ["tree"] * 5, seen[-5:]
    assert max(seen[-1]["probabilities"], key=seen[-1]["probabilities"].get) == "tree"


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
def test_letterbox_js_gives_pillows_bytes(tmp_path):
    """The page's letterbox port against poseclass's (Pillow) on odd, even, wide, tall, tiny and large images."""
    from poseclass.deploy.fused import letterbox

    rng = np.random.default_rng(0)
    cases = [(300, 300, 256), (639, 400, 256), (400, 639, 256), (401, 640, 192), (100, 57, 256), (257, 255, 256),
             (1280, 720, 256), (3, 5, 256)]
    for i, (w, h, size) in enumerate(cases):
        image = Image.fromarray(rng.integers(0, 256, (h, w, 3), np.uint8))
        (tmp_path / f"{i}.rgba").write_bytes(np.asarray(image.convert("RGBA")).tobytes())
        (tmp_path / f"{i}.rgb").write_bytes(letterbox(image, size).tobytes())
    script = f"""
import {{readFileSync}} from 'node:fs';
import {{letterbox}} from {json.dumps((PAGE / 'letterbox.js').as_uri())};
const cases = {json.dumps(cases)};
let bad = [];
cases.forEach(([w, h, size], i) => {{
  const {{pixels}} = letterbox(new Uint8Array(readFileSync(`{tmp_path}/${{i}}.rgba`)), w, h, size);
  const expected = new Uint8Array(readFileSync(`{tmp_path}/${{i}}.rgb`));
  if (pixels.length !== expected.length || pixels.some((p, j) => p !== expected[j])) bad.push(`${{w}}x${{h}}`);
}});
console.log(JSON.stringify(bad));
"""
    done = subprocess.run(["node", "--input-type=module", "-e", script], capture_output=True, text=True, timeout=120,
                          env={**os.environ, "NODE_NO_WARNINGS": "1"})
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == []


@needs_chromium
def test_the_camera_under_dump_dom_settles_on_tree(web, server, tree_clip, tmp_path):
    """Under virtual time the page gives each camera frame one virtual second: a 10 s budget sees about 10."""
    result = dump_dom(f"{server}/index.html?camera=1", tmp_path, tuple(camera_flags(str(tree_clip))), 10000)
    assert result["status"] == "ok" and result["label"] == "tree" and result["frames"] >= 3, result
