"""Stage 1 on real images: schema, bad files, resume after a kill, clear errors."""

from __future__ import annotations

import shutil
import signal
import subprocess
import sys
import time

import numpy as np
import pandas as pd
import pytest
from conftest import CLASSES, POSE_TEST, yoga_subset
from PIL import Image
from test_images import SAMPLE, corrupt_png, rotated_with_exif

from poseclass.data.preprocess import CSV_COLUMNS, preprocess
from poseclass.training.dataset import KeypointDataset


def add_bad_files(tree):
    """One of each awkward file, spread over the class folders."""
    (tree / "chair" / "empty.jpg").write_bytes(b"")
    (tree / "chair" / "notes.jpg").write_text("not an image\n")
    (tree / "cobra" / "truncated.jpg").write_bytes(SAMPLE.read_bytes()[:3000])
    corrupt_png(tree / "cobra" / "corrupt.png")
    Image.open(SAMPLE).save(tree / "tree" / "webp_named.JPG", format="WEBP")
    rgba = Image.open(SAMPLE).convert("RGBA")
    rgba.putalpha(200)
    rgba.save(tree / "tree" / "rgba.png")
    Image.open(SAMPLE).convert("P", palette=Image.Palette.ADAPTIVE).save(tree / "tree" / "palette.png")
    rotated_with_exif(POSE_TEST / "image3.jpeg", tree / "tree" / "rotated.jpeg")
    (tree / "dog" / ".DS_Store").write_bytes(b"\0\0\0\1Bud1")
    (tree / ".hidden").mkdir()
    (tree / "warrior" / "blank.png").write_bytes(b"")
    Image.new("RGB", (300, 300), (128, 128, 128)).save(tree / "warrior" / "nobody.png")


@pytest.fixture(scope="module")
def processed(tmp_path_factory):
    tree = yoga_subset(tmp_path_factory.mktemp("data") / "yoga", per_class=4)
    add_bad_files(tree)
    out = tmp_path_factory.mktemp("out")
    return tree, out, preprocess(tree, out, workers=2, progress=False)


def test_schema_and_labels(processed):
    tree, out, result = processed
    assert list(result.csv) == ["all"]
    frame = pd.read_csv(out / "all.csv")
    assert list(frame.columns) == CSV_COLUMNS
    assert (out / "labels.txt").read_text().split() == list(CLASSES)
    assert list(frame["file"]) == sorted(frame["file"])
    for _, row in frame.iterrows():
        assert CLASSES[row["class_index"]] == row["class_name"] == row["file"].split("/")[0]
    xy = frame[[c for c in frame.columns if c.endswith(("_x", "_y"))]].to_numpy()
    assert np.nanmin(xy) > -0.5 and np.nanmax(xy) < 1.5  # normalised by image size
    scores = frame[[c for c in frame.columns if c.endswith("_score")]].to_numpy()
    assert ((scores >= 0) & (scores <= 1)).all()
    # 20 real images + webp-named-jpg, rgba, palette and the EXIF-rotated photo are all used.
    assert len(frame) == 24
    rotated = frame[frame["file"] == "tree/rotated.jpeg"].iloc[0]
    assert (rotated["width"], rotated["height"]) == (426, 640)  # upright, as displayed


def test_low_scores_are_kept_not_dropped(processed):
    _, out, _ = processed
    frame = pd.read_csv(out / "all.csv")
    scores = frame[[c for c in frame.columns if c.endswith("_score")]].to_numpy()
    assert (scores.min(axis=1) < 0.1).any(), "the tutorial dropped these; we keep them"


def test_bad_files_are_skipped_with_reasons(processed):
    _, out, result = processed
    skipped = pd.read_csv(out / "skipped.csv")
    reasons = dict(zip(skipped["file"], skipped["reason"]))
    assert set(reasons) == {
        "chair/empty.jpg", "chair/notes.jpg", "cobra/truncated.jpg", "cobra/corrupt.png",
        "warrior/blank.png", "warrior/nobody.png",
    }
    assert "empty" in reasons["chair/empty.jpg"]
    assert "not a known image format" in reasons["chair/notes.jpg"]
    assert "truncated" in reasons["cobra/truncated.jpg"]
    assert "no person" in reasons["warrior/nobody.png"]
    assert all(file in reason for file, reason in reasons.items())
    assert len(result.skipped) == 6
    assert dict(zip(skipped["file"], skipped["status"]))["warrior/nobody.png"] == "no_pose"
    assert dict(zip(skipped["file"], skipped["status"]))["chair/notes.jpg"] == "unreadable"


def test_rerun_reuses_everything_and_writes_the_same_csv(processed):
    tree, out, first = processed
    before = (out / "all.csv").read_bytes()
    again = preprocess(tree, out, workers=2, progress=False)
    assert again.n_computed == 0 and again.n_reused == first.n_computed + first.n_reused
    assert (out / "all.csv").read_bytes() == before


def test_keypoint_dataset_features_are_movenet_layout(processed):
    _, out, _ = processed
    data = KeypointDataset.from_csv(out / "all.csv")
    x = data.features()
    assert x.shape == (len(data), 1, 17, 3) and x.dtype == np.float32
    frame = data.frame
    # (y, x, score): y is the normalised y times height / longer side.
    np.testing.assert_allclose(x[:, 0, 0, 0], frame["nose_y"] * frame["height"] / np.maximum(frame["width"], frame["height"]), rtol=1e-5)
    np.testing.assert_allclose(x[:, 0, 0, 2], frame["nose_score"], rtol=1e-6)


def _cli(*args, **kwargs):
    return subprocess.run([sys.executable, "-m", "poseclass", *args], capture_output=True, text=True, **kwargs)


def test_killed_run_resumes_to_the_same_csv(tmp_path):
    tree = yoga_subset(tmp_path / "yoga", per_class=12)
    clean = _cli("preprocess", str(tree), "--out", str(tmp_path / "clean"), "--workers", "1", "--json")
    assert clean.returncode == 0, clean.stderr
    out = tmp_path / "killed"
    proc = subprocess.Popen([sys.executable, "-m", "poseclass", "preprocess", str(tree), "--out", str(out), "--workers", "1"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    journal = out / ".work"
    deadline = time.time() + 120
    while time.time() < deadline:
        lines = sum(len(p.read_text().splitlines()) for p in journal.glob("*.jsonl")) if journal.exists() else 0
        if lines >= 10:
            break
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert not (out / "all.csv").exists(), "killed before the end: no CSV yet, only the journal"
    resumed = _cli("preprocess", str(tree), "--out", str(out), "--workers", "1", "--json")
    assert resumed.returncode == 0, resumed.stderr
    import json

    summary = json.loads(resumed.stdout)
    assert summary["reused"] >= 10 and summary["computed"] <= 50
    assert (out / "all.csv").read_bytes() == (tmp_path / "clean" / "all.csv").read_bytes()


def test_train_test_layout_writes_one_csv_per_split(tmp_path):
    yoga_subset(tmp_path / "data" / "train", per_class=2)
    yoga_subset(tmp_path / "data" / "test", per_class=1, subjects=("guy2",))
    result = preprocess(tmp_path / "data", tmp_path / "out", workers=1, progress=False, variant="lightning")
    assert set(result.csv) == {"train", "test"}
    assert result.n_rows == {"train": 10, "test": 5}
    assert pd.read_csv(result.csv["test"])["file"].str.startswith("test/").all()


@pytest.mark.parametrize(
    "make,message",
    [
        (lambda d: None, "no such folder"),
        (lambda d: [(d / c).mkdir(parents=True) for c in CLASSES], "hold no files"),
        (lambda d: d.mkdir(), "no class folders"),
        (lambda d: shutil.copytree(POSE_TEST, d / "only_class"), "only one class"),
    ],
)
def test_clear_errors_for_unusable_folders(tmp_path, make, message):
    data = tmp_path / "data"
    make(data)
    done = _cli("preprocess", str(data), "--out", str(tmp_path / "out"))
    assert done.returncode == 2
    assert message in done.stderr and "Traceback" not in done.stderr
