"""The numpy training loop (issue 21): the same gradients as Keras, the same model for the same seed,
early stopping as Keras' callback, and the fitted weights in the exported Keras model."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from poseclass.training import classifier as C
from poseclass.training import fastfit


@pytest.fixture(scope="module")
def poses(yoga):
    return yoga.features(), yoga.y, len(yoga.labels)


@pytest.mark.parametrize("heads, mirror", [(1, True), (2, False)])
def test_gradients_equal_tensorflows(poses, heads, mirror):
    import keras
    import tensorflow as tf

    x, y, k = poses
    x, y = x[:32], y[:32]
    config = replace(C.TrainConfig(), dropout=0.0, keypoint_dropout=0.0, heads=heads, mirror=mirror)
    C.seed_everything(0)
    model = C.build_models(k, config)[0]  # the network that is fitted: with its "other" class (k + 1 outputs)
    variables = [v for layer in C._dense_by_head(model) for v in (layer.kernel, layer.bias)]
    features = np.asarray(model.get_layer("normalize")(x))
    weights = np.linspace(0.5, 2, len(y)).astype(np.float32)
    trainer = fastfit._Trainer(features, y, k + 1, config, [v.numpy() for v in variables], weights)
    got = {}
    trainer._adam = lambda lr: got.setdefault("grads", [g.copy() for head in trainer.net.grads
                                                        for layer in head for g in layer])
    flat = (np.concatenate([features, trainer._mirror(features)]) if mirror else features).reshape(-1, 51)
    trainer._step(flat, y, weights, [], 1e-3)
    with tf.GradientTape() as tape:
        loss = tf.reduce_sum(keras.losses.sparse_categorical_crossentropy(y, model(x, training=True)) * weights) / len(y)
    wanted = tape.gradient(loss, [v.value for v in variables])
    for a, b in zip(got["grads"], wanted):
        np.testing.assert_allclose(a, b.numpy(), atol=1e-6)
    np.testing.assert_allclose(trainer.predict(features), np.asarray(model(x, training=False)), atol=1e-6)


def test_same_seed_same_model_and_it_is_the_keras_models(poses):
    x, y, k = poses
    config = C.TrainConfig(epochs=20)
    first, history, kept, rule = C.train(x, y, k, config, verbose=0)
    second, _, _, again = C.train(x, y, k, config, verbose=0)
    other, _, _, _ = C.train(x, y, k, replace(config, seed=1), verbose=0)
    assert rule == again  # the "unknown" threshold too
    assert all(np.array_equal(a, b) for a, b in zip(first.get_weights(), second.get_weights()))
    assert not all(np.array_equal(a, b) for a, b in zip(first.get_weights(), other.get_weights()))
    assert kept == 20 and len(history["loss"]) == 20 and history["loss"][-1] < history["loss"][0]
    assert (np.asarray(first(x, training=False)).argmax(1) == y).mean() > 0.9


def test_early_stopping_keeps_the_best_epoch(poses):
    x, y, k = poses
    val = (x[::5], y[::5])
    config = C.TrainConfig(epochs=200, early_stopping=True, patience=5)
    model, history, kept, _ = C.train(x, y, k, config, val, verbose=0)
    losses = history["val_loss"]
    assert len(losses) < 200  # stopped
    assert kept == int(np.argmin(losses)) + 1 and len(losses) == kept + 5
    features = np.asarray(model.get_layer("normalize")(val[0]))
    probs = np.asarray(model(val[0], training=False))
    picked = np.clip(probs[np.arange(len(val[1])), val[1]], 1e-7, 1 - 1e-7)
    assert float(-np.log(picked).mean()) == pytest.approx(losses[kept - 1], rel=1e-4)
    assert features.shape[1:] == (17, 3)


def test_the_k_nn_blend_fitted_inside_still_goes_through_keras(poses):
    assert not fastfit.supported(C.TrainConfig(knn_per_class=3, knn_in_training=True))
    assert fastfit.supported(C.TrainConfig(knn_per_class=3))
    with pytest.raises(ValueError, match="trainer"):
        x, y, k = poses
        C.train(x[:10], y[:10], k, C.TrainConfig(trainer="torch", epochs=1), verbose=0)


def trainer_of(f: np.ndarray, **settings: float) -> fastfit._Trainer:
    """A trainer of a 2-class linear model over poses ``f``, only for its input transforms."""
    weights = [np.zeros((51, 2), np.float32), np.zeros(2, np.float32)]
    return fastfit._Trainer(f, np.zeros(len(f), np.int64), 2, C.TrainConfig(**settings), weights, None)


def test_arm_swap_moves_only_arms_and_keeps_the_shoulders():
    """Issue 22: a share of poses get another pose's arms (offsets from their own shoulders); legs, head
    and shoulders stay."""
    f = np.random.default_rng(0).normal(size=(400, 17, 3)).astype(np.float32)
    out = trainer_of(f, arm_swap=0.5)._arm_swap(f)
    arms = [j for arm in fastfit.ARMS for j in arm[1:]]
    rest = [j for j in range(17) if j not in arms]
    np.testing.assert_array_equal(out[:, rest], f[:, rest])
    changed = (out[:, arms] != f[:, arms]).any(axis=(1, 2))
    assert 0.4 < changed.mean() < 0.6
    shoulder, elbow, _ = fastfit.ARMS[0]
    offsets = out[changed, elbow, :2] - out[changed, shoulder, :2]  # each one some pose's own elbow offset
    own = f[:, elbow, :2] - f[:, shoulder, :2]
    assert all(np.isclose(own, o, atol=1e-5).all(axis=1).any() for o in offsets)


@pytest.mark.parametrize("setting", ["arm_swap", "view"])
def test_an_augmentation_at_0_draws_nothing(setting):
    """With 0 the random stream, and so the model, are as without the augmentation."""
    f = np.random.default_rng(0).normal(size=(50, 17, 3)).astype(np.float32)
    plain = trainer_of(f, **{setting: 0.0})
    before = plain.rng.bit_generator.state
    assert getattr(plain, f"_{setting}")(f) is f and plain.rng.bit_generator.state == before


@pytest.mark.parametrize("setting", ["arm_swap", "view"])
def test_an_augmentation_needs_the_numpy_trainer(poses, setting):
    x, y, k = poses
    with pytest.raises(ValueError, match=setting):
        C.train(x[:20], y[:20], k, C.TrainConfig(trainer="keras", epochs=1, **{setting: 0.1}), verbose=0)


def side_plank() -> np.ndarray:
    """A forearm plank seen from the side, head to the left: left and right keypoints on top of each other."""
    from poseclass.pose.keypoints import INDEX

    f = np.zeros((1, 17, 3), np.float32)
    f[0, :, 2] = 0.9
    spots = {"nose": (-0.05, -0.6), "eye": (-0.07, -0.58), "ear": (-0.06, -0.52), "shoulder": (-0.02, -0.38),
             "elbow": (0.15, -0.38), "wrist": (0.15, -0.55), "hip": (0.0, 0.0), "knee": (0.05, 0.3), "ankle": (0.1, 0.6)}
    for name, yx in spots.items():
        for side in ("left_", "right_") if name != "nose" else ("",):
            f[0, INDEX[side + name], :2] = yx
    return f


def test_a_side_plank_turned_a_quarter_is_seen_head_on():
    """Issue 22: the head-on forearm plank of real clips (feet above the head, shoulders apart) made
    from a side view: turned -90° and seen from 30° above."""
    from poseclass.pose.keypoints import INDEX

    f = side_plank()
    quarter = np.full((1, 1), -np.pi / 2)
    out = fastfit.seen_from(f, quarter, np.full((1, 1), np.radians(30)), np.ones((1, 1)), "max")[0]
    y = {name: (out[INDEX[f"left_{name}"], 0] + out[INDEX[f"right_{name}"], 0]) / 2 for name in ("ankle", "hip", "shoulder")}
    assert y["ankle"] < y["hip"] < y["shoulder"]  # the feet, farthest from the camera, highest in the picture
    assert out[INDEX["nose"], 0] > y["shoulder"]  # the head nearest, lowest
    for part in ("shoulder", "hip"):  # a side view's width, which was depth, is now across the picture
        assert abs(out[INDEX[f"left_{part}"], 1] - out[INDEX[f"right_{part}"], 1]) > 0.1
    np.testing.assert_array_equal(out[:, 2], f[0, :, 2])  # scores kept
    # the other side nearer mirrors the picture; turned by 0 from level, the pose is as it was
    other = fastfit.seen_from(f, quarter, np.full((1, 1), np.radians(30)), -np.ones((1, 1)), "max")[0]
    np.testing.assert_allclose(other[:, 1], -out[:, 1], atol=1e-6)
    np.testing.assert_allclose(fastfit.seen_from(f, np.zeros((1, 1)), np.zeros((1, 1)), np.ones((1, 1)), "max"),
                               np.concatenate([fastfit.normalised(f, "max"), f[:, :, 2:]], -1), atol=1e-6)


@pytest.mark.parametrize("normalization", C.NORMALIZATIONS)
def test_numpy_normalisation_is_the_models(poses, normalization):
    x = poses[0][:50]
    keras_features = np.asarray(C.PoseNormalization(True, normalization)(x))
    np.testing.assert_allclose(fastfit.normalised(x.reshape(-1, 17, 3), normalization), keras_features[:, :, :2],
                               atol=1e-6)


def test_view_changes_the_share_asked():
    f = np.repeat(side_plank(), 400, axis=0)
    changed = (trainer_of(f, view=0.5)._view(f) != f).any(axis=(1, 2))
    assert 0.4 < changed.mean() < 0.6
