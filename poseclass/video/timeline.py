"""One person over time: smoothed keypoints and classes, segments and repetitions, frame by frame.

:class:`PersonTimeline` is the single implementation of per-person smoothing: the single-person
:class:`~poseclass.video.person.VideoClassifier` keeps one, the several-people classifier one per
tracked person, so both smooth, segment and count alike. :class:`VideoOptions` holds the settings
they share (the CLI's ``--alpha``, ``--count``, ``--enter``, ``--exit``, ``--min-segment``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from poseclass.classify.classifier import Classifier
from poseclass.pose.keypoints import KEYPOINT_NAMES, Pose
from poseclass.video.filters import (
    ENTER_PROBABILITY,
    EXIT_PROBABILITY,
    MIN_SEGMENT_S,
    SMOOTHING_ALPHA,
    OneEuro,
    RepCounter,
    Segmenter,
    Smoother,
)


@dataclass(frozen=True)
class VideoOptions:
    """How a video's classes are smoothed, segmented and counted (defaults chosen by ``benchmarks/video.py``).

    ``alpha``: weight of each new frame in the probability average; ``count``: classes whose
    repetitions are counted; ``enter``/``exit``: the counter's hysteresis; ``min_segment_s``: how
    long a class must hold to start a segment.
    """

    alpha: float = SMOOTHING_ALPHA
    count: tuple[str, ...] = ()
    enter: float = ENTER_PROBABILITY
    exit: float = EXIT_PROBABILITY
    min_segment_s: float = MIN_SEGMENT_S

    def __post_init__(self) -> None:
        object.__setattr__(self, "count", tuple(dict.fromkeys(self.count)))  # a list is fine; repeats count once

    @classmethod
    def of(cls, options: VideoOptions | None = None, **settings: object) -> VideoOptions:
        """``options`` with ``settings`` given as keywords on top (a keyword set to None keeps the default)."""
        given = {k: v for k, v in settings.items() if v is not None}
        return cls(**given) if options is None else cls(**{**options.__dict__, **given})

    def check(self, labels: list[str]) -> None:
        """Refuse settings that cannot work with a model whose classes are ``labels``, saying what can."""
        unknown = [c for c in self.count if c not in labels]
        if unknown:
            raise ValueError(f"cannot count {', '.join(unknown)}: the model's classes are {', '.join(labels)}")


@dataclass
class FrameResult:
    """One frame's answer. ``status``: ``ok``, ``unknown`` (the smoothed pose is none of the classes: no label,
    no segment) or ``no_pose``. ``probabilities`` are smoothed, in label order (None when ``status`` is
    ``no_pose``); ``pose`` has One-Euro-filtered keypoints (MoveNet's raw ones when nobody was found)."""

    index: int
    time_s: float
    status: str
    labels: list[str]
    probabilities: np.ndarray | None
    pose: Pose
    hold_s: float = 0.0
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def label(self) -> str | None:
        """The top smoothed class, or None when nobody is in the frame or the pose is unknown."""
        return self.labels[int(np.argmax(self.probabilities))] if self.status == "ok" else None

    @property
    def probability(self) -> float:
        return 0.0 if self.probabilities is None else float(np.max(self.probabilities))

    def to_dict(self) -> dict[str, object]:
        probs = {} if self.probabilities is None else {
            k: round(float(p), 6) for k, p in zip(self.labels, self.probabilities)}
        return {"frame": self.index, "time_s": round(self.time_s, 4), "status": self.status, "label": self.label,
                "probabilities": probs, "keypoints": self.pose.to_dicts()}

    def csv_row(self) -> list[object]:
        """The row under :func:`csv_header`."""
        probs = [""] * len(self.labels) if self.probabilities is None else [f"{p:.6f}" for p in self.probabilities]
        points = [f"{v:.{digits}f}" for (x, y), s in zip(self.pose.xy, self.pose.scores)
                  for v, digits in ((x, 2), (y, 2), (s, 4))]
        return [self.index, f"{self.time_s:.4f}", self.status, self.label or "", *probs, *points]


def csv_header(labels: list[str]) -> list[str]:
    """Columns of the per-frame CSV: frame, time_s, status, label, p_<class>..., <keypoint>_x/_y/_score (pixels)."""
    return (["frame", "time_s", "status", "label"] + [f"p_{k}" for k in labels]
            + [f"{n}_{c}" for n in KEYPOINT_NAMES for c in ("x", "y", "score")])


class FrameClock:
    """Frame times of a stream: when it started and when its latest frame stops showing.

    The next frame's time is not known yet, so the latest frame is taken to last as long as the
    gap before it (a repeated or reordered timestamp keeps the previous gap).
    """

    def __init__(self) -> None:
        self.first: float | None = None
        self.last: float | None = None
        self.step = 0.0

    def tick(self, t: float) -> float:
        """Note a frame shown at ``t`` seconds; when it stops showing."""
        self.step = t - self.last if self.last is not None and t > self.last else self.step
        self.last = t
        self.first = t if self.first is None else self.first
        return t + self.step

    @property
    def duration(self) -> float:
        return 0.0 if self.first is None else self.last + self.step - self.first


class PersonTimeline:
    """One person over time: One-Euro keypoints, smoothed class probabilities, segments and repetitions.

    The single implementation of per-person smoothing: :class:`VideoClassifier` keeps one, the
    multi-person classifier one per tracked person, so both smooth, segment and count alike.
    Building one checks the settings (a count of an unknown class, a bad threshold).
    """

    def __init__(self, classifier: Classifier, options: VideoOptions = VideoOptions()) -> None:
        self.classifier, self.labels = classifier, list(classifier.labels)
        options.check(self.labels)
        self.keypoint_filter = OneEuro()
        self.smoother = Smoother(options.alpha)
        self.counters = [RepCounter(c, options.enter, options.exit) for c in options.count]
        self._counted = [self.labels.index(counter.label) for counter in self.counters]  # class index per counter
        self.segmenter = Segmenter(options.min_segment_s)
        self.frames = 0
        self.first_s: float | None = None
        self.last_s: float | None = None

    def update(self, index: int, pose: Pose, t: float, end: float, present: bool = True) -> FrameResult:
        """Frame ``index``, shown from ``t`` to ``end`` seconds, with this person's ``pose`` (``present``: found)."""
        if present:
            side = float(max(pose.width, pose.height))
            pose = Pose(self.keypoint_filter(pose.xy / side, t).astype(np.float32) * side, pose.scores,
                        pose.width, pose.height)
            probabilities = self.smoother.update(self.classifier.predict_proba(pose.as_movenet())[0])
        else:
            probabilities = self.smoother.update(None)
            self.keypoint_filter.reset()
        status = "no_pose" if probabilities is None else "unknown" if self.classifier.is_unknown(probabilities) else "ok"
        result = FrameResult(index, t, status, self.labels, probabilities, pose)
        for counter, k in zip(self.counters, self._counted):
            counter.update(None if probabilities is None else float(probabilities[k]))
        self.segmenter.update(result.label, t, end)
        result.hold_s = self.segmenter.current()[1]
        result.counts = self.counts()
        self.frames += 1
        self.first_s = t if self.first_s is None else self.first_s
        self.last_s = t
        return result

    def leave(self) -> None:
        """The person is gone for good: a repetition in progress ends, as when nobody is in the frame."""
        for counter in self.counters:
            counter.update(None)

    def counts(self) -> dict[str, int]:
        """Repetitions so far of each counted class."""
        return {c.label: c.count for c in self.counters}

    def summary(self) -> dict[str, object]:
        """Frames seen, segments (the open one included, up to the last frame) and repetition counts."""
        return {"frames": self.frames, "segments": [s.to_dict() for s in self.segmenter.so_far()],
                "counts": self.counts()}


