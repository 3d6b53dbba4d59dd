""""Unknown": teaching the classifier what none of its poses looks like, and when to say so.

A softmax always names one of its classes, confidently even for a pose it never saw (measured
in ``benchmarks/unknown_FINDINGS.md``: the top probability of a plain model tells unseen poses
apart no better than chance on CGI). So the network is trained with one more class, *other*,
whose examples are made from the training poses themselves (outlier exposure with synthetic
negatives; no extra data):

- **chimera**: a pose with the arms, or the legs, of a pose of another class;
- **bent**: one limb swung 60-180° about its shoulder or hip;
- **turned**: the whole pose turned by 90°, 180° or 270°;
- **blend**: halfway between two poses of different classes;
- **knee**: one shin swung 45-135° about its knee (warrior II with both knees bent is a goddess pose).

The negatives together weigh ``weight`` times all the known poses in training: weighted as one
class more, they were barely fitted, and real untaught poses kept a known class's probability.

Negatives that land close to a real training pose (nearer than half of the training poses are
to each other, in normalised pose space) are dropped: a plank turned upright *is* a mountain pose.

The exported model keeps only the N real classes' probabilities, *not* renormalised: the mass the
network puts on *other* is what the pose lacks. A pose is "unknown" when the largest of them is
under ``unknown_below``, which is learned out of fold: models trained on part of the training
poses (whole groups when the user names groups) answer the rest, and ``unknown_below`` is the
``1 - quantile`` quantile of their top probability, so about ``quantile`` of new poses of known
classes are kept. Measured on yoga10 and real clips (README, *Unknown poses*).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from poseclass.pose.keypoints import INDEX, LIMBS, mirrored


@dataclass(frozen=True)
class UnknownRule:
    """How "unknown" is learned (defaults measured on yoga10 and real clips: README, *Unknown poses*)."""

    quantile: float = 0.99  # share of known poses (out of fold) kept
    weight: float = 2.0  # the negatives together weigh this many times all the known poses in training
    negatives: int = 1  # synthetic negatives made per training pose (before the closeness filter)
    folds: int = 2  # out-of-fold models that set the threshold
    fold_epochs: float = 0.25  # their epochs, as a share of the model's (they only need to be as sure)
    neighbours: int = 5  # closeness filter: mean distance to this many nearest training poses
    keep_beyond: float = 0.5  # ... kept when farther than this quantile of the training poses' own distances
    max_references: int = 2000  # the closeness filter compares with at most this many training poses


def distances(features: np.ndarray, references: np.ndarray, neighbours: int) -> np.ndarray:
    """Per pose, the mean of the ``neighbours`` smallest distances of the pose or its mirror to ``references``.

    ``features`` ``[N,17,3]`` normalised (y, x, score); ``references`` ``[M,17,2]``. A distance is the mean
    squared keypoint distance weighted by the query's scores, so keypoints MoveNet is unsure of count less.
    Expanded as Σw|a|² − 2Σw a·r + Σw|r|², so the pairs cost two matrix products.
    """
    refs = np.asarray(references, np.float64)
    ref_flat, ref_sq = refs.reshape(len(refs), -1).T, (refs ** 2).sum(-1).T  # [34, M], [17, M]
    out = np.empty(len(features))
    for start in range(0, len(features), 1024):
        chunk = np.asarray(features[start:start + 1024], np.float64)
        both = np.concatenate([chunk, mirrored(chunk, x=1)])
        yx, w = both[:, :, :2], both[:, :, 2]
        d = ((w * (yx ** 2).sum(-1)).sum(-1, keepdims=True) - 2 * (yx * w[:, :, None]).reshape(len(both), -1) @ ref_flat
             + w @ ref_sq) / np.maximum(w.sum(-1, keepdims=True), 1e-6)
        d = np.concatenate([d[:len(chunk)], d[len(chunk):]], axis=1)  # [n, 2M]: pose and mirror vs every reference
        k = min(neighbours, d.shape[1])
        out[start:start + len(chunk)] = np.maximum(np.partition(d, k - 1, axis=1)[:, :k], 0).mean(1)
    return out


def _other_class(y: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """For each pose, the index of a random pose of another class."""
    picks = rng.integers(0, len(y), len(y))
    for _ in range(20):  # redraw the few that landed in their own class
        same = y[picks] == y
        if not same.any():
            break
        picks[same] = rng.integers(0, len(y), int(same.sum()))
    return picks


def _chimera(f: np.ndarray, y: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Each pose with the arms or the legs (offsets from shoulder or hip) of a pose of another class."""
    out, donor = f.copy(), f[_other_class(y, rng)]
    legs = rng.random(len(f)) < 0.5
    for root, middle, end in LIMBS:
        take = legs == (root in (INDEX["left_hip"], INDEX["right_hip"]))
        for joint, parent in ((middle, root), (end, middle)):
            out[take, joint, :2] = out[take, parent, :2] + donor[take, joint, :2] - donor[take, parent, :2]
    return out


def _bent(f: np.ndarray, y: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Each pose with one limb swung by ±60-180° about its root."""
    out = f.copy()
    limb = rng.integers(0, len(LIMBS), len(f))
    angle = rng.uniform(np.pi / 3, np.pi, len(f)) * rng.choice([-1.0, 1.0], len(f))
    for i, (root, middle, end) in enumerate(LIMBS):
        rows = np.flatnonzero(limb == i)
        _rotate(f, out, rows, root, (middle, end), angle[rows])
    return out


def _rotate(f: np.ndarray, out: np.ndarray, rows: np.ndarray, pivot: int, joints: tuple[int, ...],
            angle: np.ndarray) -> None:
    """``out[rows, joints]`` = ``f[rows, joints]`` turned by ``angle`` (one per row) about keypoint ``pivot``."""
    centre = f[rows, pivot, :2][:, None]
    cos, sin = np.cos(angle)[:, None], np.sin(angle)[:, None]
    rel = f[rows][:, joints, :2] - centre
    out[rows[:, None], joints, 0] = centre[..., 0] + cos * rel[..., 0] - sin * rel[..., 1]
    out[rows[:, None], joints, 1] = centre[..., 1] + sin * rel[..., 0] + cos * rel[..., 1]


def _knee(f: np.ndarray, y: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Each pose with one shin swung by ±45-135° about its knee (a straight leg bent, a bent one straightened)."""
    out = f.copy()
    left = rng.random(len(f)) < 0.5
    angle = rng.uniform(np.pi / 4, 3 * np.pi / 4, len(f)) * rng.choice([-1.0, 1.0], len(f))
    for side, rows in (("left", np.flatnonzero(left)), ("right", np.flatnonzero(~left))):
        _rotate(f, out, rows, INDEX[f"{side}_knee"], (INDEX[f"{side}_ankle"],), angle[rows])
    return out


def _turned(f: np.ndarray, y: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Each pose turned about its hips by 90°, 180° or 270°."""
    angle = rng.integers(1, 4, len(f)) * (np.pi / 2)
    cos, sin = np.cos(angle)[:, None], np.sin(angle)[:, None]
    out = f.copy()
    out[:, :, 0] = cos * f[:, :, 0] - sin * f[:, :, 1]
    out[:, :, 1] = sin * f[:, :, 0] + cos * f[:, :, 1]
    return out


def _blend(f: np.ndarray, y: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Each pose halfway to a pose of another class (scores: the lower of the two)."""
    donor = f[_other_class(y, rng)]
    out = (f + donor) / 2
    out[:, :, 2:] = np.minimum(f[:, :, 2:], donor[:, :, 2:])
    return out


MAKERS: tuple[Callable[[np.ndarray, np.ndarray, np.random.Generator], np.ndarray], ...] = (
    _chimera, _bent, _turned, _blend, _knee)


def negatives(features: np.ndarray, y: np.ndarray, rule: UnknownRule, seed: int,
              normalize: Callable[[np.ndarray], np.ndarray]) -> np.ndarray:
    """Synthetic poses of none of the classes, from normalised training ``features`` ``[N,17,3]``.

    ``normalize`` maps poses ``[M,17,3]`` to the model's features again (a changed limb can change
    the pose's scale). A negative is dropped when it is nearer to the training poses than the
    ``keep_beyond`` quantile of the training poses' distances to their own nearest neighbours.
    """
    rng = np.random.default_rng(seed)
    made = []
    for _ in range(rule.negatives):
        maker = rng.integers(0, len(MAKERS), len(features))
        for i, make in enumerate(MAKERS):
            rows = np.flatnonzero(maker == i)
            if len(rows):
                made.append(make(features[rows], y[rows], rng))
    candidates = normalize(np.concatenate(made).astype(np.float32))
    refs = _references(features, rule, rng)
    # each training pose's own distance to the others (itself excluded: k + 1 nearest, minus the zero; a
    # pose left out of the references, past max_references, has no zero, so its distance reads a little high)
    own = distances(features, refs, rule.neighbours + 1) * (rule.neighbours + 1) / rule.neighbours
    return candidates[distances(candidates, refs, rule.neighbours) > np.quantile(own, rule.keep_beyond)]


def _references(features: np.ndarray, rule: UnknownRule, rng: np.random.Generator) -> np.ndarray:
    """The training poses' (y, x), at most ``rule.max_references`` of them (a random subset)."""
    keep = np.arange(len(features))
    if len(keep) > rule.max_references:
        keep = np.sort(rng.choice(keep, rule.max_references, replace=False))
    return np.ascontiguousarray(features[keep, :, :2], np.float32)


def folds(y: np.ndarray, rule: UnknownRule, groups: np.ndarray | None,
          seed: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """(fit, held) index pairs: whole groups when given (a new person is new: random folds of
    near-duplicate frames would make the threshold too sure), else stratified random."""
    from sklearn.model_selection import GroupKFold, StratifiedKFold

    if groups is not None and len(set(groups)) >= 2:
        return list(GroupKFold(min(rule.folds, len(set(groups)))).split(y, y, groups))
    counts = np.bincount(y)
    n = min(rule.folds, int(counts[counts > 0].min()))
    if n < 2:
        raise ValueError("too few training poses per class to learn when a pose is unknown (needs 2 or more)")
    return list(StratifiedKFold(n, shuffle=True, random_state=seed).split(y, y))


def threshold(top: np.ndarray, rule: UnknownRule) -> float:
    """``unknown_below``: the top probability that ``rule.quantile`` of out-of-fold known poses reach."""
    return float(np.quantile(top, 1 - rule.quantile))
