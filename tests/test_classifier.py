"""Stage 2 and inference on real keypoints: accuracy on an unseen subject, export fidelity, invariances."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest
from conftest import CLASSES, HELD_OUT, POSE_TEST, SUBJECT, YOGA_TRAIN, yoga_subset

from poseclass.pose.keypoints import MIRROR_PERMUTATION
from poseclass.pose.models import DEFAULT_VARIANT
from poseclass.training.dataset import KeypointDataset


def test_unseen_subject_accuracy_over_all_its_images(trained):
    from poseclass.classify.pipeline import Classifier
    from poseclass.data.evaluate import score

    clf, out, unseen, _ = trained
    classifier = Classifier(out / "pose_classifier.tflite", clf.labels)
    metrics, _ = score(classifier, unseen.features(), unseen.y, unseen.meta.get("skipped", []), clf.labels)
    n_files = len(list(YOGA_TRAIN.glob(f"*/{HELD_OUT}_*")))
    assert metrics["n_images"] == n_files, "every image of the subject counts, none dropped"
    assert metrics["accuracy"] >= 0.95, metrics


def test_export_files_and_contract(trained):
    clf, out, _, _ = trained
    assert (out / "pose_classifier.tflite").stat().st_size <= 30 * 1024
    assert (out / "labels.txt").read_text().split() == list(CLASSES)
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["contract"]["input"]["shape"] == [1, 1, 17, 3]
    assert manifest["contract"]["output"]["shape"] == [1, 5]
    assert manifest["movenet"]["variant"] == DEFAULT_VARIANT == "thunder-int8"
    assert manifest["training"]["best_epoch"] >= 1 and manifest["versions"]["numpy"]
    metrics = json.loads((out / "metrics.json").read_text())
    assert set(metrics["validation"]["per_class"]) == set(CLASSES)
    from poseclass.pose import litert

    interpreter = litert.interpreter(out / "pose_classifier.tflite", 1)
    assert list(interpreter.get_input_details()[0]["shape"]) == [1, 1, 17, 3]
    assert list(interpreter.get_output_details()[0]["shape"]) == [1, 5]


def test_tflite_matches_keras(trained, yoga):
    from poseclass.classify.pipeline import Classifier

    clf, out, _, _ = trained
    x = yoga.features()[::5]
    tflite = Classifier(out / "pose_classifier.tflite", clf.labels)
    assert np.abs(tflite.predict_proba(x) - clf.predict_proba(x)).max() <= 1e-5
    one_by_one = np.concatenate([tflite.predict_proba(row[None]) for row in x[:20]])
    assert np.abs(one_by_one - tflite.predict_proba(x[:20])).max() <= 1e-6


def test_batch_translation_scale_and_mirror_invariance(trained, yoga):
    clf, _, _, _ = trained
    x = yoga.features()[::7]
    base = clf.predict_proba(x)
    singles = np.concatenate([clf.predict_proba(row[None]) for row in x[:10]])
    np.testing.assert_allclose(singles, base[:10], atol=1e-5)
    moved = x.copy()
    moved[..., 0] += 0.31
    moved[..., 1] -= 0.17
    np.testing.assert_allclose(clf.predict_proba(moved), base, atol=1e-4)
    scaled = x.copy()
    scaled[..., :2] *= 3.7
    np.testing.assert_allclose(clf.predict_proba(scaled), base, atol=1e-4)
    mirrored = x[:, :, list(MIRROR_PERMUTATION)].copy()
    mirrored[..., 1] = 1.0 - mirrored[..., 1]
    np.testing.assert_allclose(clf.predict_proba(mirrored), base, atol=1e-4)
    assert (clf.predict(mirrored) == clf.predict(x)).all()


def validation_loss(clf, data) -> float:
    """Cross-entropy of the true class, as training reports it (the exported probabilities are the network's,
    without its "other" class, so -log p of the true class is the same number)."""
    picked = clf.predict_proba(data.features())[np.arange(len(data.y)), data.y]
    return float(-np.log(np.clip(picked, 1e-7, 1 - 1e-7)).mean())


def test_the_fixed_schedule_keeps_the_last_epochs_weights(trained):
    from poseclass.training.classifier import TrainConfig

    clf, _, _, val_data = trained
    assert len(clf.history["loss"]) == clf.best_epoch == TrainConfig.epochs
    assert validation_loss(clf, val_data) == pytest.approx(clf.history["val_loss"][-1], rel=1e-3)


@pytest.mark.slow
def test_early_stopping_restores_the_best_weights(yoga):
    from poseclass.training.classifier import PoseClassifier

    subjects = np.array(yoga.groups(SUBJECT))
    train_data, val_data = yoga.subset(subjects != HELD_OUT).split(0.2, SUBJECT, seed=0)
    clf = PoseClassifier.create(train_data, val_data, verbose=0, early_stopping=True, epochs=150, patience=5)
    assert len(clf.history["loss"]) < 150, "it stopped early"
    assert validation_loss(clf, val_data) == pytest.approx(min(clf.history["val_loss"]), rel=1e-3)
    assert clf.best_epoch == int(np.argmin(clf.history["val_loss"])) + 1 < len(clf.history["loss"])


def _predict_cli(args, env=None):
    return subprocess.run([sys.executable, "-m", "poseclass", "predict", *args], capture_output=True, text=True, env=env)


def test_predict_without_tensorflow(trained, tmp_path):
    """TensorFlow made unimportable: predict still answers, tree first for image3."""
    _, out, _, _ = trained
    blocker = tmp_path / "block" / "tensorflow"
    blocker.mkdir(parents=True)
    (blocker / "__init__.py").write_text("raise ImportError('TensorFlow must not be imported by predict')\n")
    (tmp_path / "bad.jpg").write_text("not an image")
    env = {**os.environ, "PYTHONPATH": f"{blocker.parent}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
    done = _predict_cli([str(POSE_TEST / "image3.jpeg"), str(tmp_path / "bad.jpg"), "--model", str(out), "--json"], env)
    assert done.returncode == 1, done.stderr  # one file failed
    results = json.loads(done.stdout)
    assert results[0]["status"] == "ok" and results[0]["predictions"][0]["label"] == "tree"
    assert len(results[0]["keypoints"]) == 17
    assert results[1]["status"] == "error" and "bad.jpg" in results[1]["error"]


def test_no_person_is_an_explicit_answer(trained, tmp_path):
    from PIL import Image

    _, out, _, _ = trained
    Image.new("RGB", (320, 240), (128, 128, 128)).save(tmp_path / "empty.png")
    done = _predict_cli([str(tmp_path / "empty.png"), "--model", str(out), "--json"])
    result = json.loads(done.stdout)[0]
    assert done.returncode == 1 and result["status"] == "no_pose" and result["predictions"] == []


def test_evaluate_counts_every_image(trained, tmp_path):
    _, out, _, _ = trained
    tree = yoga_subset(tmp_path / "eval", per_class=2, subjects=(HELD_OUT, "girl2"))
    (tree / "tree" / "broken.jpg").write_bytes(b"")
    done = subprocess.run([sys.executable, "-m", "poseclass", "evaluate", str(tree), "--model", str(out), "--json"],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    metrics = json.loads(done.stdout)
    assert metrics["n_images"] == 11 and metrics["n_unreadable"] == 1 and metrics["n_no_pose"] == 0
    assert 8 <= metrics["n_correct"] <= 10, "a good model on 10 real images; the broken file is never right"
    assert {k: v["support"] for k, v in metrics["per_class"].items()} == {c: 2 + (c == "tree") for c in CLASSES}
    assert os.path.exists(metrics["picture"])


@pytest.mark.slow
def test_same_seed_same_model(yoga):
    from poseclass.training.classifier import PoseClassifier

    small = yoga.subset(np.arange(len(yoga)) % 5 == 0)
    a = PoseClassifier.create(small, verbose=0, epochs=5, seed=3)
    b = PoseClassifier.create(small, verbose=0, epochs=5, seed=3)
    for wa, wb in zip(a.model.get_weights(), b.model.get_weights()):
        np.testing.assert_array_equal(wa, wb)


def test_tutorial_csv_is_accepted(yoga, tmp_path):
    """The public tutorial's CSV (upper-case names, pixel x/y, class_no) loads as the same poses."""
    import pandas as pd

    from poseclass.pose.keypoints import KEYPOINT_NAMES

    frame = yoga.frame.head(30)
    columns = {"file_name": frame["file"]}
    for name in KEYPOINT_NAMES:
        columns[f"{name.upper()}_x"] = frame[f"{name}_x"] * frame["width"]
        columns[f"{name.upper()}_y"] = frame[f"{name}_y"] * frame["height"]
        columns[f"{name.upper()}_score"] = frame[f"{name}_score"]
    columns["class_no"] = frame["class_index"]
    columns["class_name"] = frame["class_name"]
    pd.DataFrame(columns).to_csv(tmp_path / "train_data.csv", index=False)
    loaded = KeypointDataset.from_csv(tmp_path / "train_data.csv", list(CLASSES))
    ours = yoga.subset(np.arange(len(yoga)) < 30).features()
    np.testing.assert_allclose(loaded.features()[..., :2] / 300, ours[..., :2], atol=1e-5)  # pixels vs normalised
    np.testing.assert_allclose(loaded.features()[..., 2], ours[..., 2], atol=1e-6)
    np.testing.assert_array_equal(loaded.y, yoga.y[:30])


def test_augmentation_acts_in_training_only_and_levers_export_small(yoga):
    """Camera augmentation changes what the model sees in training, nothing at inference; the levers stay ≤ 30 KB."""
    from poseclass.training.classifier import TrainConfig, build_model, to_tflite

    x = yoga.features()[::50]
    camera = TrainConfig(rotation=15, stretch=0.3, shear=0.2, scale=0.1, jitter=0.02, keypoint_dropout=0, dropout=0)
    augmented, plain = build_model(5, camera), build_model(5, TrainConfig(keypoint_dropout=0, dropout=0))
    plain.set_weights(augmented.get_weights())
    np.testing.assert_allclose(augmented(x, training=False), plain(x, training=False), atol=1e-6)
    assert np.abs(np.asarray(augmented(x, training=True)) - np.asarray(plain(x, training=True))).max() > 1e-3
    levers = (camera, TrainConfig(heads=3, hidden=(16, 8)), TrainConfig(normalization="robust"),
              TrainConfig(knn_per_class=3, hidden=(24, 12), unknown=False))
    for config in levers:
        assert len(to_tflite(build_model(10, config))) <= 30 * 1024
