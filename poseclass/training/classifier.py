"""Stage 2: the small Keras pose classifier, its training, and its TFLite export.

The model's input is exactly MoveNet's output, float32 ``[N, 1, 17, 3]`` = (y, x, score),
so an app can feed the MoveNet output buffer straight in. Everything that makes a pose
comparable to another lives inside the model, per sample:

* **normalisation** — translate to the hip midpoint, divide by
  max(2.5 × torso length, largest keypoint distance from the centre). Computed for each
  pose on its own (the public tutorial's ``tf.linalg.norm`` without an axis mixed the whole
  batch into every pose's scale), so outputs do not depend on batch size, position or size;
* **scores as features** — low-confidence keypoints stay in, flagged by their score, and
  ``keypoint_dropout`` teaches the model to cope when some are missing;
* **mirror averaging** (``mirror=True``) — the prediction is the mean over the pose and its
  left/right mirror (x flipped, left and right keypoints swapped). This is mirror
  augmentation made exact: every training pose is seen with its mirror in the same step,
  and mirrored poses get identical answers. Turn it off for classes that differ only by side.

TensorFlow is imported here only; the inference path (:mod:`poseclass.classify.pipeline`) runs the
exported TFLite file on LiteRT.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from pathlib import Path

import keras
import numpy as np
from keras import ops

from poseclass.classify.folder import KERAS_NAME, MOVENET_SETTINGS, MOVENET_SOURCE, ModelFolder, write_model_folder
from poseclass.pose.keypoints import INDEX, MIRROR_PERMUTATION, NUM_KEYPOINTS, ROBUST_MIN_SCORE, TORSO_MULTIPLIER
from poseclass.pose.models import DEFAULT_VARIANT
from poseclass.quiet import native_stderr_silenced, progress_bar
from poseclass.training.unknown import MAKERS, UnknownRule, folds, negatives, threshold

INPUT_SHAPE = (1, NUM_KEYPOINTS, 3)
# Pose scale: "max" = max(2.5 x torso, largest keypoint distance); "robust" = the same, counting
# only keypoints scored >= ROBUST_MIN_SCORE in the distance; "torso" = 2.5 x torso only.
NORMALIZATIONS = ("max", "robust", "torso")
PREDICT_BATCH = 4096  # poses per call of the Keras model in PoseClassifier.predict_proba


@keras.saving.register_keras_serializable(package="poseclass")
class PoseNormalization(keras.layers.Layer):
    """MoveNet keypoints ``[N,1,17,3]`` → features ``[N,17,3]``: centred, scaled (y, x) and score."""

    def __init__(self, use_scores: bool = True, scale: str = "max", **kwargs):
        super().__init__(**kwargs)
        if scale not in NORMALIZATIONS:
            raise ValueError(f"normalization must be one of {sorted(NORMALIZATIONS)}, not {scale!r}")
        self.use_scores = use_scores
        self.scale = scale

    def get_config(self):
        return {**super().get_config(), "use_scores": self.use_scores, "scale": self.scale}

    def call(self, inputs):
        points = ops.reshape(inputs, (-1, NUM_KEYPOINTS, 3))
        yx, scores = points[:, :, :2], points[:, :, 2:]
        hips = (yx[:, INDEX["left_hip"]] + yx[:, INDEX["right_hip"]]) / 2
        shoulders = (yx[:, INDEX["left_shoulder"]] + yx[:, INDEX["right_shoulder"]]) / 2
        torso = ops.sqrt(ops.sum(ops.square(shoulders - hips), axis=-1))
        centred = yx - hips[:, None, :]
        size = torso * TORSO_MULTIPLIER
        if self.scale != "torso":  # at least as large as the farthest keypoint from the hips
            distance = ops.sqrt(ops.sum(ops.square(centred), axis=-1))
            if self.scale == "robust":  # keypoints MoveNet is unsure of do not stretch the scale
                distance = distance * ops.cast(scores[:, :, 0] >= ROBUST_MIN_SCORE, distance.dtype)
            size = ops.maximum(size, ops.max(distance, axis=1))
        normalised = centred / ops.maximum(size, 1e-6)[:, None, None]
        return ops.concatenate([normalised, scores], axis=-1) if self.use_scores else normalised


@keras.saving.register_keras_serializable(package="poseclass")
class WithMirror(keras.layers.Layer):
    """Features ``[N,17,C]`` → ``[2N,17,C]``: the poses, then their mirrors (x negated, left/right swapped).

    Stacking on the batch axis lets one copy of the head serve both, so the exported model
    holds its weights once.
    """

    def call(self, features):
        swapped = ops.take(features, list(MIRROR_PERMUTATION), axis=1)
        flip = [1.0, -1.0, 1.0][: features.shape[-1]]
        return ops.concatenate([features, swapped * ops.convert_to_tensor(flip, dtype=features.dtype)], axis=0)


@keras.saving.register_keras_serializable(package="poseclass")
class HalvesMean(keras.layers.Layer):
    """``[2N, K]`` → ``[N, K]``: the mean of each pose's answer and its mirror's."""

    def call(self, stacked):
        half = ops.shape(stacked)[0] // 2
        return (stacked[:half] + stacked[half:]) / 2


@keras.saving.register_keras_serializable(package="poseclass")
class PoseAugment(keras.layers.Layer):
    """Training only: the pose as another camera would see it (normalised features ``[N,17,C]`` in and out).

    Per sample: an in-plane rotation (camera roll, up to ``rotation`` degrees), a stretch of one
    axis against the other (foreshortening by camera pitch or yaw, aspect ``exp(±stretch)``), a
    shear (``±shear``, a tilted image plane), an overall scale (``1 ± scale``, an error of the
    normalisation) and Gaussian jitter (``jitter``, in body units) on every keypoint. Scores pass
    through. At inference (``training`` false) it is the identity, so the exported model holds
    nothing of it.
    """

    def __init__(self, rotation: float = 0.0, stretch: float = 0.0, shear: float = 0.0, scale: float = 0.0,
                 jitter: float = 0.0, seed: int | None = None, **kwargs):
        super().__init__(**kwargs)
        self.rotation, self.stretch, self.shear, self.scale, self.jitter = rotation, stretch, shear, scale, jitter
        self.seed = seed
        self.generator = keras.random.SeedGenerator(seed)

    @property
    def active(self) -> bool:
        return any(v > 0 for v in (self.rotation, self.stretch, self.shear, self.scale, self.jitter))

    def call(self, features, training=None):
        if not training or not self.active:
            return features
        batch = ops.shape(features)[0]

        def uniform(limit):
            return keras.random.uniform((batch, 1), -limit, limit, seed=self.generator)

        y, x = features[:, :, 0], features[:, :, 1]
        angle = uniform(self.rotation * np.pi / 180)
        cos, sin = ops.cos(angle), ops.sin(angle)
        y, x = cos * y - sin * x, sin * y + cos * x
        aspect = ops.exp(uniform(self.stretch) / 2)
        y, x = y * aspect, x / aspect
        x = x + uniform(self.shear) * y
        size = 1 + uniform(self.scale)
        y, x = y * size, x * size
        if self.jitter > 0:
            y = y + keras.random.normal((batch, NUM_KEYPOINTS), stddev=self.jitter, seed=self.generator)
            x = x + keras.random.normal((batch, NUM_KEYPOINTS), stddev=self.jitter, seed=self.generator)
        return ops.concatenate([ops.stack([y, x], axis=-1), features[:, :, 2:]], axis=-1)

    def get_config(self):
        return {**super().get_config(), "rotation": self.rotation, "stretch": self.stretch, "shear": self.shear,
                "scale": self.scale, "jitter": self.jitter, "seed": self.seed}


@keras.saving.register_keras_serializable(package="poseclass")
class KeypointDropout(keras.layers.Layer):
    """Training only: hide random keypoints as MoveNet does when it cannot see them.

    A hidden keypoint gets a score under 0.1 and lands near another keypoint of the same
    pose, which is what MoveNet's low-confidence answers look like.
    """

    def __init__(self, rate: float = 0.1, seed: int | None = None, **kwargs):
        super().__init__(**kwargs)
        self.rate = rate
        self.seed = seed
        self.generator = keras.random.SeedGenerator(seed)

    def call(self, features, training=None):
        if not training or self.rate <= 0:
            return features
        batch = ops.shape(features)[0]
        hide = keras.random.uniform((batch, NUM_KEYPOINTS, 1), seed=self.generator) < self.rate
        donors = keras.random.randint((NUM_KEYPOINTS,), 0, NUM_KEYPOINTS, seed=self.generator)
        moved = ops.take(features, donors, axis=1)
        noise = keras.random.normal((batch, NUM_KEYPOINTS, 2), stddev=0.05, seed=self.generator)
        low = keras.random.uniform((batch, NUM_KEYPOINTS, 1), maxval=0.1, seed=self.generator)
        replaced = moved[:, :, :2] + noise
        if features.shape[-1] == 3:
            replaced = ops.concatenate([replaced, low], axis=-1)
        return ops.where(hide, replaced, features)

    def get_config(self):
        return {**super().get_config(), "rate": self.rate, "seed": self.seed}


@keras.saving.register_keras_serializable(package="poseclass")
class PrototypeVote(keras.layers.Layer):
    """A k-NN head made small: normalised features ``[N,17,C]`` → class probabilities ``[N,K]`` by nearest prototypes.

    The prototypes are k-means centres of each class's normalised training poses (y, x),
    stored as constants, grouped by class (``num_prototypes / num_classes`` each). The distance
    to each is the mean squared keypoint distance weighted by the query's keypoint scores
    (unsure keypoints count less); each prototype votes for
    its class with ``exp(-(d - d_min) / temperature)``, so a small temperature is 1-NN and a
    large one a vote of all of them.
    """

    def __init__(self, num_prototypes: int, num_classes: int, temperature: float = 0.003, **kwargs):
        super().__init__(**kwargs)
        self.num_prototypes, self.num_classes, self.temperature = num_prototypes, num_classes, temperature
        self.prototypes = self.add_weight(shape=(num_prototypes, NUM_KEYPOINTS, 2), initializer="zeros",
                                          trainable=False, name="prototypes")

    def call(self, features):
        yx = features[:, :, :2]
        weights = features[:, :, 2] if features.shape[-1] == 3 else ops.ones_like(features[:, :, 0])
        squared = ops.sum(ops.square(yx[:, None] - self.prototypes[None]), axis=-1)  # [N, P, 17]
        distance = ops.sum(squared * weights[:, None, :], axis=-1) / ops.maximum(
            ops.sum(weights, axis=-1, keepdims=True), 1e-6)
        closeness = ops.exp(-(distance - ops.min(distance, axis=1, keepdims=True)) / self.temperature)
        # Prototypes come grouped by class, the same number each: a class's vote is its group's sum.
        per_class = self.num_prototypes // self.num_classes
        votes = ops.sum(ops.reshape(closeness, (-1, self.num_classes, per_class)), axis=-1)
        return votes / ops.sum(votes, axis=1, keepdims=True)

    def get_config(self):
        return {**super().get_config(), "num_prototypes": self.num_prototypes, "num_classes": self.num_classes,
                "temperature": self.temperature}


@keras.saving.register_keras_serializable(package="poseclass")
class Blend(keras.layers.Layer):
    """``(1 - weight) · a + weight · b``: the network's probabilities blended with the prototypes'."""

    def __init__(self, weight: float = 0.5, **kwargs):
        super().__init__(**kwargs)
        self.weight = weight

    def call(self, a, b):
        return (1 - self.weight) * a + self.weight * b

    def get_config(self):
        return {**super().get_config(), "weight": self.weight}


@keras.saving.register_keras_serializable(package="poseclass")
class KnownClasses(keras.layers.Layer):
    """``[N, K+1]`` → ``[N, K]``: the real classes' probabilities, without the *other* class and not
    renormalised, so what the network gave *other* lowers them all (see :mod:`poseclass.training.unknown`)."""

    def __init__(self, num_classes: int, **kwargs):
        super().__init__(**kwargs)
        self.num_classes = num_classes

    def call(self, probabilities):
        return probabilities[:, :self.num_classes]

    def get_config(self):
        return {**super().get_config(), "num_classes": self.num_classes}


@dataclass
class TrainConfig:
    """Everything that shapes a trained model; written to the manifest."""

    hidden: tuple[int, ...] = (48, 24)  # ~3.8 k weights: the exported TFLite stays under 30 KB
    dropout: float = 0.1
    keypoint_dropout: float = 0.1
    mirror: bool = True
    use_scores: bool = True
    # A fixed schedule, not early stopping: stopping on a small validation split made the model a
    # lottery (87-94 % on real photos by seed; benchmarks/generalise.py), a fixed schedule does not. 800
    # epochs, not 400, since arm swap and view change a share of the poses every epoch (issue 22: real
    # clips' taught frames 97.6 % at 600, 98.1 % at 800; README, Unknown poses).
    epochs: int = 800
    batch_size: int = 32
    learning_rate: float = 1e-3
    patience: int = 30  # early stopping only
    seed: int = 0
    class_weights: bool = True
    # Levers measured by benchmarks/generalise.py (issue 11); their defaults leave them off.
    normalization: str = "max"  # see NORMALIZATIONS
    heads: int = 1  # an ensemble of this many heads, probabilities averaged, inside the one model
    rotation: float = 0.0  # PoseAugment, training only: degrees of camera roll
    stretch: float = 0.0  # log-aspect range: foreshortening by camera pitch or yaw
    shear: float = 0.0
    scale: float = 0.0
    jitter: float = 0.0  # keypoint noise, in body units
    # Training only: this share of poses get the arms of another pose and keep their label (issue 22:
    # a real tree with the hands low read as mountain, since every tree photo had them raised).
    arm_swap: float = 0.1
    # Training only: this share of poses are seen from another side (fastfit's seen_from), keeping their label
    # (issue 22: a forearm plank filmed head-on was called bridge; real clips' taught frames 93.1 -> 98.1 %).
    view: float = 0.5
    monitor: str = "loss"  # early stopping and best-weight restore on validation "loss" or "accuracy"
    knn_per_class: int = 0  # > 0: blend in a k-NN head (PrototypeVote) with this many prototypes per class
    knn_weight: float = 0.5
    knn_temperature: float = 0.003
    knn_in_training: bool = False  # fit the network inside the blend (prototypes fixed first), not before it
    early_stopping: bool = False  # True: stop after ``patience`` epochs without a better validation loss,
    # and restore the best epoch's weights (needs validation data to mean anything)
    min_epochs: int = 0  # early stopping and the best-epoch choice only look at epochs after this many
    # "numpy": the training loop of poseclass.training.fastfit (same model, loss, optimizer and
    # schedule as Keras fit, ~20x faster); "keras": Keras fit, as before issue 21 (with arm_swap=0 and view=0:
    # those augmentations are the numpy loop's).
    trainer: str = "numpy"
    # "unknown" (issue 22): an extra *other* class trained on synthetic negatives, and the top
    # probability under which a pose is none of the classes, learned out of fold so that
    # ``unknown_quantile`` of new known poses are kept (poseclass.training.unknown).
    unknown: bool = True
    unknown_quantile: float = 0.99

    def unknown_rule(self) -> UnknownRule:
        """How "unknown" is learned: the quantile is this config's, the rest UnknownRule's defaults."""
        return UnknownRule(self.unknown_quantile)


def build_model(num_classes: int, config: TrainConfig) -> keras.Model:
    """Input ``[N,1,17,3]`` MoveNet keypoints → softmax over ``num_classes`` (the model that is exported)."""
    return build_models(num_classes, config)[1]


def build_models(num_classes: int, config: TrainConfig) -> tuple[keras.Model, keras.Model]:
    """(the network gradient descent fits, the model exported). The same model unless ``knn_per_class``
    (the exported one blends the fitted network with a k-NN head on the same normalised features) or
    ``unknown`` (the network has one more class, *other*, which the exported model leaves out)."""
    if config.unknown and config.knn_per_class > 0:
        raise ValueError("unknown and knn_per_class cannot be combined: pass unknown=False with a k-NN head")
    if config.unknown:
        network = build_models(num_classes + 1, replace(config, unknown=False))[0]
        return network, keras.Model(network.input, KnownClasses(num_classes, name="known_classes")(network.output),
                                    name="pose_classifier")
    inputs = keras.Input(INPUT_SHAPE, name="movenet_keypoints")
    features = PoseNormalization(config.use_scores, config.normalization, name="normalize")(inputs)
    augment = PoseAugment(config.rotation, config.stretch, config.shear, config.scale, config.jitter,
                          seed=config.seed, name="augment")
    if augment.active:
        features = augment(features)
    features = KeypointDropout(config.keypoint_dropout, seed=config.seed, name="keypoint_dropout")(features)
    if config.mirror:
        features = WithMirror(name="with_mirror")(features)
    flat = keras.layers.Flatten()(features)
    heads = []
    for head in range(max(1, config.heads)):
        x = flat
        for width in config.hidden:
            x = keras.layers.Dense(width, activation="relu6")(x)
            x = keras.layers.Dropout(config.dropout, seed=config.seed + head)(x)
        heads.append(keras.layers.Dense(num_classes, activation="softmax")(x))
    outputs = heads[0] if len(heads) == 1 else keras.layers.Average(name="ensemble")(heads)
    if config.mirror:
        outputs = HalvesMean(name="mirror_average")(outputs)
    network = keras.Model(inputs, outputs, name="pose_classifier")
    if config.knn_per_class <= 0:
        return network, network
    # Prototypes are set after fitting (see ``prototypes``); the head has no trainable weights. It
    # shares the normalised (and mirrored) features: augmentation and dropout act in training only.
    knn = PrototypeVote(config.knn_per_class * num_classes, num_classes, config.knn_temperature,
                        name="prototype_vote")(features)
    if config.mirror:
        knn = HalvesMean(name="knn_mirror_average")(knn)
    return network, keras.Model(inputs, Blend(config.knn_weight, name="blend")(outputs, knn), name="pose_classifier")


class EpochBar(keras.callbacks.Callback):
    """One progress bar over epochs with the loss and validation accuracy, instead of Keras' lines per epoch."""

    def __init__(self, epochs: int):
        super().__init__()
        self.epochs = epochs
        self.bar = None

    def on_train_begin(self, logs=None):
        self.bar = progress_bar(total=self.epochs, desc="training", unit="epoch")

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        shown = {"loss": logs.get("loss"), "val_acc": logs.get("val_accuracy")}
        self.bar.set_postfix({k: f"{v:.3f}" for k, v in shown.items() if v is not None}, refresh=False)
        self.bar.update(1)

    def on_train_end(self, logs=None):
        self.bar.close()


def seed_everything(seed: int) -> None:
    """Same seed, same model: Python, numpy and TensorFlow RNGs, and deterministic TF ops."""
    import tensorflow as tf

    keras.utils.set_random_seed(seed)
    tf.config.experimental.enable_op_determinism()


def class_weights(y: np.ndarray, num_classes: int) -> dict[int, float] | None:
    """Balanced weights (n / (k · count)) when the classes are not all the same size."""
    counts = np.bincount(y, minlength=num_classes)
    if counts.min() == counts.max():
        return None
    weights = len(y) / (num_classes * np.maximum(counts, 1))
    return {i: float(w) for i, w in enumerate(weights)}


def fit_weights(y: np.ndarray, num_classes: int, config: TrainConfig) -> dict[int, float] | None:
    """Per-class weights for fitting: balanced with ``class_weights``; with ``unknown``, the last class
    (*other*) weighs ``UnknownRule.weight`` times all the known poses together.

    Weighted as one class among eleven, the negatives were barely fitted (4 % of the bent-knee ones came
    out *other*) and real untaught poses kept a known class's probability: on real clips, 13 % of untaught
    frames were unknown, 27 % at twice the known poses' weight (README, *Unknown poses*).
    """
    weights = class_weights(y, num_classes) if config.class_weights else None
    if not config.unknown:
        return weights
    counts = np.bincount(y, minlength=num_classes)
    weights = weights or {i: 1.0 for i in range(num_classes)}
    known = sum(counts[i] * weights[i] for i in range(num_classes - 1))
    weights[num_classes - 1] = config.unknown_rule().weight * known / max(counts[-1], 1)
    return weights


def prototypes(x: np.ndarray, y: np.ndarray, num_classes: int, config: TrainConfig) -> np.ndarray:
    """``knn_per_class`` k-means centres of each class's normalised training poses, class by class."""
    from sklearn.cluster import KMeans

    features = np.asarray(PoseNormalization(config.use_scores, config.normalization)(np.asarray(x, np.float32)))
    centres = []
    for c in range(num_classes):
        poses = features[y == c, :, :2].reshape(-1, NUM_KEYPOINTS * 2)
        k = config.knn_per_class
        if len(poses) == 0:  # a class with no training pose: far from every pose, it wins no vote
            centres.append(np.full((k, NUM_KEYPOINTS, 2), 10.0, np.float32))
            continue
        found = KMeans(min(k, len(poses)), random_state=config.seed, n_init=3).fit(poses).cluster_centers_
        centres.append(np.resize(found, (k, NUM_KEYPOINTS * 2)).reshape(k, NUM_KEYPOINTS, 2))
    return np.concatenate(centres).astype(np.float32)


def train(
    x: np.ndarray, y: np.ndarray, num_classes: int, config: TrainConfig,
    validation: tuple[np.ndarray, np.ndarray] | None = None, verbose: int = 1, groups: np.ndarray | None = None,
) -> tuple[keras.Model, dict[str, list[float]], int, dict[str, object] | None]:
    """Fit a new model; return it, its history, the epoch whose weights it has (1-based), and its
    "unknown" rule (None when ``config.unknown`` is off).

    That epoch is the last, or with ``early_stopping`` the best one on validation, restored.
    ``groups``: who or what each training pose comes from, so the "unknown" threshold is learned on
    whole groups the fold models never saw.
    """
    seed_everything(config.seed)
    model, final = build_models(num_classes, config)
    if config.trainer not in TRAINERS:
        raise ValueError(f"trainer must be one of {TRAINERS}, not {config.trainer!r}")
    if config.knn_per_class > 0 and config.knn_in_training:
        final.get_layer("prototype_vote").set_weights([prototypes(x, y, num_classes, config)])
        model = final
    model.compile(
        optimizer=keras.optimizers.Adam(config.learning_rate),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    from poseclass.training import fastfit

    numpy_loop = config.trainer == "numpy" and fastfit.supported(config)
    if (config.arm_swap > 0 or config.view > 0) and not numpy_loop:
        raise ValueError("arm_swap and view are augmentations of the numpy trainer: use trainer='numpy' without "
                         "knn_in_training")
    fitted_x, fitted_y = with_negatives(x, y, num_classes, config) if config.unknown else (x, y)
    classes = num_classes + 1 if config.unknown else num_classes
    weights = fit_weights(fitted_y, classes, config)
    steps = same_steps(config, len(y), len(fitted_y))
    initial = [v.numpy() for v in _dense_variables(model)]  # before fitting: the fold models start from them too
    if numpy_loop:
        history, best_epoch = _fit_numpy(model, fitted_x, fitted_y, classes, steps, validation, weights, verbose)
    else:
        history, best_epoch = _fit_keras(model, fitted_x, fitted_y, steps, validation, weights, verbose)
    if config.knn_per_class > 0 and not config.knn_in_training:
        final.get_layer("prototype_vote").set_weights([prototypes(x, y, num_classes, config)])
        final.compile(loss="sparse_categorical_crossentropy", metrics=["accuracy"])  # for evaluate(); not fitted
    rule = learn_unknown(x, y, num_classes, config, initial, groups) if config.unknown else None
    return final, {k: [float(v) for v in vals] for k, vals in history.items()}, best_epoch, rule


def same_steps(config: TrainConfig, poses: int, rows: int) -> TrainConfig:
    """``config`` with batches as much larger as the negatives made the data, so an epoch has as many
    steps as without them (training time and the schedule stay those of the poses alone)."""
    return replace(config, batch_size=max(config.batch_size, round(config.batch_size * rows / max(poses, 1))))


def _normalized(points: np.ndarray, config: TrainConfig) -> np.ndarray:
    """MoveNet keypoints ``[N,1,17,3]`` → normalised (y, x, score) ``[N,17,3]``, scores kept whatever the model uses."""
    layer = PoseNormalization(True, config.normalization)
    return np.asarray(layer(np.asarray(points, np.float32).reshape(-1, *INPUT_SHAPE)))


def with_negatives(x: np.ndarray, y: np.ndarray, num_classes: int, config: TrainConfig,
                   seed_offset: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """The training poses plus synthetic poses of none of the classes, labelled ``num_classes`` (*other*).

    The negatives are normalised poses, which the model's own normalisation leaves as they are, so
    they join the MoveNet keypoints as inputs.
    """
    made = negatives(_normalized(x, config), np.asarray(y), config.unknown_rule(),
                     config.seed + seed_offset, lambda f: _normalized(f, config))
    return (np.concatenate([np.asarray(x, np.float32).reshape(-1, *INPUT_SHAPE), made[:, None]]),
            np.concatenate([np.asarray(y), np.full(len(made), num_classes)]))


def learn_unknown(x: np.ndarray, y: np.ndarray, num_classes: int, config: TrainConfig, initial: list[np.ndarray],
                  groups: np.ndarray | None) -> dict[str, object]:
    """The "unknown" threshold, out of fold: fold models (the numpy trainer, from the same initial
    weights) answer training poses they never saw; ``unknown_below`` keeps ``unknown_quantile`` of them."""
    from poseclass.training import fastfit

    rule = config.unknown_rule()
    y = np.asarray(y)
    x = np.asarray(x, np.float32).reshape(-1, *INPUT_SHAPE)
    model_features = PoseNormalization(config.use_scores, config.normalization)
    top = np.empty(len(y))
    splits = folds(y, rule, groups, config.seed)
    for i, (fit, held) in enumerate(splits):
        fx, fy = with_negatives(x[fit], y[fit], num_classes, config, seed_offset=i + 1)
        sample_weight = per_pose(fit_weights(fy, num_classes + 1, config), fy)
        fold_config = replace(same_steps(config, len(fit), len(fy)), early_stopping=False,
                              epochs=max(1, round(config.epochs * rule.fold_epochs)))
        fitted, _, _ = fastfit.fit(np.asarray(model_features(fx)), fy, num_classes + 1, fold_config, initial,
                                   None, sample_weight)
        probs = fastfit.predict_proba(np.asarray(model_features(x[held])), num_classes + 1, fold_config, fitted)
        top[held] = probs[:, :num_classes].max(axis=1)
    below = threshold(top, rule)
    return {"unknown_below": below, "rule": "unknown when the largest class probability is under unknown_below",
            "method": "an extra 'other' class trained on synthetic poses "
                      f"({', '.join(make.__name__.strip('_') for make in MAKERS)}), left out of the exported model",
            "quantile": rule.quantile, "other_weight": rule.weight, "folds": len(splits),
            "folds_by": "groups" if groups is not None else "stratified random",
            "out_of_fold_kept": float((top >= below).mean())}


TRAINERS = ("numpy", "keras")


def _fit_numpy(model: keras.Model, x: np.ndarray, y: np.ndarray, num_classes: int, config: TrainConfig,
               validation: tuple[np.ndarray, np.ndarray] | None, weights: dict[int, float] | None,
               verbose: int) -> tuple[dict[str, list[float]], int]:
    """Fit ``model``'s Dense weights with :func:`poseclass.training.fastfit.fit` and load them back into it."""
    from poseclass.training import fastfit

    normalize = model.get_layer("normalize")

    def features(points: np.ndarray) -> np.ndarray:
        return np.asarray(normalize(np.asarray(points, np.float32).reshape(-1, *INPUT_SHAPE)))

    val = (features(validation[0]), np.asarray(validation[1])) if validation is not None else None
    sample_weight = per_pose(weights, y)
    bar = EpochBar(config.epochs) if verbose == 1 else None
    if bar is not None:
        bar.on_train_begin()

    def on_epoch(epoch: int, logs: dict[str, float]) -> None:
        if bar is not None:
            bar.on_epoch_end(epoch, logs)
        elif verbose > 1:
            print(f"epoch {epoch + 1}/{config.epochs}: " + " ".join(f"{k} {v:.4f}" for k, v in logs.items()))

    variables = _dense_variables(model)
    try:
        fitted, history, best_epoch = fastfit.fit(features(x), y, num_classes, config, [v.numpy() for v in variables],
                                                  val, sample_weight, on_epoch)
    finally:
        if bar is not None:
            bar.on_train_end()
    for variable, value in zip(variables, fitted):
        variable.assign(value)
    return history, best_epoch


def per_pose(weights: dict[int, float] | None, y: np.ndarray) -> np.ndarray | None:
    """Class weights as one weight per pose (what the numpy loop takes), or None."""
    return np.asarray([weights[int(c)] for c in y], np.float32) if weights else None


def _dense_variables(model: keras.Model) -> list[keras.Variable]:
    """Kernel and bias of each Dense layer, head after head: the weights fastfit trains, in its order."""
    return [v for layer in _dense_by_head(model) for v in (layer.kernel, layer.bias)]


def _dense_by_head(model: keras.Model) -> list[keras.layers.Dense]:
    """The model's Dense layers head after head, each head input to output (what fastfit expects).

    Found by following the graph from each head's first layer (the one fed by ``Flatten``), not by
    layer order: Keras lists layers by depth, so with several heads their layers interleave.
    """
    def producer(layer: keras.layers.Layer) -> keras.layers.Layer:
        return layer.input._keras_history.operation

    dense = [layer for layer in model.layers if isinstance(layer, keras.layers.Dense)]
    ordered = []
    for layer in (d for d in dense if isinstance(producer(d), keras.layers.Flatten)):
        while layer is not None:
            ordered.append(layer)
            layer = next((d for d in dense if producer(d) is layer
                          or (isinstance(producer(d), keras.layers.Dropout) and producer(producer(d)) is layer)), None)
    if len(ordered) != len(dense) or len(model.trainable_weights) != 2 * len(dense):
        raise RuntimeError("the classifier's layers are not the Flatten → Dense (→ Dropout) chains fastfit trains")
    return ordered


def _fit_keras(model: keras.Model, x: np.ndarray, y: np.ndarray, config: TrainConfig,
               validation: tuple[np.ndarray, np.ndarray] | None, weights: dict[int, float] | None,
               verbose: int) -> tuple[dict[str, list[float]], int]:
    """Keras ``fit`` (the trainer before issue 21; still the one for ``knn_in_training``)."""
    monitor = f"val_{config.monitor}" if validation is not None else config.monitor
    # Keras' own callback restores the best epoch's weights at the end of training, early stop
    # or not (the public tutorial saved the best checkpoint and never loaded it back).
    best = keras.callbacks.EarlyStopping(monitor, patience=config.patience, restore_best_weights=True,
                                         mode="max" if config.monitor == "accuracy" else "min",
                                         start_from_epoch=config.min_epochs)
    stopping = [best] if config.early_stopping else []
    callbacks = [*stopping, EpochBar(config.epochs)] if verbose == 1 else stopping
    with native_stderr_silenced():
        history = model.fit(
            x, y, epochs=config.epochs, batch_size=config.batch_size, validation_data=validation,
            class_weight=weights, callbacks=callbacks, verbose=2 if verbose > 1 else 0, shuffle=True,
        )
    best_epoch = best.best_epoch + 1 if config.early_stopping else len(history.history["loss"])
    return history.history, best_epoch


def to_tflite(model: keras.Model) -> bytes:
    """Float32 TFLite: input ``[1,1,17,3]`` (batch resizable), output ``[1, classes]``, builtin ops only.

    Float32 keeps the exported model equal to the Keras one (≤ 1e-5) and is still ~25 KB.
    """
    import tensorflow as tf

    from poseclass.pose.build.convert import frozen_to_tflite

    spec = tf.TensorSpec((None, *INPUT_SHAPE), tf.float32, name="movenet_keypoints")
    serve = tf.function(lambda x: model(x, training=False), input_signature=[spec])
    return frozen_to_tflite(serve.get_concrete_function())


class PoseClassifier:
    """A trained pose classifier: Model Maker's ``create → evaluate → export`` and sklearn's ``fit / predict_proba``.

    >>> clf = PoseClassifier.create(train_data, validation_data)   # KeypointDatasets
    >>> clf.evaluate(test_data)["accuracy"]
    >>> clf.export("model/")                                        # TFLite + labels + manifest
    """

    def __init__(self, labels: list[str], config: TrainConfig | None = None, movenet: dict[str, object] | None = None):
        self.labels = list(labels)
        self.config = config or TrainConfig()
        self.movenet = movenet or {"variant": DEFAULT_VARIANT}
        self.model: keras.Model | None = None
        self.history: dict[str, list[float]] = {}
        self.best_epoch = 0
        self.metrics: dict[str, object] = {}
        self.unknown: dict[str, object] | None = None  # how the model says "none of my classes" (see train)

    @classmethod
    def create(cls, train_data, validation_data=None, config: TrainConfig | None = None, verbose: int = 1,
               groups: list[str] | None = None, **overrides) -> PoseClassifier:
        """Train on a KeypointDataset for ``epochs``; ``validation_data`` is scored every epoch (and, with
        ``early_stopping=True``, decides when to stop and which epoch's weights to keep). ``groups``: the
        group of each training pose (e.g. the person), for learning the "unknown" threshold."""
        unexpected = sorted(set(overrides) - set(TrainConfig.__dataclass_fields__))
        if unexpected:
            raise TypeError(f"unknown training setting {unexpected[0]!r}")
        config = replace(config or TrainConfig(), **overrides)  # the caller's config is left as it was
        movenet = {k: train_data.meta[k] for k in (*MOVENET_SETTINGS, *MOVENET_SOURCE) if k in train_data.meta}
        clf = cls(train_data.labels, config, movenet)
        validation = (validation_data.features(), validation_data.y) if validation_data is not None else None
        clf.fit(train_data.features(), train_data.y, validation, verbose, groups)
        if validation_data is not None:
            clf.metrics["validation"] = clf.evaluate(validation_data)
        return clf

    def fit(self, x: np.ndarray, y: np.ndarray, validation: tuple[np.ndarray, np.ndarray] | None = None, verbose: int = 1,
            groups: list[str] | None = None) -> PoseClassifier:
        """sklearn-style: ``x`` is ``[N,1,17,3]`` MoveNet keypoints, ``y`` class indices into ``labels``."""
        groups = None if groups is None else np.asarray(groups)
        self.model, self.history, self.best_epoch, self.unknown = train(x, np.asarray(y), len(self.labels), self.config,
                                                                        validation, verbose, groups)
        return self

    def predict_proba(self, x: np.ndarray) -> np.ndarray:
        """Class probabilities ``[N, classes]`` from the Keras model."""
        if self.model is None:
            raise RuntimeError("the classifier is not trained yet: call create() or fit() first")
        # A direct call, not Keras predict(): predict() traces a new function each time (~0.4 s), far
        # more than these few thousand poses cost through the small network.
        x = np.asarray(x, np.float32).reshape(-1, *INPUT_SHAPE)
        chunks = [np.asarray(self.model(x[i:i + PREDICT_BATCH], training=False)) for i in range(0, len(x), PREDICT_BATCH)]
        return np.concatenate(chunks) if chunks else np.zeros((0, len(self.labels)), np.float32)

    def predict(self, x: np.ndarray) -> np.ndarray:
        """Most likely class index per sample."""
        return self.predict_proba(x).argmax(axis=1)

    def evaluate(self, data) -> dict[str, object]:
        """Accuracy, per-class precision/recall/F1 and confusion matrix on a KeypointDataset (Keras model)."""
        from poseclass.data.metrics import summarize

        result = summarize(data.y, self.predict(data.features()), self.labels)
        result["model"] = "keras"
        return result

    def export(self, out_dir: str | Path, extra_metrics: dict[str, object] | None = None) -> Path:
        """Write the model directory (see :mod:`poseclass.classify.folder`): TFLite, labels, manifest, Keras, metrics."""
        if self.model is None:
            raise RuntimeError("the classifier is not trained yet: call create() or fit() first")
        self.metrics.update(extra_metrics or {})
        training = {**asdict(self.config), "hidden": list(self.config.hidden), "best_epoch": self.best_epoch,
                    "epochs_run": len(self.history.get("loss", []))}
        normalization = {
            "inside_model": True,
            "centre": "midpoint of left_hip and right_hip",
            "scale": {
                "max": f"max({TORSO_MULTIPLIER} x torso length (shoulder midpoint to hip midpoint), "
                       "largest keypoint distance from the centre), per sample",
                "robust": f"max({TORSO_MULTIPLIER} x torso length (shoulder midpoint to hip midpoint), largest "
                          f"distance from the centre of a keypoint scored >= {ROBUST_MIN_SCORE}), per sample",
                "torso": f"{TORSO_MULTIPLIER} x torso length (shoulder midpoint to hip midpoint), per sample",
            }[self.config.normalization],
            "mirror_average": self.config.mirror,
        }
        out = write_model_folder(out_dir, to_tflite(self.model), self.labels, self.movenet, normalization,
                                 training, self.metrics, self.unknown)
        self.model.save(out / KERAS_NAME)
        return out

    @classmethod
    def load(cls, model_dir: str | Path) -> PoseClassifier:
        """Reload an exported directory's Keras model (to fine-tune or compare with the TFLite one)."""
        manifest = ModelFolder.open(model_dir).manifest
        training = dict(manifest["training"])
        known = {k: v for k, v in training.items() if k in TrainConfig.__dataclass_fields__}
        known["hidden"] = tuple(known.get("hidden", TrainConfig.hidden))
        known.setdefault("unknown", False)  # folders from before "unknown" have no *other* class
        clf = cls(list(manifest["labels"]), TrainConfig(**known), dict(manifest["movenet"]))
        clf.unknown = manifest.get("unknown")
        clf.model = keras.models.load_model(Path(model_dir) / KERAS_NAME)
        return clf
