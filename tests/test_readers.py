"""Every reader of a user's file gives a result or one clear error, whatever the file holds (property-based).

Keypoint CSVs, manifest.json, labels.txt, exclude lists and image headers are files a user may
have edited, cut short or downloaded: hypothesis feeds each reader arbitrary content (random
bytes, and valid files with one part garbled) and checks that it either answers or raises a
:class:`~poseclass.errors.PoseclassError` with a one-line message, never any other exception.
"""

from __future__ import annotations

import io
import json
import shutil
import tempfile
from pathlib import Path

import pytest
from conftest import POSE_TEST
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from poseclass.errors import PoseclassError

SETTINGS = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=12),
                    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
                    max_leaves=12)
CONTENT = st.binary(max_size=300) | st.text(max_size=300).map(str.encode)


def answers_or_says_why(read, *args) -> object:
    """``read(*args)``'s result, or None when it raised a one-line PoseclassError; anything else fails the test."""
    try:
        return read(*args)
    except PoseclassError as error:
        message = str(error)
        assert message and "\n" not in message and "Traceback" not in message, message
        return None


@pytest.fixture(scope="module")
def scratch():
    folder = Path(tempfile.mkdtemp(prefix="readers-"))
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


@SETTINGS
@given(content=CONTENT)
def test_labels_file(scratch, content):
    from poseclass.files import read_labels

    path = scratch / "labels.txt"
    path.write_bytes(content)
    labels = answers_or_says_why(read_labels, path)
    assert labels is None or all(isinstance(label, str) and label.strip() for label in labels)


@SETTINGS
@given(content=CONTENT)
def test_exclude_list(scratch, content):
    from poseclass.data.exclude import read_exclude

    path = scratch / "exclude.txt"
    path.write_bytes(content)
    answers_or_says_why(read_exclude, path, scratch)


VALID_MANIFEST = {
    "format_version": 2, "model": "pose_classifier.tflite", "labels": ["a", "b"],
    "movenet": {"variant": "lightning", "passes": 2, "refine_below": 0.7, "file": "movenet_lightning.tflite",
                "sha256": "0" * 64},
}


def _open_folder(folder: Path) -> object:
    from poseclass.classify.folder import ModelFolder

    opened = ModelFolder.open(folder)
    return opened.labels, opened.detector_settings, opened.classifier_path, opened.movenet_file()


@SETTINGS
@given(key=st.sampled_from([*VALID_MANIFEST, "movenet.variant", "movenet.file", "movenet.passes"]), value=JSON,
       raw=st.none() | CONTENT)
def test_manifest(scratch, key, value, raw):
    """A valid manifest with one entry replaced by any JSON value, or a manifest.json of any bytes."""
    folder = scratch / "model"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir()
    manifest = json.loads(json.dumps(VALID_MANIFEST))
    target, _, inner = key.partition(".")
    if inner:
        manifest[target][inner] = value
    else:
        manifest[target] = value
    (folder / "manifest.json").write_bytes(raw if raw is not None else json.dumps(manifest).encode())
    (folder / "labels.txt").write_text("a\nb\n")
    (folder / "movenet_lightning.tflite").write_bytes(b"not checked here")
    answers_or_says_why(_open_folder, folder)


@SETTINGS
@given(cell=st.text(max_size=10), column=st.integers(0, 55), drop=st.booleans(), raw=st.none() | CONTENT)
def test_keypoint_csv(scratch, cell, column, drop, raw):
    """A poseclass keypoint CSV with one cell garbled or one column gone, or a CSV of any bytes."""
    import csv

    from poseclass.data.preprocess import CSV_COLUMNS, read_csv
    from poseclass.training.dataset import KeypointDataset

    header = list(CSV_COLUMNS)
    row = ["tree/x.jpg", "tree", "1", "300", "300", *(["0.5"] * (len(header) - 5))]
    index = column % len(header)
    if drop:
        del header[index], row[index]
    else:
        row[index] = cell
    text = io.StringIO()
    csv.writer(text).writerows([header, row])
    path = scratch / "all.csv"
    path.write_bytes(raw if raw is not None else text.getvalue().encode())
    (scratch / "labels.txt").write_text("chair\ntree\n")
    answers_or_says_why(read_csv, path, ["chair", "tree"])
    answers_or_says_why(KeypointDataset.from_csv, path)


def _header_garbled(source: Path, at: int, junk: bytes) -> bytes:
    data = source.read_bytes()
    return data[:at] + junk + data[at + len(junk):]


@SETTINGS
@given(source=st.sampled_from(["image1.png", "image2.jpeg"]), at=st.integers(0, 600), junk=st.binary(min_size=1, max_size=16),
       cut=st.none() | st.integers(0, 2000))
def test_image_headers(scratch, source, at, junk, cut):
    """A real PNG or JPEG with bytes of its header replaced, or the file cut short."""
    from poseclass.images import is_image, load_rgb
    from poseclass.video.io import is_video

    data = _header_garbled(POSE_TEST / source, at, junk)
    path = scratch / source
    path.write_bytes(data if cut is None else data[:cut])
    image = answers_or_says_why(load_rgb, path)
    assert image is None or image.mode == "RGB"
    assert isinstance(is_image(path), bool) and isinstance(is_video(path), bool)
