"""``inspect_data``: what is wrong with a labelled image tree, as plain data. It never changes the data.

Keypoints come from the same cache as ``train`` and ``evaluate`` (:func:`cached_preprocess`),
so inspecting a tree that was trained on runs no MoveNet at all, and training after an
inspection reuses its keypoints. Each finding is a *kind* (a stable name for scripts) and a
*reason* (a sentence for people); a suspect is one file with all of its findings.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from poseclass.data.inspect import pixels, poses
from poseclass.data.preprocess import SPLITS, cached_preprocess, read_csv, scan
from poseclass.errors import ImageError
from poseclass.pose.models import DEFAULT_VARIANT

# Two pictures are the same picture when their hashes differ in at most this many of 64 bits
# (re-saved, resized or lightly cropped copies do) and MoveNet sees the same pose in both. The
# pose check matters: the hash is mostly the background, and consecutive CGI frames of one
# subject on one background hash within 2 bits even when the pose has changed.
SAME_PICTURE = 6
# Mean keypoint distance in body sizes (poses.normalise): a re-saved JPEG moves MoveNet's keypoints
# by up to ~0.02; the closest hash-alike pictures of different poses are 0.15 apart (yoga10) and
# 0.85 (CGI frames of one subject in two classes).
SAME_POSE = 0.05
# Without a pose to compare (no person found) only an all but identical hash counts.
SAME_PICTURE_NO_POSE = 2
# Within one class and split a copy only adds weight, and a CGI or video set is full of near
# copies (frames): only pictures with identical hashes and poses closer than this are listed.
COPY_POSE = 0.003
SKIP_KINDS = {"unreadable": "unreadable", "error": "unreadable", "no_pose": "no_person", "not_image": "not_image"}
# Every kind of finding, most serious first (suspects are listed in this order), with what it means.
EXPLAIN = {
    "leak": "same picture in two splits: the test score is inflated",
    "duplicate_other_class": "same picture in two classes: one label is wrong",
    "duplicate": "identical copies within a class",
    "wrong_class": "pose far from its class, close to another: likely mislabelled",
    "outlier": "pose looks like another class: unusual or mislabelled",
    "no_person": "MoveNet finds nobody",
    "low_confidence": "keypoints barely seen",
    "partial_body": "most of the body not visible",
    "blank": "almost one flat colour",
    "drawing": "drawing, silhouette or clip art",
    "unreadable": "cannot be read as an image",
    "not_image": "not an image file (ignored)",
}
KINDS = tuple(EXPLAIN)


@dataclass
class Suspect:
    """One file and everything found wrong with it."""

    file: str  # relative to DATA_DIR
    path: str
    split: str
    class_name: str
    kinds: list[str] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)
    keypoints: list[list[float]] | None = None  # 17 x (x, y, score) in image pixels, for drawing the skeleton

    @property
    def reason(self) -> str:
        return "; ".join(self.reasons)

    def add(self, kind: str, reason: str) -> None:
        if kind not in self.kinds:
            self.kinds.append(kind)
            self.reasons.append(reason)


@dataclass
class _Sample:
    """A readable image: where it is, its pixel statistics and, when MoveNet found a person, its pose."""

    file: str
    split: str
    class_name: str
    stats: pixels.PixelStats
    features: np.ndarray | None = None  # [1, 17, 3] (y, x, score), the classifier's frame


def inspect_data(data_dir: str | Path, *, variant: str = DEFAULT_VARIANT, movenet_path: str | Path | None = None,
                 workers: int | None = None, progress: bool = True) -> dict[str, object]:
    """Find duplicates, leaks, likely mislabelled poses and images that cannot teach; JSON-ready.

    Returns ``{data_dir, variant, labels, counts, visibility, by_kind, suspects, settings}``;
    every suspect is ``{file, path, split, class_name, kinds, reasons, reason, keypoints}``
    (``keypoints``: 17 x (x, y, score) in image pixels, or None without a pose).
    """
    tree = scan(data_dir)
    result = cached_preprocess(data_dir, variant=variant, movenet_path=movenet_path, workers=workers,
                               progress=progress)
    suspects: dict[str, Suspect] = {}

    def suspect(file: str, split: str, class_name: str) -> Suspect:
        if file not in suspects:
            suspects[file] = Suspect(file, str(tree.root / file), split, class_name)
        return suspects[file]

    for row in result.skipped:
        suspect(row.file, row.split, row.class_name).add(SKIP_KINDS.get(row.status, row.status), row.reason)
    samples = _samples(tree, {row.file for row in result.skipped if row.status != "no_pose"}, progress)
    for path in result.csv.values():
        rows = read_csv(path, result.labels)
        for file, features in zip(rows.files, rows.features):
            if file in samples:
                samples[file].features = features
    ordered = sorted(samples.values(), key=lambda s: (SPLITS.index(s.split) if s.split in SPLITS else 0, s.file))
    _find_pictures(ordered, suspect)
    _find_duplicates(ordered, suspect)
    posed = [s for s in ordered if s.features is not None]
    _find_faint(posed, suspect)
    _find_wrong_class(posed, result.labels, suspect)
    for s in _posed_suspects(samples, suspects):
        suspects[s.file].keypoints = _pixel_keypoints(s)
    found = sorted(suspects.values(), key=lambda s: (min(map(KINDS.index, s.kinds)), s.file))
    return {
        "data_dir": str(tree.root), "variant": variant, "labels": result.labels,
        "counts": {split: {c: sum(i.class_name == c for i in items) for c in tree.labels}
                   for split, items in tree.items.items()},
        "visibility": _visibility(posed, result.labels),
        "by_kind": {kind: sum(kind in s.kinds for s in found) for kind in KINDS if any(kind in s.kinds for s in found)},
        "suspects": [dict(asdict(s), reason=s.reason) for s in found],
        "settings": _settings(),
    }


def _settings() -> dict[str, float]:
    """The thresholds behind every finding, so that a saved report says how it was made."""
    return {"same_picture_bits": SAME_PICTURE, "same_pose": SAME_POSE, "copy_pose": COPY_POSE,
            "neighbours": poses.K_NEIGHBOURS, "min_votes": poses.MIN_VOTES, "far_ratio": poses.FAR_RATIO,
            "outlier_min_class": poses.OUTLIER_MIN_CLASS, "visible_score": poses.VISIBLE,
            "low_presence": poses.LOW_PRESENCE, "min_visible": poses.MIN_VISIBLE,
            "blank_spread": pixels.BLANK_SPREAD, "drawing_top_colours": pixels.DRAWING_TOP_COLOURS}


def _posed_suspects(samples: dict[str, _Sample], suspects: dict[str, Suspect]) -> list[_Sample]:
    """The suspects that have a pose, to draw their skeletons."""
    return [samples[f] for f in suspects if f in samples and samples[f].features is not None]


def _pixel_keypoints(sample: _Sample) -> list[list[float]]:
    """The pose in image pixels: the classifier's frame is divided by the longer image side."""
    side = max(sample.stats.size)
    kp = sample.features[0]
    return [[round(float(x) * side, 1), round(float(y) * side, 1), round(float(s), 3)] for y, x, s in kp]


def _samples(tree: object, unreadable: set[str], progress: bool) -> dict[str, _Sample]:
    """Pixel statistics of every image MoveNet could read, with a progress bar (a second per ~50 images)."""
    from poseclass.quiet import progress_bar

    items = [item for items in tree.items.values() for item in items if item.rel not in unreadable]
    samples = {}
    with progress_bar(total=len(items), desc="pixels (hashes, blank, drawings)", unit="img",
                      disable=not progress) as bar:
        for item in items:
            try:
                samples[item.rel] = _Sample(item.rel, item.split, item.class_name, pixels.pixel_stats(item.path))
            except ImageError:
                pass  # MoveNet read it, Pillow now cannot: changed since; preprocess reports it next run
            bar.update(1)
    return samples


def _find_pictures(samples: list[_Sample], suspect: Callable[[str, str, str], Suspect]) -> None:
    """Blank and drawing-like pictures: nothing to see, or not a photo of a person."""
    for s in samples:
        if s.stats.blank:
            suspect(s.file, s.split, s.class_name).add(
                "blank", f"blank: almost one flat colour (grey-level spread {s.stats.spread:.1f} of 255)")
        elif s.stats.drawing:
            suspect(s.file, s.split, s.class_name).add(
                "drawing", f"drawing, silhouette or clip art: {s.stats.top_colours:.0%} of it is 5 flat colours")


_BITS_IN_BYTE = np.array([bin(i).count("1") for i in range(256)], np.uint8)


def _hash_distances(samples: list[_Sample]) -> np.ndarray:
    """``[N, N]`` hash distances (uint8), a mirrored copy counted as the same picture.

    Rows are done in blocks, so 10,000 images need tens of MB, not the GB a full ``[N, N, 64]`` would.
    """
    hashes = np.array([s.stats.hash for s in samples], np.uint64)
    mirrors = np.array([s.stats.mirror_hash for s in samples], np.uint64)

    def popcount(x: np.ndarray) -> np.ndarray:
        return _BITS_IN_BYTE[x.view(np.uint8).reshape(*x.shape, 8)].sum(axis=-1, dtype=np.uint8)

    out = np.empty((len(hashes), len(hashes)), np.uint8)
    for start in range(0, len(hashes), 256):
        rows = hashes[start:start + 256, None]
        out[start:start + 256] = np.minimum(popcount(rows ^ hashes[None]), popcount(rows ^ mirrors[None]))
    return out


def _find_duplicates(samples: list[_Sample], suspect: Callable[[str, str, str], Suspect]) -> None:
    """The same picture in two splits (leakage), in two classes (one label is wrong), or twice in one class."""
    usable = [s for s in samples if not s.stats.blank]  # blank pictures all hash alike; they are reported as blank
    if len(usable) < 2:
        return
    distance = _hash_distances(usable)
    for i, j in zip(*np.nonzero(np.triu(distance <= SAME_PICTURE, k=1))):
        a, b, bits = usable[i], usable[j], int(distance[i, j])
        apart = _pose_distance(a, b)
        if not (bits <= SAME_PICTURE_NO_POSE if apart is None else apart <= SAME_POSE):
            continue
        how = "identical" if bits == 0 else f"{bits} of 64 hash bits differ"
        if a.split != b.split:
            for one, other in ((a, b), (b, a)):
                suspect(one.file, one.split, one.class_name).add(
                    "leak", f"same picture as {other.file} ({how}): the {other.split} split holds it too")
        elif a.class_name != b.class_name:
            for one, other in ((a, b), (b, a)):
                suspect(one.file, one.split, one.class_name).add(
                    "duplicate_other_class", f"same picture as {other.file} ({how}), labelled {other.class_name}")
        elif bits == 0 and (apart is None or apart <= COPY_POSE):
            suspect(b.file, b.split, b.class_name).add("duplicate", f"a copy of {a.file} ({how})")


def _pose_distance(a: _Sample, b: _Sample) -> float | None:
    """How far apart the poses of two pictures are (body sizes), or None when either has no pose."""
    if a.features is None or b.features is None:
        return None
    return float(poses.pose_distances(poses.normalise(np.stack([a.features, b.features])))[0, 1])


def _find_faint(samples: list[_Sample], suspect: Callable[[str, str, str], Suspect]) -> None:
    """Poses too faint or too cut off to teach the classifier much."""
    for s in samples:
        found = poses.faint_reason(s.features[0, :, 2])
        if found:
            suspect(s.file, s.split, s.class_name).add(*found)


def _find_wrong_class(samples: list[_Sample], labels: list[str], suspect: Callable[[str, str, str], Suspect]) -> None:
    """Poses whose nearest poses (k-NN, all splits) are mostly of one other class: mislabelled, or an outlier."""
    if len(samples) <= poses.K_NEIGHBOURS:
        return
    y = np.array([labels.index(s.class_name) for s in samples])
    distances = poses.pose_distances(poses.normalise(np.stack([s.features for s in samples])))
    winner, votes = poses.neighbour_votes(distances, y)
    ratio = poses.nearest_ratio(distances, y, winner)
    class_size = np.bincount(y, minlength=len(labels))
    for s, own, best, n, r in zip(samples, y, winner, votes, ratio):
        if best == own or n < poses.MIN_VOTES:
            continue
        looks = f"pose looks like {labels[best]} ({n} of {poses.K_NEIGHBOURS} nearest poses)"
        if r >= poses.FAR_RATIO:
            closer = f"{r:.1f}x closer than" if r < 100 else "the same pose, far closer than"
            suspect(s.file, s.split, s.class_name).add(
                "wrong_class", f"{looks}, and the nearest {labels[best]} pose is {closer} any "
                f"{s.class_name} pose: likely in the wrong class folder")
        elif class_size[own] >= poses.OUTLIER_MIN_CLASS:
            suspect(s.file, s.split, s.class_name).add(
                "outlier", f"{looks}, not {s.class_name}: an unusual {s.class_name}, or mislabelled")


def _visibility(samples: list[_Sample], labels: list[str]) -> dict[str, dict[str, object]]:
    """Per class: poses found, mean keypoints visible (of 17) and the three least visible keypoints."""
    by_class: dict[str, list[np.ndarray]] = defaultdict(list)
    for s in samples:
        by_class[s.class_name].append(s.features[0, :, 2])
    out = {}
    for label in labels:
        if by_class[label]:
            scores = np.stack(by_class[label])
            shares = poses.visibility(scores)
            out[label] = {"poses": len(scores),
                          "mean_visible": round(float((scores >= poses.VISIBLE).sum(axis=1).mean()), 1),
                          "least_visible": dict(sorted((kv for kv in shares.items() if kv[1] < 1), key=lambda kv: kv[1])[:3])}
    return out
