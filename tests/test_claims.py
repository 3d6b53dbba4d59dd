"""Every documented option does what the README says (small real runs on real keypoints)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import numpy as np
import pytest
from conftest import CLASSES, POSE_TEST, yoga_subset

from poseclass.pose.keypoints import MIRROR_PERMUTATION


def cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "poseclass", *args], capture_output=True, text=True)


@pytest.fixture(scope="module")
def small(yoga):
    """Every 5th pose of the yoga set: enough to train a few epochs in seconds."""
    return yoga.subset(np.arange(len(yoga)) % 5 == 0)


def _mirror(x: np.ndarray) -> np.ndarray:
    out = x[:, :, list(MIRROR_PERMUTATION), :].copy()
    out[..., 1] = 1.0 - out[..., 1]
    return out


def test_mirror_off_tells_a_pose_from_its_mirror_and_on_does_not(small):
    from poseclass.training.classifier import PoseClassifier

    x = small.features()[:50]
    on = PoseClassifier.create(small, verbose=0, epochs=5, seed=1)
    off = PoseClassifier.create(small, verbose=0, epochs=5, seed=1, mirror=False)
    np.testing.assert_allclose(on.predict_proba(x), on.predict_proba(_mirror(x)), atol=1e-6)
    assert np.abs(off.predict_proba(x) - off.predict_proba(_mirror(x))).max() > 1e-3


@pytest.mark.slow
def test_no_mirror_end_to_end_is_recorded_and_exported(tmp_path):
    tree = yoga_subset(tmp_path / "tree", per_class=4)
    done = cli("train", str(tree), "--out", str(tmp_path / "m"), "--epochs", "3", "--no-mirror", "-q")
    assert done.returncode == 0, done.stderr
    manifest = json.loads((tmp_path / "m" / "manifest.json").read_text())
    assert manifest["training"]["mirror"] is False and manifest["normalization"]["mirror_average"] is False


def test_use_scores_false_ignores_the_scores(small):
    from poseclass.training.classifier import PoseClassifier

    clf = PoseClassifier.create(small, verbose=0, epochs=3, use_scores=False)
    x = small.features()[:20]
    rescored = x.copy()
    rescored[..., 2] = np.random.default_rng(0).uniform(size=rescored[..., 2].shape)
    np.testing.assert_allclose(clf.predict_proba(x), clf.predict_proba(rescored), atol=1e-6)


def test_class_weights_balance_unbalanced_classes(small):
    from poseclass.training.classifier import class_weights

    y = small.y
    keep = (y != 0) | (np.arange(len(y)) % 4 == 0)  # a quarter of the first class
    weights = class_weights(y[keep], len(small.labels))
    counts = np.bincount(y[keep], minlength=len(small.labels))
    assert weights is not None and weights[0] == pytest.approx(len(y[keep]) / (len(counts) * counts[0]))
    assert weights[0] > 2 * weights[1]
    assert class_weights(np.repeat(np.arange(5), 3), 5) is None, "balanced: no weights"


def test_keypoint_dropout_acts_in_training_only():
    import keras

    from poseclass.training.classifier import KeypointDropout

    layer = KeypointDropout(rate=0.5, seed=0)
    x = np.random.default_rng(0).uniform(size=(64, 17, 3)).astype(np.float32)
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(layer(x, training=False)), x)
    changed = keras.ops.convert_to_numpy(layer(x, training=True)) != x
    assert 0.3 < changed.any(axis=-1).mean() < 0.7


def test_fit_on_plain_arrays_then_load_the_export(small, tmp_path):
    from poseclass.training.classifier import PoseClassifier, TrainConfig

    config = TrainConfig(epochs=4)
    clf = PoseClassifier(small.labels, config).fit(small.features(), small.y, verbose=0)
    probs = clf.predict_proba(small.features()[:10])
    # the real classes only: what the network gives its "other" class (unknown poses) is left out
    assert probs.shape == (10, len(CLASSES)) and (probs.sum(axis=1) <= 1 + 1e-5).all()
    out = clf.export(tmp_path / "model")
    loaded = PoseClassifier.load(out)
    assert loaded.labels == clf.labels and loaded.config.epochs == 4 and loaded.config.unknown
    assert loaded.unknown["unknown_below"] == clf.unknown["unknown_below"]
    np.testing.assert_allclose(loaded.predict_proba(small.features()[:10]), probs, atol=1e-6)


def test_create_leaves_the_callers_config_alone(small):
    from poseclass.training.classifier import PoseClassifier, TrainConfig

    config = TrainConfig(epochs=50)
    clf = PoseClassifier.create(small, config=config, verbose=0, epochs=2)
    assert config.epochs == 50 and clf.config.epochs == 2


def test_top_k_limits_the_answer(model_dir):
    done = cli("predict", str(POSE_TEST / "image3.jpeg"), "--model", str(model_dir), "--json", "--top-k", "2")
    result = json.loads(done.stdout)[0]
    assert [p["label"] for p in result["predictions"]][:1] == ["tree"] and len(result["predictions"]) == 2
    text = cli("predict", str(POSE_TEST / "image3.jpeg"), "--model", str(model_dir), "--top-k", "1").stdout
    assert text.count(",") == 0 and "tree" in text


@pytest.mark.slow
def test_train_on_a_folder_of_csvs_and_on_the_tutorial_csvs(tmp_path, yoga):
    keypoints = tmp_path / "keypoints"
    tree = yoga_subset(tmp_path / "tree", per_class=6)
    assert cli("preprocess", str(tree), "--out", str(keypoints), "-q").returncode == 0
    done = cli("train", str(keypoints), "--out", str(tmp_path / "m1"), "--epochs", "3", "-q", "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["metrics"]["split"]["train"] + json.loads(done.stdout)["metrics"]["split"][
        "validation"] == 30
    tutorial = tmp_path / "tutorial"
    tutorial.mkdir()
    frame = yoga.frame
    for name, part in (("train_data.csv", frame.iloc[::7]), ("test_data.csv", frame.iloc[3::40])):
        columns = {"file_name": part["file"]}
        for kp in [c[:-2] for c in part.columns if c.endswith("_x")]:
            columns[f"{kp.upper()}_x"] = part[f"{kp}_x"] * part["width"]
            columns[f"{kp.upper()}_y"] = part[f"{kp}_y"] * part["height"]
            columns[f"{kp.upper()}_score"] = part[f"{kp}_score"]
        columns.update(class_no=part["class_index"], class_name=part["class_name"])
        import pandas as pd

        pd.DataFrame(columns).to_csv(tutorial / name, index=False)
    done = cli("train", str(tutorial), "--out", str(tmp_path / "m2"), "--epochs", "3", "-q", "--json")
    assert done.returncode == 0, done.stderr
    metrics = json.loads(done.stdout)["metrics"]
    assert metrics["test"]["n_images"] == len(frame.iloc[3::40])


def test_keypoint_cache_follows_changed_and_deleted_files(tmp_path):
    from poseclass.data.preprocess import preprocess

    tree = yoga_subset(tmp_path / "tree", per_class=2)
    first = preprocess(tree, tmp_path / "out", variant="lightning", workers=1, progress=False)
    assert first.n_computed == 10
    changed, source = sorted((tree / "dog").iterdir())[0], sorted((tree / "tree").iterdir())[0]
    shutil.copy(source, changed)  # new content under an old name
    sorted((tree / "cobra").iterdir())[0].unlink()
    second = preprocess(tree, tmp_path / "out", variant="lightning", workers=1, progress=False)
    assert second.n_computed == 1 and second.n_reused == 8 and second.n_rows["all"] == 9
    rows = second.csv["all"].read_text().splitlines()
    dog_row = next(r for r in rows if r.startswith(f"dog/{changed.name}"))
    tree_row = next(r for r in rows if r.startswith(f"tree/{source.name}"))
    assert dog_row.split(",")[3:] == tree_row.split(",")[3:], "the changed file got its new picture's keypoints"


@pytest.mark.slow
def test_with_a_test_split_every_training_image_is_fitted_and_test_scores_it(tmp_path):
    tree = tmp_path / "tree"
    yoga_subset(tree / "train", per_class=4, subjects=("girl2", "guy2"))
    yoga_subset(tree / "test", per_class=1, subjects=("girl1",))
    done = cli("train", str(tree), "--out", str(tmp_path / "m"), "--epochs", "3", "-q", "--json")
    assert done.returncode == 0, done.stderr
    metrics = json.loads(done.stdout)["metrics"]
    assert metrics["split"]["train"] == 20 and metrics["split"]["validation"] == 0
    assert metrics["train"]["n_images"] == 20 and metrics["test"]["n_images"] == 5 and "validation" not in metrics
    asked = cli("train", str(tree), "--out", str(tmp_path / "m2"), "--epochs", "3", "-q", "--json",
                "--early-stopping")  # early stopping needs a validation split: 0.2 (at least one pose per class)
    assert asked.returncode == 0, asked.stderr
    metrics = json.loads(asked.stdout)["metrics"]
    assert metrics["split"] == {"train": 15, "validation": 5, "validation_by": "stratified random"}
    assert metrics["early_stopping"] is True and metrics["validation"]["n_images"] == 5


def test_train_writes_its_pictures(model_dir, tmp_path):
    tree = yoga_subset(tmp_path / "tree", per_class=4)
    done = cli("train", str(tree), "--out", str(tmp_path / "m"), "--epochs", "3", "-q")
    assert done.returncode == 0, done.stderr
    from PIL import Image

    for name in ("training_curves.png", "confusion_matrix.png", "misclassified.png"):
        with Image.open(tmp_path / "m" / name) as picture:
            assert picture.width > 300 and picture.height > 150


def test_models_list_and_detect_json_say_what_they_found():
    listed = cli("models", "list", "--json")
    rows = {row["variant"]: row for row in json.loads(listed.stdout)}
    assert set(rows) == {"lightning", "thunder", "thunder-int8", "multipose"}
    assert rows["multipose"]["input_size"] == 384 and rows["multipose"]["verified"]
    assert rows["thunder-int8"]["input_size"] == 256 and rows["thunder-int8"]["verified"]
    assert len(rows["thunder-int8"]["sha256"]) == 64
    detected = json.loads(cli("detect", str(POSE_TEST / "image3.jpeg"), "--json").stdout)[0]
    assert detected["person"] is True and detected["width"] > 0 and len(detected["keypoints"]) == 17
    nose = detected["keypoints"][0]
    assert nose["name"] == "nose" and 0 <= nose["x"] <= detected["width"] and nose["score"] > 0.3


def test_labels_with_spaces_survive_a_reload(tmp_path):
    from poseclass.training.dataset import KeypointDataset

    tree = yoga_subset(tmp_path / "tree", per_class=3)
    (tree / "warrior").rename(tree / "warrior two")
    done = cli("preprocess", str(tree), "--out", str(tmp_path / "k"), "-q")
    assert done.returncode == 0, done.stderr
    data = KeypointDataset.from_csv(tmp_path / "k" / "all.csv")
    assert data.labels == ["chair", "cobra", "dog", "tree", "warrior two"]
    assert sum(data.y == 4) == 3


def test_train_help_states_the_real_defaults():
    from poseclass.cli import build_parser
    from poseclass.training.classifier import TrainConfig

    train = build_parser()._subparsers._group_actions[0].choices["train"]
    text = " ".join(train.format_help().split())
    assert f"(default {TrainConfig.epochs};" in text and f"stop after {TrainConfig.patience} epochs" in text
    # the options TrainConfig also holds: the same defaults, said in the help
    defaults = {a.dest: a.default for a in train._actions}
    for name in ("arm_swap", "view", "unknown_quantile"):
        assert defaults[name] == getattr(TrainConfig, name), name
        assert f"(default {getattr(TrainConfig, name)};" in text, name
