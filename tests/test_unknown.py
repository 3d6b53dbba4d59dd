""""Unknown" (issue 22): a pose that is none of the model's classes gets no class.

Pure logic on synthetic keypoints for the negatives and the threshold; the real trained model
(five CGI subjects, real MoveNet) for the rule end to end: manifest, metadata, predict, evaluate,
and MediaPipe's ImageClassifier on the fused model, which must drop an unknown pose by itself.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from conftest import HELD_OUT, YOGA_TRAIN

from poseclass.pose.keypoints import INDEX, NUM_KEYPOINTS

UPRIGHT = YOGA_TRAIN / "tree" / "girl1_tree086.jpg"


def stick_figures(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Two classes of normalised standing poses (arms down / arms up), a little noise each."""
    rng = np.random.default_rng(seed)
    base = np.zeros((NUM_KEYPOINTS, 3), np.float32)
    base[:, 2] = 0.9
    spots = {"nose": (-0.5, 0), "left_eye": (-0.52, 0.02), "right_eye": (-0.52, -0.02), "left_ear": (-0.5, 0.04),
             "right_ear": (-0.5, -0.04), "left_shoulder": (-0.4, 0.1), "right_shoulder": (-0.4, -0.1),
             "left_hip": (0, 0.07), "right_hip": (0, -0.07), "left_knee": (0.25, 0.07), "right_knee": (0.25, -0.07),
             "left_ankle": (0.5, 0.07), "right_ankle": (0.5, -0.07)}
    for name, yx in spots.items():
        base[INDEX[name], :2] = yx
    down, up = base.copy(), base.copy()
    for side, sign in (("left", 1), ("right", -1)):
        down[INDEX[f"{side}_elbow"], :2] = (-0.2, 0.12 * sign)
        down[INDEX[f"{side}_wrist"], :2] = (0.0, 0.13 * sign)
        up[INDEX[f"{side}_elbow"], :2] = (-0.6, 0.12 * sign)
        up[INDEX[f"{side}_wrist"], :2] = (-0.8, 0.13 * sign)
    y = np.arange(n) % 2
    poses = np.where(y[:, None, None] == 0, down, up) + rng.normal(0, 0.01, (n, NUM_KEYPOINTS, 3)).astype(np.float32)
    poses[:, :, 2] = 0.9
    return poses, y


def test_negatives_are_far_from_every_training_pose() -> None:
    from poseclass.training.unknown import UnknownRule, distances, negatives

    poses, y = stick_figures(60)
    made = negatives(poses, y, UnknownRule(), seed=0, normalize=lambda f: f)
    assert 0 < len(made) <= 2 * len(poses)
    refs = poses[:, :, :2]
    own = distances(poses, refs, 6) * 6 / 5
    assert distances(made, refs, 5).min() > np.median(own)
    # the same seed makes the same negatives
    np.testing.assert_array_equal(made, negatives(poses, y, UnknownRule(), seed=0, normalize=lambda f: f))


def test_a_bent_knee_moves_only_the_ankle_and_keeps_the_shin() -> None:
    """The goddess-like negative: one shin swung about its knee, 45-135°, its length kept."""
    from poseclass.training.unknown import _knee

    poses, y = stick_figures(40)
    bent = _knee(poses, y, np.random.default_rng(0))
    moved = np.flatnonzero(np.abs(bent - poses).max(axis=(0, 2)) > 0)
    assert set(moved) == {INDEX["left_ankle"], INDEX["right_ankle"]}
    for side in ("left", "right"):
        knee, ankle = INDEX[f"{side}_knee"], INDEX[f"{side}_ankle"]
        rows = np.abs(bent[:, ankle] - poses[:, ankle]).max(axis=1) > 0
        before = poses[rows, ankle, :2] - poses[rows, knee, :2]
        after = bent[rows, ankle, :2] - bent[rows, knee, :2]
        np.testing.assert_allclose(np.linalg.norm(after, axis=1), np.linalg.norm(before, axis=1), rtol=1e-5)
        turn = np.degrees(np.arccos(np.clip((before * after).sum(1) / np.linalg.norm(before, axis=1) ** 2, -1, 1)))
        assert ((turn > 44.9) & (turn < 135.1)).all()
    assert (np.abs(bent - poses).max(axis=(1, 2)) > 0).all()  # every pose changed


def test_the_negatives_weigh_as_the_rule_says() -> None:
    """The *other* class (last) weighs ``UnknownRule.weight`` times all known poses; the known stay balanced."""
    from poseclass.training.classifier import TrainConfig, fit_weights
    from poseclass.training.unknown import UnknownRule

    y = np.array([0] * 30 + [1] * 10 + [2] * 80)  # two known classes, 80 negatives
    weights = fit_weights(y, 3, TrainConfig())
    totals = np.bincount(y) * np.array([weights[i] for i in range(3)])
    assert totals[0] == pytest.approx(totals[1])
    assert totals[2] == pytest.approx(UnknownRule().weight * (totals[0] + totals[1]))
    plain = fit_weights(y, 3, TrainConfig(unknown=False))
    assert plain[2] == pytest.approx(len(y) / (3 * 80))  # balanced, as without "unknown"


def test_threshold_keeps_the_asked_share() -> None:
    from poseclass.training.unknown import UnknownRule, threshold

    top = np.linspace(0.0, 1.0, 1001)
    below = threshold(top, UnknownRule(quantile=0.9))
    assert (top >= below).mean() == pytest.approx(0.9, abs=0.002)


def test_folds_keep_groups_whole() -> None:
    from poseclass.training.unknown import UnknownRule, folds

    y = np.arange(30) % 3
    groups = np.array(["a", "b", "c", "d", "e"] * 6)
    for fit, held in folds(y, UnknownRule(folds=3), groups, seed=0):
        assert not set(groups[fit]) & set(groups[held])


@pytest.fixture(scope="module")
def unknown_model(model_dir: Path):
    from poseclass.classify.folder import ModelFolder

    return ModelFolder.open(model_dir)


def test_the_rule_is_learned_and_written_down(unknown_model, trained) -> None:
    clf = trained[0]
    below = unknown_model.unknown_below
    assert 0.0 < below < 1.0
    assert unknown_model.manifest["unknown"]["unknown_below"] == below
    assert unknown_model.manifest["unknown"]["folds_by"] == "stratified random"
    assert unknown_model.manifest["unknown"]["out_of_fold_kept"] >= unknown_model.manifest["unknown"]["quantile"] - 0.01
    # The exported model has the labels' N outputs, whose sum is what the pose is not "other".
    probs = unknown_model.classifier().predict_proba(trained[2].features())
    assert probs.shape[1] == len(clf.labels)
    assert (probs.sum(axis=1) <= 1 + 1e-5).all()


def test_the_unseen_person_is_still_named(unknown_model, trained) -> None:
    """The held-out subject's poses are known classes: almost none may be called unknown."""
    unseen = trained[2]
    answers = unknown_model.classifier().answers(unknown_model.classifier().predict_proba(unseen.features()))
    assert (answers == -1).mean() <= 0.03
    assert (answers == unseen.y).mean() >= 0.95


def test_poses_of_no_class_are_unknown(unknown_model, trained) -> None:
    """Real poses turned on their side or upside down, and limbs thrown about, are none of the classes."""
    from poseclass.training.unknown import _bent, _turned

    unseen = trained[2]
    points = unseen.features()[:, 0]  # [N,17,3] (y, x, score) in the image: turn them about the image centre
    rng = np.random.default_rng(0)
    classifier = unknown_model.classifier()
    # turned: most are none of the classes; a swung limb often still makes a pose near a class
    for make, least in ((_turned, 0.5), (_bent, 0.2)):
        strange = make(points - [0.5, 0.5, 0], unseen.y, rng) + [0.5, 0.5, 0]
        strange[:, :, 2] = points[:, :, 2]
        share = (classifier.answers(classifier.predict_proba(strange[:, None])) == -1).mean()
        assert share >= least, make.__name__
    noise = np.concatenate([rng.random((200, 1, NUM_KEYPOINTS, 2)), np.full((200, 1, NUM_KEYPOINTS, 1), 0.8)], -1)
    assert (classifier.answers(classifier.predict_proba(noise.astype(np.float32))) == -1).mean() >= 0.7


@pytest.fixture(scope="module")
def upside_down(tmp_path_factory) -> Path:
    from PIL import Image

    out = tmp_path_factory.mktemp("upside_down") / "upside_down.jpg"
    Image.open(UPRIGHT).rotate(180).save(out)
    return out


def run_cli(*args: str) -> list[dict[str, object]]:
    import contextlib
    import io

    from poseclass.cli import main

    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer):
        code = main(list(args))
    assert code in (0, None), buffer.getvalue()
    return json.loads(buffer.getvalue())


def test_predict_says_unknown_and_still_ranks(model_dir: Path, upside_down: Path) -> None:
    from poseclass.classify.folder import ModelFolder

    found = run_cli("predict", str(UPRIGHT), str(upside_down), "--model", str(model_dir), "--json")
    by_name = {Path(r["image"]).name: r for r in found}
    upright, turned = by_name[UPRIGHT.name], by_name[upside_down.name]
    assert upright["status"] == "ok" and upright["label"] == "tree"
    assert turned["status"] == "unknown" and turned["label"] is None
    assert len(turned["predictions"]) > 0  # the ranked classes are still given
    assert turned["predictions"][0]["probability"] < ModelFolder.open(model_dir).unknown_below


def test_overrides_turn_it_off_or_move_it(model_dir: Path, upside_down: Path) -> None:
    off = run_cli("predict", str(upside_down), "--model", str(model_dir), "--json", "--no-unknown")
    first = off[0]
    assert first["status"] == "ok" and first["label"] is not None
    top = run_cli("predict", str(UPRIGHT), "--model", str(model_dir), "--json")[0]["predictions"][0]["probability"]
    assert top < 0.9999
    strict = run_cli("predict", str(UPRIGHT), "--model", str(model_dir), "--json",
                     "--unknown-below", f"{top + 1e-4:.6f}")
    assert strict[0]["status"] == "unknown"


def test_text_answer_names_the_closest(model_dir: Path, upside_down: Path, capsys: pytest.CaptureFixture) -> None:
    from poseclass.cli import main

    main(["predict", str(upside_down), "--model", str(model_dir)])
    assert "unknown pose (closest: " in capsys.readouterr().out


def test_evaluate_counts_unknown_as_wrong(model_dir: Path, tmp_path: Path) -> None:
    from poseclass.data.evaluate import evaluate

    data = tmp_path / "photos"
    (data / "tree").mkdir(parents=True)
    for f in sorted((YOGA_TRAIN / "tree").glob(f"{HELD_OUT}_*.jpg"))[:4]:
        shutil.copy2(f, data / "tree" / f.name)
    strict = evaluate(data, model_dir, progress=False, unknown_below=1.0)  # no top probability reaches 1
    assert strict["n_unknown"] == 4 and strict["accuracy"] == 0.0
    normal = evaluate(data, model_dir, progress=False)
    assert normal["n_unknown"] == 0 and normal["accuracy"] == 1.0


def test_metadata_carries_the_threshold(model_dir: Path, tmp_path: Path, fused_model: bytes) -> None:
    """ScoreThresholdingOptions on the probabilities output, in the classifier and in the fused model."""
    from poseclass.classify.folder import ModelFolder
    from poseclass.deploy.bundle import write_deploy
    from poseclass.deploy.metadata import read_metadata

    copy = shutil.copytree(model_dir, tmp_path / "model")
    write_deploy(copy, fused=False)
    folder = ModelFolder.open(copy)
    for model in (folder.classifier_path.read_bytes(), fused_model):
        assert read_metadata(model)["outputs"][0]["score_threshold"] == pytest.approx(folder.unknown_below, abs=1e-6)


def test_mediapipe_drops_an_unknown_pose_by_itself(fused_model: bytes, model_dir: Path, upside_down: Path) -> None:
    """With default options, ImageClassifier applies the metadata's threshold: no category for the
    upside-down photo, the right one for the upright photo."""
    import mediapipe as mp
    from mediapipe.tasks.python import BaseOptions, vision

    from poseclass.deploy.fused import input_size, letterbox

    size = input_size(model_dir)
    options = vision.ImageClassifierOptions(base_options=BaseOptions(model_asset_buffer=fused_model))
    with vision.ImageClassifier.create_from_options(options) as classifier:
        def top(path: Path) -> list[str]:
            image = mp.Image(image_format=mp.ImageFormat.SRGB, data=letterbox(path, size))
            return [c.category_name for c in classifier.classify(image).classifications[0].categories]

        assert top(UPRIGHT)[0] == "tree"
        assert top(upside_down) == []


@pytest.fixture(scope="module")
def fused_model(model_dir: Path) -> bytes:
    from poseclass.deploy.fused import add_metadata, convert_fused

    return add_metadata(convert_fused(model_dir), model_dir)
