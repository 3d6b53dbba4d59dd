"""One person over time: smoothed keypoints and classes, segments and repetitions, frame by frame.

:class:`PersonTimeline` is the single implementation of per-person smoothing: the single-person
:class:`~poseclass.video.person.VideoClassifier` keeps one, the several-people classifier one per
tracked person, so both smooth, segment and count alike. :class:`VideoOptions` holds the settings
they share (the CLI's ``--alpha``, ``--count``, ``--from``, ``--enter``, ``--exit``, ``--enter-s``,
``--exit-s``, ``--min-segment``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from poseclass.classify.classifier import Classifier
from poseclass.pose.keypoints import KEYPOINT_NAMES, Pose
from poseclass.video.filters import (
    ANY,
    ENTER_HOLD_S,
    ENTER_PROBABILITY,
    EXIT_HOLD_S,
    EXIT_PROBABILITY,
    MIN_SEGMENT_S,
    SMOOTHING_ALPHA,
    CycleCounter,
    OneEuro,
    RepCounter,
    Segmenter,
    Smoother,
    repetitions,
)

Counter = RepCounter | CycleCounter


@dataclass(frozen=True)
class VideoOptions:
    """How a video's classes are smoothed, segmented and counted (defaults chosen by ``benchmarks/video.py``).

    ``alpha``: weight of each new frame in the probability average; ``count``: classes whose
    repetitions are counted; ``count_from``: count them as cycles from this class and back
    (``--from UP``; then ``count`` may name ``any``); ``enter``/``exit``: the counters' thresholds,
    ``enter_s``/``exit_s``: how long each must hold (see :class:`~poseclass.video.filters.RepCounter`);
    ``min_segment_s``: how long a class must hold to start a segment.
    """

    alpha: float = SMOOTHING_ALPHA
    count: tuple[str, ...] = ()
    enter: float = ENTER_PROBABILITY
    exit: float = EXIT_PROBABILITY
    min_segment_s: float = MIN_SEGMENT_S
    count_from: str | None = None
    enter_s: float = ENTER_HOLD_S
    exit_s: float = EXIT_HOLD_S

    def __post_init__(self) -> None:
        object.__setattr__(self, "count", tuple(dict.fromkeys(self.count)))  # a list is fine; repeats count once

    @classmethod
    def of(cls, options: VideoOptions | None = None, **settings: object) -> VideoOptions:
        """``options`` with ``settings`` given as keywords on top (a keyword set to None keeps the default)."""
        given = {k: v for k, v in settings.items() if v is not None}
        return cls(**given) if options is None else cls(**{**options.__dict__, **given})

    def missing(self, labels: list[str]) -> tuple[str, str] | None:
        """The first name that is not one of the model's ``labels``: ``("count", name)`` or ``("from", name)``
        (``any`` is a name only with ``count_from``), or None."""
        absent = [c for c in self.count if c not in labels and not (self.count_from and c == ANY)]
        if absent:
            return "count", absent[0]
        return None if self.count_from in (None, *labels) else ("from", self.count_from)

    def check(self, labels: list[str]) -> None:
        """Refuse settings that cannot work with a model whose classes are ``labels``, saying what can."""
        missing = self.missing(labels)
        if missing:
            raise ValueError(f"cannot count {'from ' if missing[0] == 'from' else ''}{missing[1]}: "
                             f"the model's classes are {', '.join(labels)}")
        self.counters()  # the counters refuse bad thresholds and hold times themselves

    def counters(self) -> list[Counter]:
        """A fresh counter per counted class: cycles from ``count_from`` when given, else held entries."""
        if self.count_from is None:
            return [RepCounter(c, self.enter, self.exit, self.enter_s, self.exit_s) for c in self.count]
        return [CycleCounter(None if c == ANY else c, self.count_from, self.enter, self.exit, self.enter_s, self.exit_s)
                for c in self.count]


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
    rep_states: dict[str, str] = field(default_factory=dict)

    @property
    def label(self) -> str | None:
        """The top smoothed class, or None when nobody is in the frame or the pose is unknown."""
        return self.labels[int(np.argmax(self.probabilities))] if self.status == "ok" else None

    @property
    def probability(self) -> float:
        return 0.0 if self.probabilities is None else float(np.max(self.probabilities))

    def rep_captions(self) -> list[str]:
        """``chair: 2 reps (leaving)`` per counted class: the count and the counter's state, so a viewer of
        ``--annotate`` sees why it counted."""
        return [f"{c}: {repetitions(n)} ({self.rep_states[c]})" for c, n in self.counts.items()]

    def to_dict(self) -> dict[str, object]:
        probs = {} if self.probabilities is None else {
            k: round(float(p), 6) for k, p in zip(self.labels, self.probabilities)}
        return {"frame": self.index, "time_s": round(self.time_s, 4), "status": self.status, "label": self.label,
                "probabilities": probs, "counts": self.counts, "rep_states": self.rep_states,
                "keypoints": self.pose.to_dicts()}

    def csv_row(self) -> list[object]:
        """The row under :func:`csv_header`."""
        probs = [""] * len(self.labels) if self.probabilities is None else [f"{p:.6f}" for p in self.probabilities]
        points = [f"{v:.{digits}f}" for (x, y), s in zip(self.pose.xy, self.pose.scores)
                  for v, digits in ((x, 2), (y, 2), (s, 4))]
        reps = [v for c, n in self.counts.items() for v in (n, self.rep_states[c])]
        return [self.index, f"{self.time_s:.4f}", self.status, self.label or "", *probs, *points, *reps]


def csv_header(labels: list[str], counted: tuple[str, ...] = ()) -> list[str]:
    """Columns of the per-frame CSV: frame, time_s, status, label, p_<class>..., <keypoint>_x/_y/_score (pixels),
    then per counted class reps_<class> and rep_state_<class> (last, so the earlier columns never move)."""
    return (["frame", "time_s", "status", "label"] + [f"p_{k}" for k in labels]
            + [f"{n}_{c}" for n in KEYPOINT_NAMES for c in ("x", "y", "score")]
            + [f"{column}_{c}" for c in counted for column in ("reps", "rep_state")])


def shares(labels: list[str], probabilities: np.ndarray) -> dict[str, float]:
    """Each class's share of the known classes' probability: what the counters compare with their thresholds.

    The model's probabilities leave out what it gives none of its classes ("unknown"), so they sum to
    less than 1 for a pose unlike its training poses (a real squat deeper than any example): a
    counter's 0.6 means "mostly this class" whatever that remainder is.
    """
    total = float(probabilities.sum())
    return {label: float(p) / total if total > 0 else 0.0 for label, p in zip(labels, probabilities)}


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
        self.counters = options.counters()
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
        status = ("no_pose" if probabilities is None else
                  "unknown" if self.classifier.is_unknown(probabilities) else "ok")
        result = FrameResult(index, t, status, self.labels, probabilities, pose)
        if self.counters and status != "unknown":  # an unknown pose is no step of any repetition: counters skip it
            by_class = None if probabilities is None else shares(self.labels, probabilities)
            for counter in self.counters:
                counter.update(by_class, t)
        self.segmenter.update(result.label, t, end)
        result.hold_s = self.segmenter.current()[1]
        result.counts = self.counts()
        result.rep_states = {c.label: c.state for c in self.counters}
        self.frames += 1
        self.first_s = t if self.first_s is None else self.first_s
        self.last_s = t
        return result

    def leave(self) -> None:
        """The person is gone for good: each counter ends what is under way as nobody-from-now-on would."""
        for counter in self.counters:
            counter.leave()

    def counts(self) -> dict[str, int]:
        """Repetitions so far of each counted class."""
        return {c.label: c.count for c in self.counters}

    def summary(self) -> dict[str, object]:
        """Frames seen, segments (the open one included, up to the last frame) and repetition counts."""
        return {"frames": self.frames, "segments": [s.to_dict() for s in self.segmenter.so_far()],
                "counts": self.counts()}


