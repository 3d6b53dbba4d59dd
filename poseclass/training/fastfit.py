"""The classifier's training loop in numpy: the same model, loss and optimizer as Keras ``fit``, ~25x faster.

The network is tiny (51 inputs, ~3.8 k weights) and the data small (hundreds to a few thousand
poses), so Keras' per-step cost (a few milliseconds of dispatch for microseconds of
arithmetic) was nearly all of training: 400 epochs of 25 steps took 45-60 s on 2 cores. Here
a step is a few dozen numpy calls (~0.15 ms) and each epoch's random draws are made at once,
so 400 epochs take ~1.5 s. (A tf.function over whole epochs was ~3x faster than ``fit``; XLA
on CPU was slower than ``fit``.)

What is the same as :func:`poseclass.training.classifier.train` with Keras ``fit``:
the Keras model's initial weights (built and seeded as before), per-pose normalisation
(computed once by the model's own ``PoseNormalization`` layer: it has no randomness),
``KeypointDropout``, ``PoseAugment``, the mirror stacked on the batch and averaged, Dense relu6
layers with dropout, softmax heads averaged, sparse categorical cross-entropy on the
averaged probabilities (clipped at 1e-7 as Keras does) with balanced class weights, Adam
(Keras' defaults and update rule), batches of ``batch_size`` from a fresh shuffle every
epoch (the last one smaller), validation after every epoch, and Keras ``EarlyStopping``'s
rules (patience, ``start_from_epoch``, best weights restored at the end). The fitted weights
are loaded back into the Keras model, which stays the exported artefact; inference never
runs this code.

What differs: the random numbers (numpy's PCG64 seeded by ``seed``, not TensorFlow's), so a
seed gives a different, equally good model than Keras did, and the same seed always gives the
same model. Configurations this loop does not cover (the k-NN head fitted inside the blend)
go through Keras ``fit`` as before (:func:`supported`). Two augmentations exist only here (issue 22):
arm swap and the change of view (:func:`seen_from`); Keras ``fit`` refuses a config that asks for them.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from poseclass.pose.keypoints import ARMS, KEYPOINT_NAMES, MIRROR_PERMUTATION, NUM_KEYPOINTS, mirrored, normalised

# Half the body's width at each keypoint, in normalised units: what front-facing yoga10 poses measure
# (shoulders 0.14, hips 0.09); the head narrower. Side views carry it as depth (see ``seen_from``).
HALF_WIDTH = np.array([0.0, 0.03, 0.03, 0.06, 0.06] + [0.14] * 6 + [0.09] * 6, np.float32)
SIDE = np.array([n.startswith("left_") - n.startswith("right_") for n in KEYPOINT_NAMES], np.float32)  # +1 left, -1 right
VIEW_PITCH = math.radians(40)  # the camera looks down by up to this much in a changed view

EPSILON = 1e-7  # Keras' backend epsilon: probability clipping and Adam's epsilon
BETA_1, BETA_2 = 0.9, 0.999  # Keras Adam defaults


def supported(config: object) -> bool:
    """Whether :func:`fit` covers ``config`` (else Keras ``fit`` trains it)."""
    return not (config.knn_per_class > 0 and config.knn_in_training)


def seen_from(f: np.ndarray, yaw: np.ndarray, pitch: np.ndarray, nearer: np.ndarray,
              normalization: str) -> np.ndarray:
    """Normalised poses ``[N,17,C]`` as a camera turned by ``yaw`` about the vertical and looking down by
    ``pitch`` would see them (radians, ``[N,1]`` each), normalised again.

    A pose is taken as flat, with its left and right keypoints half a body's width (``HALF_WIDTH``) apart
    in depth where they do not already stand apart in x: a side view's width is its depth, a front view's
    is in the picture. ``nearer`` (±1 per pose) says which side is nearer the camera. Farther from a camera
    that looks down is higher in the picture: a forearm plank filmed from the side, turned by -90°, is the
    same plank filmed head-on, feet above the head (README, *Unknown poses*).
    """
    y, x = f[:, :, 0], f[:, :, 1]
    apart = np.abs(x - x[:, list(MIRROR_PERMUTATION)]) / 2  # each keypoint's distance in x from its twin's mid-point
    depth = np.sqrt(np.maximum(HALF_WIDTH ** 2 - apart ** 2, 0)) * SIDE * nearer
    away = depth * np.cos(yaw) - x * np.sin(yaw)
    out = f.copy()
    out[:, :, 0] = y * np.cos(pitch) - away * np.sin(pitch)
    out[:, :, 1] = x * np.cos(yaw) + depth * np.sin(yaw)
    out[:, :, :2] = normalised(out, normalization)
    return out


class _Net:
    """The heads' Dense layers as views into one flat float32 vector (so Adam is a few whole-vector operations).

    ``heads``: per head, a list of (kernel, bias) views, input layer first. ``grads`` has the same layout.
    """

    def __init__(self, weights: list[np.ndarray], heads: int):
        arrays = [np.asarray(w, np.float32) for w in weights]
        self.theta = np.concatenate([a.ravel() for a in arrays])
        self.grad = np.zeros_like(self.theta)
        per_head = len(arrays) // heads
        self.heads, self.grads = [], []
        offset = 0
        for h in range(heads):
            layers, grads = [], []
            for a_kernel, a_bias in zip(arrays[h * per_head:(h + 1) * per_head:2], arrays[h * per_head + 1:(h + 1) * per_head:2]):
                views = []
                for a in (a_kernel, a_bias):
                    views.append((self.theta[offset:offset + a.size].reshape(a.shape),
                                  self.grad[offset:offset + a.size].reshape(a.shape)))
                    offset += a.size
                layers.append((views[0][0], views[1][0]))
                grads.append((views[0][1], views[1][1]))
            self.heads.append(layers)
            self.grads.append(grads)
        self.shapes = [a.shape for a in arrays]

    def weights(self) -> list[np.ndarray]:
        """Copies of the weights, in the order they were given."""
        out, offset = [], 0
        for shape in self.shapes:
            size = int(np.prod(shape))
            out.append(self.theta[offset:offset + size].reshape(shape).copy())
            offset += size
        return out


def _relu6(a: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """min(max(a, 0), 6) (np.clip's Python wrapper costs more than the arithmetic at these sizes)."""
    out = np.maximum(a, np.float32(0), out=out)
    return np.minimum(out, np.float32(6), out=out)


def _softmax(z: np.ndarray) -> np.ndarray:
    z -= np.maximum.reduce(z, axis=1, keepdims=True)
    np.exp(z, out=z)
    z /= np.add.reduce(z, axis=1, keepdims=True)
    return z


class _Trainer:
    def __init__(self, features: np.ndarray, y: np.ndarray, num_classes: int, config: object, weights: list[np.ndarray],
                 sample_weight: np.ndarray | None):
        self.f = np.ascontiguousarray(features, np.float32)  # [N, 17, C] normalised
        self.y = np.asarray(y, np.int64)
        self.k = num_classes
        self.c = config
        self.channels = self.f.shape[-1]
        self.net = _Net(weights, max(1, config.heads))
        self.sw = np.ones(len(self.y), np.float32) if sample_weight is None else np.asarray(sample_weight, np.float32)
        self.rng = np.random.default_rng(config.seed)
        self.m = np.zeros_like(self.net.theta)
        self.v = np.zeros_like(self.net.theta)
        self.t = 0

    # -- training-time input transforms (numpy versions of PoseAugment and KeypointDropout), a whole epoch at once --
    def _augment(self, f: np.ndarray) -> np.ndarray:
        c, rng, b = self.c, self.rng, len(f)
        if not any(v > 0 for v in (c.rotation, c.stretch, c.shear, c.scale, c.jitter)):
            return f

        def uniform(limit: float) -> np.ndarray:
            return rng.uniform(-limit, limit, (b, 1)).astype(np.float32)

        y, x = f[:, :, 0], f[:, :, 1]
        angle = uniform(c.rotation * np.pi / 180)
        cos, sin = np.cos(angle), np.sin(angle)
        y, x = cos * y - sin * x, sin * y + cos * x
        aspect = np.exp(uniform(c.stretch) / 2)
        y, x = y * aspect, x / aspect
        x = x + uniform(c.shear) * y
        size = 1 + uniform(c.scale)
        y, x = y * size, x * size
        if c.jitter > 0:
            y = y + rng.standard_normal((b, NUM_KEYPOINTS), np.float32) * np.float32(c.jitter)
            x = x + rng.standard_normal((b, NUM_KEYPOINTS), np.float32) * np.float32(c.jitter)
        return np.concatenate([np.stack([y, x], axis=-1), f[:, :, 2:]], axis=-1)

    def _arm_swap(self, f: np.ndarray) -> np.ndarray:
        """``arm_swap`` of the poses get the arms of another pose of the epoch (elbow and wrist offsets from
        each shoulder, and their scores) and keep their label: classes told apart by the legs then cannot
        lean on arms that vary (a tree pose with the hands low is still a tree)."""
        share, rng, n = self.c.arm_swap, self.rng, len(f)
        if share <= 0:
            return f
        rows = np.flatnonzero(rng.random(n) < share)
        donors = f[rng.integers(0, n, len(rows))]
        out = f.copy()
        for shoulder, elbow, wrist in ARMS:
            for joint in (elbow, wrist):
                out[rows, joint, :2] = f[rows, shoulder, :2] + donors[:, joint, :2] - donors[:, shoulder, :2]
                out[rows, joint, 2:] = donors[:, joint, 2:]
        return out

    def _view(self, f: np.ndarray) -> np.ndarray:
        """``view`` of the poses seen from another side (:func:`seen_from`: turned up to ±90° about the
        vertical, from up to 40° above, either side nearer), keeping their label; with 0, no draw at all."""
        share, rng = self.c.view, self.rng
        if share <= 0:
            return f
        rows = np.flatnonzero(rng.random(len(f)) < share)
        shape = (len(rows), 1)
        out = f.copy()
        out[rows] = seen_from(f[rows], rng.uniform(-np.pi / 2, np.pi / 2, shape), rng.uniform(0, VIEW_PITCH, shape),
                              rng.choice([-1.0, 1.0], shape), self.c.normalization)
        return out

    def _keypoint_dropout(self, f: np.ndarray, batch_of: np.ndarray) -> np.ndarray:
        """KeypointDropout on a shuffled epoch: each batch (``batch_of`` each row) draws its own donor keypoints."""
        rate, rng, b = self.c.keypoint_dropout, self.rng, len(f)
        if rate <= 0:
            return f
        hide = rng.random((b, NUM_KEYPOINTS, 1), np.float32) < rate
        donors = rng.integers(0, NUM_KEYPOINTS, (int(batch_of[-1]) + 1, NUM_KEYPOINTS))[batch_of]  # [b, 17]
        moved = np.take_along_axis(f[:, :, :2], donors[:, :, None], axis=1)
        replaced = moved + rng.standard_normal((b, NUM_KEYPOINTS, 2), np.float32) * np.float32(0.05)
        if self.channels == 3:
            replaced = np.concatenate([replaced, rng.random((b, NUM_KEYPOINTS, 1), np.float32) * np.float32(0.1)], axis=-1)
        return np.where(hide, replaced, f)

    def _mirror(self, f: np.ndarray) -> np.ndarray:
        return mirrored(f, x=1)

    # -- the network --
    def predict(self, f: np.ndarray) -> np.ndarray:
        """Inference (no dropout): class probabilities ``[B, K]``."""
        b = len(f)
        a0 = (np.concatenate([f, self._mirror(f)]) if self.c.mirror else f).reshape(-1, f[0].size)
        probs = 0
        for head in self.net.heads:
            a = a0
            for kernel, bias in head[:-1]:
                a = _relu6(a @ kernel + bias)
            probs = probs + _softmax(a @ head[-1][0] + head[-1][1])
        probs = probs / len(self.net.heads)
        return (probs[:b] + probs[b:]) / 2 if self.c.mirror else probs

    def epoch(self, batch: int, lr: float) -> tuple[float, float, float]:
        """One shuffled pass in batches of ``batch``; returns (sum of weighted losses, weighted correct, weight)."""
        c, rng, n = self.c, self.rng, len(self.y)
        order = rng.permutation(n)
        batch_of = np.arange(n) // batch
        f = self._keypoint_dropout(self._view(self._arm_swap(self._augment(self.f[order]))), batch_of)
        flat = f.reshape(n, -1)
        mirrored = self._mirror(f).reshape(n, -1) if c.mirror else None
        rows = 2 * n if c.mirror else n
        masks = []
        if c.dropout > 0:  # one draw per epoch for every Dropout layer; rows are used in order
            scale = np.float32(1 / (1 - c.dropout))
            for head in self.net.heads:
                for kernel, _ in head[:-1]:
                    masks.append((rng.random((rows, kernel.shape[1]), np.float32) >= c.dropout) * scale)
        y, sw = self.y[order], self.sw[order]
        totals = np.zeros(3)
        for start in range(0, n, batch):
            stop = min(start + batch, n)
            a0 = np.concatenate([flat[start:stop], mirrored[start:stop]]) if c.mirror else flat[start:stop]
            r0, r1 = (2 * start, 2 * stop) if c.mirror else (start, stop)
            totals += self._step(a0, y[start:stop], sw[start:stop], [m[r0:r1] for m in masks], lr)
        return tuple(totals)

    def _step(self, a0: np.ndarray, y: np.ndarray, w: np.ndarray, masks: list[np.ndarray], lr: float) -> np.ndarray:
        """Forward, backward and an Adam step on one batch (``a0``: poses then their mirrors, flattened)."""
        b = len(y)
        heads = self.net.heads
        caches, probs, mask_iter = [], 0, iter(masks)
        for head in heads:
            a, acts = a0, []
            for kernel, bias in head[:-1]:
                pre = a @ kernel
                pre += bias
                h = _relu6(pre)
                mask = next(mask_iter, None)
                if mask is not None:
                    h *= mask
                acts.append((a, pre, mask))
                a = h
            p = _softmax(a @ head[-1][0] + head[-1][1])
            caches.append((acts, a, p))
            probs = probs + p
        if len(heads) > 1:
            probs = probs / len(heads)
        mean = (probs[:b] + probs[b:]) / 2 if self.c.mirror else probs
        rows = np.arange(b)
        picked = mean[rows, y]
        clipped = np.minimum(np.maximum(picked, np.float32(EPSILON)), np.float32(1 - EPSILON))
        # Keras: the weighted sum of -log p(true class), divided by the batch size; no gradient where clipped
        g_picked = np.where((picked > EPSILON) & (picked < 1 - EPSILON), -w / (b * clipped), 0).astype(np.float32)
        g_mean = np.zeros_like(mean)
        g_mean[rows, y] = g_picked
        g_probs = np.concatenate([g_mean, g_mean]) * np.float32(0.5) if self.c.mirror else g_mean
        if len(heads) > 1:
            g_probs = g_probs / np.float32(len(heads))
        for head, grads, (acts, last, p) in zip(heads, self.net.grads, caches):
            g_z = g_probs - np.add.reduce(g_probs * p, axis=1, keepdims=True)
            g_z *= p
            np.matmul(last.T, g_z, out=grads[-1][0])
            np.add.reduce(g_z, axis=0, out=grads[-1][1])
            g_a = g_z @ head[-1][0].T
            for (kernel, _), (g_kernel, g_bias), (a_in, pre, mask) in zip(reversed(head[:-1]), reversed(grads[:-1]),
                                                                         reversed(acts)):
                if mask is not None:
                    g_a *= mask
                g_a *= (pre > 0) & (pre < 6)
                np.matmul(a_in.T, g_a, out=g_kernel)
                np.add.reduce(g_a, axis=0, out=g_bias)
                if a_in is not a0:
                    g_a = g_a @ kernel.T
        self._adam(lr)
        return np.array([float(-np.log(clipped) @ w), float((mean.argmax(axis=1) == y) @ w), float(w.sum())])

    def _adam(self, lr: float) -> None:
        """Keras 3 Adam: m += (g - m)(1 - β1); v += (g² - v)(1 - β2); θ -= α m / (√v + ε), α = lr √(1-β2ᵗ)/(1-β1ᵗ)."""
        self.t += 1
        alpha = np.float32(lr * math.sqrt(1 - BETA_2 ** self.t) / (1 - BETA_1 ** self.t))
        g, m, v = self.net.grad, self.m, self.v
        m += (g - m) * np.float32(1 - BETA_1)
        v += (g * g - v) * np.float32(1 - BETA_2)
        self.net.theta -= alpha * m / (np.sqrt(v) + np.float32(EPSILON))

    def scores(self, f: np.ndarray, y: np.ndarray) -> tuple[float, float]:
        """(loss, accuracy) of the current weights, unweighted, as Keras' validation."""
        p = self.predict(f)
        picked = np.clip(p[np.arange(len(y)), y], EPSILON, 1 - EPSILON)
        return float(-np.log(picked).mean()), float((p.argmax(axis=1) == y).mean())


def fit(
    features: np.ndarray, y: np.ndarray, num_classes: int, config: object, initial_weights: list[np.ndarray],
    validation: tuple[np.ndarray, np.ndarray] | None = None, sample_weight: np.ndarray | None = None,
    on_epoch: Callable[[int, dict[str, float]], None] | None = None,
) -> tuple[list[np.ndarray], dict[str, list[float]], int]:
    """Fit the heads' weights on normalised ``features`` ``[N,17,C]``; return (weights, history, kept epoch, 1-based).

    ``initial_weights``: the Keras model's trainable weights in its order (kernel, bias per Dense
    layer, head after head). ``validation``: normalised features and labels, scored every epoch.
    The kept epoch is the last, or with ``config.early_stopping`` the best on the monitored value
    (Keras ``EarlyStopping(restore_best_weights=True)``), whose weights are returned.
    """
    trainer = _Trainer(features, y, num_classes, config, initial_weights, sample_weight)
    n, batch = len(trainer.y), int(config.batch_size)
    history: dict[str, list[float]] = {"loss": [], "accuracy": []}
    if validation is not None:
        history.update(val_loss=[], val_accuracy=[])
    monitor = f"val_{config.monitor}" if validation is not None else config.monitor
    better = (lambda a, b: a > b) if config.monitor == "accuracy" else (lambda a, b: a < b)
    best_value, best_epoch, best_weights, wait = None, 0, None, 0
    vf, vy = (np.ascontiguousarray(validation[0], np.float32), np.asarray(validation[1], np.int64)) \
        if validation is not None else (None, None)
    for epoch in range(config.epochs):
        # Keras' epoch loss: the per-batch losses averaged, weighted by batch size = the weighted sum / n
        loss_sum, correct, weight = trainer.epoch(batch, config.learning_rate)
        logs = {"loss": loss_sum / n, "accuracy": correct / max(weight, 1e-12)}
        if validation is not None:
            logs["val_loss"], logs["val_accuracy"] = trainer.scores(vf, vy)
        for key, value in logs.items():
            history[key].append(value)
        if on_epoch is not None:
            on_epoch(epoch, logs)
        if not config.early_stopping or epoch < config.min_epochs:
            continue
        # Keras EarlyStopping(patience, restore_best_weights=True, start_from_epoch=min_epochs)
        current = logs[monitor]
        if best_weights is None:
            best_weights, best_epoch = trainer.net.weights(), epoch
        wait += 1
        if best_value is None or better(current, best_value):
            best_value, best_epoch, best_weights, wait = current, epoch, trainer.net.weights(), 0
            continue
        if wait >= config.patience and epoch > 0:
            break
    if config.early_stopping and best_weights is not None:
        return best_weights, history, best_epoch + 1
    return trainer.net.weights(), history, len(history["loss"])


def predict_proba(features: np.ndarray, num_classes: int, config: object, weights: list[np.ndarray]) -> np.ndarray:
    """Class probabilities ``[N, K]`` of fitted ``weights`` (as :func:`fit` returns them) on normalised ``features``."""
    trainer = _Trainer(features, np.zeros(len(features), np.int64), num_classes, config, weights, None)
    return trainer.predict(trainer.f)
