"""Smoothing over time, for video: keypoints, class probabilities, segments and repetitions.

Pure numpy, no video library: each class takes one frame at a time (values and a timestamp in
seconds) and keeps only a few numbers of state, so a webcam loop, a phone stream or a
three-hour recording all run in constant memory.

- :class:`OneEuro` — the One-Euro filter (Casiez et al., CHI 2012) on keypoint positions, as
  TF.js pose-detection applies to MoveNet: little smoothing while a joint moves fast (no lag),
  a lot while it is still (no jitter). Its cut-offs are in hertz, so real timestamps matter.
- :class:`Smoother` — exponential moving average of class probabilities (MediaPipe's pose
  classifier does the same), so the top class does not flicker between frames.
- :class:`RepCounter` — counts entries into one class with hysteresis, counted on exit.
- :class:`Segmenter` — turns the per-frame top class into segments (label, start, end), with a
  minimum length, so a short flicker never starts a segment of its own.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

# TF.js pose-detection's KEYPOINT_FILTER_CONFIG for MoveNet (minCutOff 2.5, beta 300, derivateCutOff 2.5),
# there applied to coordinates normalised to [0, 1]; poseclass divides by the longer image side likewise.
ONE_EURO_MIN_CUTOFF = 2.5
ONE_EURO_BETA = 300.0
ONE_EURO_D_CUTOFF = 2.5
# Chosen by `benchmarks/video.py smoothing` (unseen subject girl1, 186 frames through all five classes): per-frame
# accuracy 0.984 raw, 0.989 at 0.6-0.8, 0.973 at 0.5, 0.941 at MediaPipe's 0.2 (too much lag at each change of
# pose); spurious label changes 4 raw, 2 at 0.3-0.8. 0.6 is the most smoothing at the best accuracy.
SMOOTHING_ALPHA = 0.6
ENTER_PROBABILITY = 0.6
EXIT_PROBABILITY = 0.4
MIN_SEGMENT_S = 0.5


def repetitions(n: int) -> str:
    """``1 rep``, ``3 reps``, ``0 reps``: a count as people read it."""
    return f"{n} rep" if n == 1 else f"{n} reps"


def _alpha(cutoff: np.ndarray | float, dt: float) -> np.ndarray | float:
    """Weight of the new sample for a first-order low-pass at ``cutoff`` Hz, ``dt`` seconds after the last one."""
    tau = 1.0 / (2 * math.pi * cutoff)
    return 1.0 / (1.0 + tau / dt)


class OneEuro:
    """One-Euro filter over an array of values (e.g. ``[17, 2]`` keypoints), element by element.

    Values are filtered in the units given: pass positions divided by the image's longer side so
    that ``beta`` means the same at every resolution. A timestamp that does not move forward
    (a repeated or reordered frame) returns the previous output unchanged.
    """

    def __init__(self, min_cutoff: float = ONE_EURO_MIN_CUTOFF, beta: float = ONE_EURO_BETA,
                 d_cutoff: float = ONE_EURO_D_CUTOFF) -> None:
        if min_cutoff <= 0 or d_cutoff <= 0 or beta < 0:
            raise ValueError("OneEuro needs min_cutoff > 0, d_cutoff > 0 and beta >= 0")
        self.min_cutoff, self.beta, self.d_cutoff = min_cutoff, beta, d_cutoff
        self.reset()

    def reset(self) -> None:
        """Forget the past: the next value passes through unfiltered (e.g. after the person was lost)."""
        self._x: np.ndarray | None = None
        self._dx: np.ndarray | None = None
        self._t = 0.0

    def __call__(self, x: np.ndarray, t: float) -> np.ndarray:
        """The filtered value of ``x`` observed at ``t`` seconds."""
        x = np.asarray(x, np.float64)
        if self._x is None:
            self._x, self._dx, self._t = x.copy(), np.zeros_like(x), t
            return x.copy()
        dt = t - self._t
        if dt <= 0:
            return self._x.copy()
        dx = (x - self._x) / dt
        self._dx = self._dx + _alpha(self.d_cutoff, dt) * (dx - self._dx)
        cutoff = self.min_cutoff + self.beta * np.abs(self._dx)
        self._x = self._x + _alpha(cutoff, dt) * (x - self._x)
        self._t = t
        return self._x.copy()


class Smoother:
    """Exponential moving average of class probabilities: ``s = alpha * p + (1 - alpha) * s``.

    ``update(None)`` (no person in the frame) forgets the past and returns None: a frame with
    nobody counts toward no class, and the next person starts afresh rather than inheriting
    the last one's pose.
    """

    def __init__(self, alpha: float = SMOOTHING_ALPHA) -> None:
        if not 0 < alpha <= 1:
            raise ValueError(f"alpha must be in (0, 1] (1: no smoothing), not {alpha!r}")
        self.alpha = alpha
        self.value: np.ndarray | None = None

    def update(self, probabilities: np.ndarray | None) -> np.ndarray | None:
        """The smoothed probabilities after this frame (None when the frame has no person)."""
        if probabilities is None:
            self.value = None
            return None
        p = np.asarray(probabilities, np.float64)
        self.value = p.copy() if self.value is None else self.alpha * p + (1 - self.alpha) * self.value
        return self.value.copy()


class RepCounter:
    """Repetitions of one class: entered at probability >= ``enter``, counted on leaving at <= ``exit``.

    The gap between the two thresholds (hysteresis, as in MediaPipe's counter) keeps a
    probability hovering around one threshold from counting many times. A frame with no
    person (``None``) counts as leaving the class.
    """

    def __init__(self, label: str, enter: float = ENTER_PROBABILITY, exit: float = EXIT_PROBABILITY) -> None:
        if not 0 <= exit < enter <= 1:
            raise ValueError(f"need 0 <= exit < enter <= 1, not enter {enter!r}, exit {exit!r}")
        self.label, self.enter, self.exit = label, enter, exit
        self.count = 0
        self.inside = False

    def update(self, probability: float | None) -> bool:
        """Feed the class's smoothed probability for one frame; True when this frame completes a repetition."""
        if not self.inside:
            self.inside = probability is not None and probability >= self.enter
            return False
        if probability is None or probability <= self.exit:
            self.inside = False
            self.count += 1
            return True
        return False


@dataclass(frozen=True)
class Segment:
    """A stretch of video where one class is on top: ``start_s`` inclusive, ``end_s`` exclusive."""

    label: str
    start_s: float
    end_s: float

    def to_dict(self) -> dict[str, object]:
        return {"label": self.label, "start_s": round(self.start_s, 3), "end_s": round(self.end_s, 3)}


class Segmenter:
    """Segments from the per-frame top label (None: nobody in the frame, which ends any segment).

    A new label takes over only once it has lasted ``min_duration`` seconds, and then from the
    frame where it began, so a flicker shorter than that neither splits a segment nor makes one.
    Only closed segments are kept, so memory grows with the number of segments, not frames.
    """

    def __init__(self, min_duration: float = MIN_SEGMENT_S) -> None:
        if min_duration < 0:
            raise ValueError(f"min_duration must be >= 0, not {min_duration!r}")
        self.min_duration = min_duration
        self.segments: list[Segment] = []
        self._current: str | None = None
        self._start = 0.0
        self._candidate: str | None = None
        self._candidate_start = 0.0
        self._end = 0.0

    def update(self, label: str | None, t: float, frame_end: float | None = None) -> None:
        """Feed one frame's label at ``t`` seconds; ``frame_end`` (default ``t``) is when the frame stops showing."""
        self._end = max(self._end, t if frame_end is None else frame_end)
        if label == self._current:
            self._candidate = self._current
            return
        if label != self._candidate:
            self._candidate, self._candidate_start = label, t
        if self._end - self._candidate_start >= self.min_duration:
            self._close(self._candidate_start)
            self._current, self._start = label, self._candidate_start

    def current(self) -> tuple[str | None, float]:
        """The label on top now and the time it has been held, in seconds (hold timer)."""
        return self._current, (self._end - self._start) if self._current is not None else 0.0

    def so_far(self) -> list[Segment]:
        """The closed segments and the open one up to the last frame, without closing it."""
        label, held = self.current()
        return self.segments + ([Segment(label, self._end - held, self._end)] if label is not None else [])

    def _close(self, end: float) -> None:
        if self._current is not None and end > self._start:
            self.segments.append(Segment(self._current, self._start, end))
