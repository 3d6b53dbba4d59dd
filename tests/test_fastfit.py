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


def test_arm_swap_moves_only_arms_and_keeps_the_shoulders():
    """Issue 22: a share of poses get another pose's arms (offsets from their own shoulders); legs, head
    and shoulders stay; with 0 the random stream and so the model are as before (no draw at all)."""
    rng = np.random.default_rng(0)
    f = rng.normal(size=(400, 17, 3)).astype(np.float32)
    weights, y = [np.zeros((51, 2), np.float32), np.zeros(2, np.float32)], np.zeros(400, np.int64)
    trainer = fastfit._Trainer(f, y, 2, C.TrainConfig(arm_swap=0.5), weights, None)
    out = trainer._arm_swap(f)
    arms = [j for arm in fastfit.ARMS for j in arm[1:]]
    rest = [j for j in range(17) if j not in arms]
    np.testing.assert_array_equal(out[:, rest], f[:, rest])
    changed = (out[:, arms] != f[:, arms]).any(axis=(1, 2))
    assert 0.4 < changed.mean() < 0.6
    shoulder, elbow, _ = fastfit.ARMS[0]
    offsets = out[changed, elbow, :2] - out[changed, shoulder, :2]  # each one some pose's own elbow offset
    own = f[:, elbow, :2] - f[:, shoulder, :2]
    assert all(np.isclose(own, o, atol=1e-5).all(axis=1).any() for o in offsets)
    plain = fastfit._Trainer(f, y, 2, C.TrainConfig(), weights, None)
    before = plain.rng.bit_generator.state
    assert plain._arm_swap(f) is f and plain.rng.bit_generator.state == before


def test_arm_swap_needs_the_numpy_trainer(poses):
    x, y, k = poses
    with pytest.raises(ValueError, match="arm_swap"):
        C.train(x[:20], y[:20], k, C.TrainConfig(arm_swap=0.1, trainer="keras", epochs=1), verbose=0)
