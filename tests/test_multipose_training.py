"""Training on MoveNet MultiPose keypoints (``--pose-model multipose``): preprocess, train, a folder that predicts offline."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import CLASSES, yoga_subset
from PIL import Image

from poseclass.data.preprocess import CSV_COLUMNS, KEYPOINT_COLUMNS, preprocess
from poseclass.files import sha256


@pytest.fixture(autouse=True)
def _cli_env(monkeypatch):
    """main() sets POSECLASS_QUIET/VERBOSE in os.environ; give them back after each test."""
    for name in ("POSECLASS_QUIET", "POSECLASS_VERBOSE"):
        monkeypatch.setenv(name, "")


@pytest.fixture(scope="module")
def tree(tmp_path_factory):
    """36 real photos (6 subjects' worth per class) and one image with nobody in it."""
    root = yoga_subset(tmp_path_factory.mktemp("mp") / "yoga", per_class=7)
    Image.new("RGB", (320, 240), (128, 128, 128)).save(root / "tree" / "nobody.png")
    return root


@pytest.fixture(scope="module")
def multipose():
    from poseclass.pose.multipose import MultiPoseNet

    return MultiPoseNet(num_threads=2)


@pytest.fixture(scope="module")
def processed(tree, tmp_path_factory):
    out = tmp_path_factory.mktemp("mp_out") / "out"
    return out, preprocess(tree, out, variant="multipose", workers=2, progress=False)


@pytest.fixture(scope="module")
def folder(tree, tmp_path_factory):
    """A model trained on MultiPose keypoints (few epochs, no "unknown": the folder, not the accuracy, is under test)."""
    from poseclass.training.train import train

    return train(tree, tmp_path_factory.mktemp("mp_model") / "model", variant="multipose", epochs=40, unknown=False,
                 progress=False).model_dir


def test_csv_holds_multipose_top_person_in_the_single_pose_frame(tree, processed, multipose, thunder_int8):
    out, _ = processed
    frame = pd.read_csv(out / "all.csv")
    assert list(frame.columns) == CSV_COLUMNS and len(frame) == 35
    meta = json.loads((out / "preprocess.json").read_text())
    assert meta["variant"] == "multipose" and meta["passes"] is None and meta["refine_below"] is None
    assert meta["movenet_sha256"] == sha256(multipose.model_path)
    distances = []
    for _, row in frame.iterrows():
        kp = row[KEYPOINT_COLUMNS].to_numpy(float).reshape(17, 3)
        xy = kp[:, :2] * [row["width"], row["height"]]
        top = multipose.detect(tree / row["file"], max_people=1, min_person_score=0.0)[0].pose
        np.testing.assert_allclose(xy, top.xy, atol=1e-2)  # pixels: what MultiPose's top person says
        np.testing.assert_allclose(kp[:, 2], top.scores, atol=1e-5)
        single = thunder_int8.detect(tree / row["file"])
        both = (single.scores >= 0.3) & (top.scores >= 0.3)
        if both.sum() >= 10:  # a clear photo: both models see the whole body
            side = max(row["width"], row["height"])
            distances.append(np.median(np.linalg.norm(single.xy[both] - xy[both], axis=1)) / side)
    # Same pose, same frame as single-pose MoveNet, up to MultiPose's keypoint error (about 1% of the image).
    assert len(distances) >= 15
    assert np.median(distances) < 0.02 and max(distances) < 0.03, distances
    skipped = pd.read_csv(out / "skipped.csv")
    assert list(skipped["file"]) == ["tree/nobody.png"] and list(skipped["status"]) == ["no_pose"]
    assert "no person found" in skipped["reason"][0]


def test_any_executor_writes_the_same_files(tree, processed, tmp_path):
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(2) as pool:
        result = preprocess(tree, tmp_path / "out", variant="multipose", progress=False, executor=pool)
    assert result.n_computed == 36
    for name in ("all.csv", "skipped.csv", "labels.txt"):
        assert (tmp_path / "out" / name).read_bytes() == (processed[0] / name).read_bytes(), name


def test_dask_cluster_writes_the_same_files(tree, processed, tmp_path):
    """Workers build MultiPose from the model bytes the client scatters, as for single-pose MoveNet."""
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
                                  silence_logs=50) as cluster, distributed.Client(cluster) as client:
        result = preprocess(tree, tmp_path / "out", variant="multipose", progress=False, executor=client)
    assert result.n_computed == 36
    for name in ("all.csv", "skipped.csv", "labels.txt"):
        assert (tmp_path / "out" / name).read_bytes() == (processed[0] / name).read_bytes(), name


def test_multipose_keypoints_never_share_a_cache_or_journal_with_single_pose(tree, processed, multipose,
                                                                             thunder_int8):
    from poseclass.data.preprocess import cache_dir_for
    from poseclass.errors import ModelError
    from poseclass.pose.models import ensure_model

    mine = cache_dir_for(tree, multipose.model_path, "multipose")
    assert mine != cache_dir_for(tree, thunder_int8.model_path, "thunder-int8")
    assert mine.name.startswith("multipose-")
    journals = [p.name for p in (processed[0] / ".work").glob("*.jsonl")]
    assert journals == [f"all.multipose-{sha256(multipose.model_path)[:12]}.jsonl"]
    with pytest.raises(ModelError):  # a single-pose file cannot pass for MultiPose (test_multipose: nor the reverse)
        ensure_model("multipose", thunder_int8.model_path)


def test_trained_folder_carries_multipose_and_predicts_offline(folder, tree, multipose, tmp_path, monkeypatch,
                                                              capsys):
    from poseclass.classify.pipeline import PosePipeline
    from poseclass.pose.multipose import TopPerson

    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["movenet"]["variant"] == "multipose" and manifest["movenet"]["same_as_training_keypoints"]
    assert "passes" not in manifest["movenet"]
    assert manifest["movenet"]["sha256"] == sha256(multipose.model_path) == sha256(folder / "movenet_multipose.tflite")
    assert not (folder / "pose_fused.tflite").exists() and manifest["deploy"]["fused"] is None

    copy = shutil.copytree(folder, tmp_path / "copied")
    monkeypatch.setenv("POSECLASS_HOME", str(tmp_path / "empty-cache"))  # nothing cached ...
    monkeypatch.setenv("POSECLASS_OFFLINE", "1")  # ... and nothing to fetch: only the folder's files
    pipe = PosePipeline.load(copy)
    assert isinstance(pipe.movenet, TopPerson) and pipe.multipose.model_path == copy / "movenet_multipose.tflite"
    photo = sorted((tree / "dog").glob("*.jpg"))[0]
    result = pipe.predict(photo)
    assert result.status == "ok" and result.label in CLASSES
    top = multipose.detect(photo, max_people=1, min_person_score=0.0)[0]
    np.testing.assert_allclose(result.pose.xy, top.pose.xy, atol=1e-3)  # predict classifies the top person
    assert pipe.predict_people(photo, max_people=1, min_person_score=0.0)[0].predictions == result.predictions
    assert pipe.predict(tree / "tree" / "nobody.png").status == "no_pose"

    # Video: the tracker runs MultiPose on a crop around the body it found in the frame before.
    from poseclass.images import load_rgb
    from poseclass.video.person import VideoClassifier

    frame = Image.new("RGB", (900, 600), (128, 128, 128))
    frame.paste(load_rgb(photo), (550, 250))
    video = VideoClassifier(pipe)
    frames = [video.push(frame, t / 10) for t in range(3)]
    assert [f.status for f in frames] == ["ok"] * 3 and frames[-1].label in CLASSES
    tracked, whole = video.tracker.crop, pipe.predict(frame).pose
    assert tracked is not None and tracked.side < 600
    cropped = pipe.movenet.detect_in(frame, tracked)
    confident = (cropped.scores >= 0.3) & (whole.scores >= 0.3)
    assert confident.sum() >= 5
    assert np.median(np.linalg.norm(cropped.xy[confident] - whole.xy[confident], axis=1)) < 0.03 * tracked.side

    from poseclass.cli import main

    assert main(["predict", str(photo), "--model", str(copy), "--multi", "--min-person-score", "0", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out[0]["people"][0]["predictions"][0]["label"] == result.label
    assert main(["evaluate", str(tree), "--model", str(copy), "--workers", "1", "--json"]) == 0
    metrics = json.loads(capsys.readouterr().out)
    assert metrics["n_images"] == 36 and metrics["n_no_pose"] == 1  # the empty image counts as wrong
    monkeypatch.setenv("POSECLASS_QUIET", "")  # --json above silenced notes
    assert main(["deploy", str(copy)]) == 0
    assert "no pose_fused.tflite" in capsys.readouterr().err and not (copy / "pose_fused.tflite").exists()


def test_single_pose_folder_loads_movenet_only_when_asked(folder, tree, tmp_path, monkeypatch):
    """``predict`` on a single-pose folder never builds MultiPose; ``predict --multi`` builds it and reads each
    person with the folder's single-pose MoveNet (top-down): each model once."""
    from poseclass.classify.pipeline import PosePipeline
    from poseclass.pose import litert

    copy = shutil.copytree(folder, tmp_path / "single")
    manifest = json.loads((copy / "manifest.json").read_text())
    manifest["movenet"] = {"variant": "thunder-int8"}  # as written before folders carried MoveNet: from the cache
    (copy / "manifest.json").write_text(json.dumps(manifest))
    opened = []
    real = litert.interpreter
    monkeypatch.setattr(litert, "interpreter", lambda model, *a, **k: opened.append(model) or real(model, *a, **k))
    pipe = PosePipeline.load(copy)
    photo = sorted((tree / "chair").glob("*.jpg"))[0]
    pipe.predict(photo)
    def movenets() -> list[str]:
        return sorted(p.name for p in map(Path, opened) if p.name.startswith("movenet_"))

    assert movenets() == ["movenet_thunder-int8.tflite"], opened
    pipe.predict_people(photo)
    pipe.predict_people(photo)
    assert movenets() == ["movenet_multipose.tflite", "movenet_thunder-int8.tflite"], opened
    assert pipe.movenet.variant == "thunder-int8" and pipe.people.movenet is pipe.movenet


@pytest.mark.parametrize("argv,message", [
    (["preprocess", "DATA", "--out", "OUT", "--pose-model", "multipose", "--passes", "2"],
     "--passes is for single-pose MoveNet; MultiPose runs once per image"),
])
def test_cli_user_errors_are_one_line(argv, message, capsys):
    from poseclass.cli import main

    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1


def test_api_refuses_crop_settings_for_multipose(tree, folder, tmp_path):
    from poseclass.classify.pipeline import PosePipeline

    with pytest.raises(ValueError, match="MultiPose runs once per image"):
        preprocess(tree, tmp_path / "out", variant="multipose", passes=2, progress=False)
    with pytest.raises(ValueError, match="MultiPose runs once per image"):
        PosePipeline.load(folder, passes=2)


def test_help_offers_multipose_for_training_only(capsys):
    from poseclass.cli import main

    for command in ("preprocess", "train"):
        with pytest.raises(SystemExit):
            main([command, "--help"])
        assert "multipose: MultiPose's most confident person" in " ".join(capsys.readouterr().out.split())
    with pytest.raises(SystemExit) as caught:
        main(["detect", "X.png", "--pose-model", "multipose"])
    assert caught.value.code == 2 and "invalid choice" in capsys.readouterr().err
