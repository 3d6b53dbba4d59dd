"""The fused image → probabilities model: real MoveNet graph, real trained classifier, real photos.

Checked on LiteRT against ``poseclass predict`` (the two-file chain), and with the client it
is made for: MediaPipe Tasks' ImageClassifier, which names the classes only through the
metadata. The model is converted once per module (about 15 s).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from conftest import POSE_TEST

from poseclass.classify.results import ANSWERED
from poseclass.files import LABELS_NAME, read_labels
from poseclass.pose.movenet import full_frame

FIXTURE_IMAGES = ("image1.png", "image2.jpeg", "image3.jpeg")


@pytest.fixture(scope="module")
def bare(model_dir: Path) -> bytes:
    from poseclass.deploy.fused import convert_fused

    return convert_fused(model_dir)


@pytest.fixture(scope="module")
def fused(bare: bytes, model_dir: Path) -> bytes:
    from poseclass.deploy.fused import add_metadata

    return add_metadata(bare, model_dir)


@pytest.fixture(scope="module")
def chain(model_dir: Path):
    from poseclass.classify.pipeline import PosePipeline

    return PosePipeline.load(model_dir)


@pytest.fixture(scope="module")
def squares(model_dir: Path) -> dict[str, np.ndarray]:
    """The letterboxed square of each fixture image, as an app would make it."""
    from poseclass.deploy.fused import input_size, letterbox

    return {name: letterbox(POSE_TEST / name, input_size(model_dir)) for name in FIXTURE_IMAGES}


def litert_outputs(model: bytes, square: np.ndarray) -> list[np.ndarray]:
    """Every output of ``model`` on one square image, in the model's output order."""
    from ai_edge_litert.interpreter import Interpreter

    interpreter = Interpreter(model_content=model)
    interpreter.allocate_tensors()
    interpreter.set_tensor(interpreter.get_input_details()[0]["index"], square[None])
    interpreter.invoke()
    return [interpreter.get_tensor(d["index"]) for d in interpreter.get_output_details()]


def mediapipe_classify(model: bytes, squares: dict[str, np.ndarray]) -> dict[str, object]:
    """MediaPipe's ImageClassifier on each square (SRGB); its results by image name."""
    import mediapipe as mp
    from mediapipe.tasks.python import BaseOptions, vision

    options = vision.ImageClassifierOptions(base_options=BaseOptions(model_asset_buffer=model))
    with vision.ImageClassifier.create_from_options(options) as classifier:
        return {name: classifier.classify(mp.Image(image_format=mp.ImageFormat.SRGB, data=square))
                for name, square in squares.items()}


def test_tensors_image_in_probabilities_first(fused: bytes, model_dir: Path) -> None:
    from ai_edge_litert.interpreter import Interpreter

    from poseclass.deploy.fused import input_size

    size, classes = input_size(model_dir), len(read_labels(model_dir / LABELS_NAME))
    assert size == 256  # Thunder, the float graph of the default thunder-int8
    interpreter = Interpreter(model_content=fused)
    inputs, outputs = interpreter.get_input_details(), interpreter.get_output_details()
    assert [(list(d["shape"]), d["dtype"]) for d in inputs] == [([1, size, size, 3], np.uint8)]
    expected = [([1, classes], np.float32), ([1, 1, 17, 3], np.float32)]  # probabilities first, then keypoints
    assert [(list(d["shape"]), d["dtype"]) for d in outputs] == expected


def test_litert_matches_the_two_file_chain(fused: bytes, chain, squares: dict[str, np.ndarray]) -> None:
    compared = 0
    for name, square in squares.items():
        expected = chain.predict(POSE_TEST / name)
        probabilities, keypoints = litert_outputs(fused, square)
        # the real classes' probabilities; the rest is what the model gives none of them ("unknown")
        assert probabilities.sum() <= 1 + 1e-4
        if expected.status not in ANSWERED:
            continue
        compared += 1  # "unknown" too (image1 and image2 are people standing, none of the classes): same ranking
        assert chain.labels[int(probabilities[0].argmax())] == expected.predictions[0][0], name
        # Output 1 is this photo's pose, in the square's frame: (y, x) of the chain's pixels, letterbox removed.
        crop = full_frame(expected.pose.width, expected.pose.height)
        yx = np.stack([expected.pose.xy[:, 1] - crop.y0, expected.pose.xy[:, 0] - crop.x0], axis=1) / crop.side
        seen = expected.pose.scores > 0.3
        assert np.abs(keypoints[0, 0, seen, :2] - yx[seen]).max() < 0.03, name
        if name == "image3.jpeg":
            assert expected.label == "tree"
    assert compared == len(FIXTURE_IMAGES)  # a person is in every fixture photo


def test_mediapipe_names_the_classes_from_the_metadata(fused: bytes, chain, squares: dict[str, np.ndarray],
                                                       model_dir: Path) -> None:
    labels = read_labels(model_dir / LABELS_NAME)
    for name, result in mediapipe_classify(fused, squares).items():
        head = result.classifications[0]
        assert head.head_name == "class_probabilities", name  # output 0, named by the metadata
        expected = chain.predict(POSE_TEST / name)
        # MediaPipe drops the classes under the metadata's score threshold (the "unknown" one) by itself
        below = chain.classifier.unknown_below
        assert {c.category_name for c in head.categories} == {k for k, p in expected.predictions if p >= below}, name
        assert {c.category_name for c in head.categories} <= set(labels), name
        if expected.status == "ok":
            assert head.categories[0].category_name == expected.label, name


def test_without_metadata_mediapipe_has_no_names(bare: bytes, squares: dict[str, np.ndarray]) -> None:
    results = mediapipe_classify(bare, {"image3.jpeg": squares["image3.jpeg"]})
    assert results["image3.jpeg"].classifications[0].categories[0].category_name is None


def test_joined_equals_the_one_piece_conversion(bare: bytes, model_dir: Path, squares: dict[str, np.ndarray]) -> None:
    """The default build (cached MoveNet part + classifier joined at the TFLite level) computes exactly
    what converting MoveNet and the classifier as one TensorFlow function computes (issue 21)."""
    from poseclass.deploy.fused import convert_fused

    whole = convert_fused(model_dir, method="convert")
    for name, square in squares.items():
        for joined, converted in zip(litert_outputs(bare, square), litert_outputs(whole, square)):
            np.testing.assert_array_equal(joined, converted, err_msg=name)


def test_a_damaged_cached_movenet_part_is_rebuilt(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from poseclass.deploy import fused
    from poseclass.pose.models import VARIANTS, home

    spec = VARIANTS["thunder"]
    good = fused.movenet_part(spec)  # cached by the fixtures' build
    cached = next((home() / "fused").glob(f"{spec.npm_stem}-*.tflite"))
    original = cached.read_bytes()
    try:
        cached.write_bytes(original[:1000])
        assert fused.movenet_part(spec) == good  # the checksum fails: converted again, not read
    finally:
        if cached.read_bytes() != original:
            cached.write_bytes(original)
