"""The deploy files as an app runs them: plain LiteRT interpreters made from the files' bytes, no poseclass code in the loop."""

from __future__ import annotations

import io
import json
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest
from ai_edge_litert.interpreter import Interpreter
from conftest import POSE_TEST
from PIL import Image, ImageOps

IMAGES = ("image1.png", "image2.jpeg", "image3.jpeg")


@pytest.fixture(scope="module")
def deployed(model_dir, tmp_path_factory) -> Path:
    """A copy of the trained folder after `poseclass deploy` (metadata and the fused model)."""
    folder = shutil.copytree(model_dir, tmp_path_factory.mktemp("deploy") / "model")
    done = subprocess.run([sys.executable, "-m", "poseclass", "deploy", str(folder), "--json"],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert {Path(p).name for p in json.loads(done.stdout)["files"]} == {"pose_classifier.tflite", "pose_fused.tflite"}
    return folder


def app_letterbox(path: Path, size: int) -> np.ndarray:
    """What an app does by hand: upright RGB, centred in a black square, resized to size × size."""
    with Image.open(path) as opened:
        image = ImageOps.exif_transpose(opened)
        if image.mode in ("RGBA", "LA", "P"):
            rgba = image.convert("RGBA")
            image = Image.new("RGB", rgba.size, (128, 128, 128))
            image.paste(rgba, mask=rgba.getchannel("A"))
        image = image.convert("RGB")
    side = max(image.size)
    left, top = (image.width - side) / 2, (image.height - side) / 2
    square = image.crop((round(left), round(top), round(left + side), round(top + side)))
    return np.asarray(square.resize((size, size), Image.Resampling.BICUBIC))


def run(model: bytes, *inputs: np.ndarray) -> list[np.ndarray]:
    interpreter = Interpreter(model_content=model)
    interpreter.allocate_tensors()
    for detail, value in zip(interpreter.get_input_details(), inputs):
        interpreter.set_tensor(detail["index"], value.astype(detail["dtype"]))
    interpreter.invoke()
    return [interpreter.get_tensor(d["index"]) for d in interpreter.get_output_details()]


def poseclass_predict(folder: Path, passes: int | None = None) -> dict[str, dict[str, float]]:
    args = [sys.executable, "-m", "poseclass", "predict", *[str(POSE_TEST / n) for n in IMAGES],
            "--model", str(folder), "--json", "--top-k", "99"]
    done = subprocess.run(args, capture_output=True, text=True)
    return {Path(r["image"]).name: {p["label"]: p["probability"] for p in r["predictions"]}
            for r in json.loads(done.stdout)}


def test_the_two_file_chain_as_an_app_runs_it(deployed):
    manifest = json.loads((deployed / "manifest.json").read_text())
    movenet = (deployed / manifest["movenet"]["file"]).read_bytes()
    classifier = (deployed / "pose_classifier.tflite").read_bytes()
    labels = zipfile.ZipFile(io.BytesIO(classifier)).read("labels.txt").decode().splitlines()
    assert labels == manifest["labels"], "the labels come out of the model file itself"
    size = Interpreter(model_content=movenet).get_input_details()[0]["shape"][1]
    expected = poseclass_predict(deployed)
    for name in IMAGES:
        keypoints = run(movenet, app_letterbox(POSE_TEST / name, size)[None])[0]
        probs = run(classifier, keypoints)[0][0]
        assert labels[int(probs.argmax())] == max(expected[name], key=expected[name].get), name
    assert labels[int(probs.argmax())] == "tree"


def test_one_pass_app_chain_equals_poseclass_exactly(deployed):
    """With crop refinement off, poseclass is exactly the app's chain: same contract, same numbers."""
    manifest = json.loads((deployed / "manifest.json").read_text())
    movenet = (deployed / manifest["movenet"]["file"]).read_bytes()
    classifier = (deployed / "pose_classifier.tflite").read_bytes()
    from poseclass.classify.pipeline import PosePipeline

    pipeline = PosePipeline.load(deployed, passes=1)
    for name in IMAGES:
        keypoints = run(movenet, app_letterbox(POSE_TEST / name, pipeline.movenet.input_size)[None])[0]
        probs = run(classifier, keypoints)[0][0]
        ours = dict(pipeline.predict(POSE_TEST / name).predictions)
        np.testing.assert_allclose([ours[label] for label in manifest["labels"]], probs, atol=1e-5)


def test_the_fused_model_as_an_app_runs_it(deployed):
    fused = (deployed / "pose_fused.tflite").read_bytes()
    labels = zipfile.ZipFile(io.BytesIO(fused)).read("labels.txt").decode().splitlines()
    size = Interpreter(model_content=fused).get_input_details()[0]["shape"][1]
    expected = poseclass_predict(deployed)
    for name in IMAGES:
        probs, keypoints = run(fused, app_letterbox(POSE_TEST / name, size)[None].astype(np.uint8))
        assert probs.shape == (1, len(labels)) and keypoints.shape == (1, 1, 17, 3)
        assert float(probs.sum()) <= 1 + 1e-4  # the classes only: the rest is what none of them has ("unknown")
        if name == "image3.jpeg":
            assert labels[int(probs.argmax())] == "tree" == max(expected[name], key=expected[name].get)


def test_metadata_leaves_the_classifier_bit_identical_and_small(model_dir, deployed):
    plain = (model_dir / "pose_classifier.tflite").read_bytes()
    tagged = (deployed / "pose_classifier.tflite").read_bytes()
    assert tagged != plain and len(tagged) <= 30 * 1024
    rng = np.random.default_rng(0)
    for _ in range(5):
        keypoints = rng.uniform(size=(1, 1, 17, 3)).astype(np.float32)
        assert np.array_equal(run(plain, keypoints)[0], run(tagged, keypoints)[0])


def test_deploy_twice_changes_nothing(deployed):
    before = {p.name: p.read_bytes() for p in deployed.glob("*.tflite")}
    done = subprocess.run([sys.executable, "-m", "poseclass", "deploy", str(deployed), "--no-fused", "-q"],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert {p.name: p.read_bytes() for p in deployed.glob("*.tflite")} == before
