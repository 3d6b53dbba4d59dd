"""Smoothing over time, for video: keypoints, class probabilities, segments and repetitions.

Pure numpy, no video library: each class takes one frame at a time (values and a timestamp in
seconds) and keeps only a few numbers of state, so a webcam loop, a phone stream or a
three-hour recording all run in constant memory.

- :class:`OneEuro` — the One-Euro filter (Casiez et al., CHI 2012) on keypoint positions, as
  TF.js pose-detection applies to MoveNet: little smoothing while a joint moves fast (no lag),
  a lot while it is still (no jitter). Its cut-offs are in hertz, so real timestamps matter.
- :class:`Smoother` — exponential moving average of class probabilities (MediaPipe's pose
  classifier does the same), so the top class does not flicker between frames.
- :class:`RepCounter` — repetitions of one class: an entry that holds, counted when an exit has held.
- :class:`CycleCounter` — repetitions as ``UP -> DOWN -> UP`` cycles, each pose held, counted back at UP.
- :class:`FrameClock` — when each frame stops showing, so holds are measured in seconds, not frames.
- :class:`Segmenter` — turns the per-frame top class into segments (label, start, end), with a
  minimum length, so a short flicker never starts a segment of its own.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
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
# Chosen on real footage (benchmarks/reps/FINDINGS.md: 10 public clips, 69 repetitions marked by hand): a rise
# must hold 0.2 s to start a repetition (jumping jacks flicker through `chair` for 0.2-0.3 s), a dip 0.5 s to end
# one (the bottom of a squat often reads as another class for a moment); 0.5 s is also MIN_SEGMENT_S.
ENTER_HOLD_S = 0.2
EXIT_HOLD_S = 0.5
# With `--count DOWN --from UP`, DOWN counts as reached at this probability in any frame of the excursion.
DOWN_REACHED = 0.5
ANY = "any"  # `--count any --from UP`: any held excursion away from UP is a repetition
OUTSIDE, ENTERING, INSIDE, LEAVING = "outside", "entering", "inside", "leaving"
WAITING, UP, AWAY, DOWN, RETURNING = "waiting", "up", "away", "down", "returning"
_EPSILON = 1e-9  # holds are differences of time stamps: 0.3 - 0.1 falls just short of 0.2


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


class Held:
    """Whether a probability is in a state, by the held rule both repetition counters share.

    ``outside`` -> ``entering`` at p >= ``enter``; ``inside`` once that has lasted ``enter_s`` seconds.
    ``inside`` -> ``leaving`` at p <= ``exit``; ``outside`` once that has lasted ``exit_s`` seconds.
    A rise shorter than ``enter_s`` or a dip shorter than ``exit_s`` changes nothing, and times
    are the frames' own (time stamps), so the rule is the same at 24, 30 or 60 frames a second.
    ``None`` (no evidence) is neither high nor low: it breaks a rise or a dip under way.
    """

    def __init__(self, enter: float, exit: float, enter_s: float, exit_s: float) -> None:
        if not 0 <= exit < enter <= 1:
            raise ValueError(f"need 0 <= exit < enter <= 1, not enter {enter!r}, exit {exit!r}")
        if enter_s < 0 or exit_s < 0:
            raise ValueError(f"hold times must be 0 or more seconds, not {enter_s!r} and {exit_s!r}")
        self.enter, self.exit, self.enter_s, self.exit_s = enter, exit, enter_s, exit_s
        self.state = OUTSIDE
        self.clock = FrameClock()
        self._since = 0.0  # when the rise or dip under way began

    def update(self, probability: float | None, t: float) -> bool:
        """Feed one frame shown at ``t`` seconds; True when it changes ``inside`` to ``outside`` or back."""
        end = self.clock.tick(t)
        was_inside = self.state in (INSIDE, LEAVING)
        toward = (probability is not None and probability <= self.exit) if was_inside else (
            probability is not None and probability >= self.enter)
        if not toward:
            self.state = INSIDE if was_inside else OUTSIDE
            return False
        if self.state in (INSIDE, OUTSIDE):
            self.state, self._since = (LEAVING if was_inside else ENTERING), t
        if end - self._since < (self.exit_s if was_inside else self.enter_s) - _EPSILON:
            return False
        self.state = OUTSIDE if was_inside else INSIDE
        return True

    @property
    def inside(self) -> bool:
        """In the state: entered and not yet left (``leaving`` is still inside)."""
        return self.state in (INSIDE, LEAVING)


class RepCounter:
    """Repetitions of one class: an entry into the class that holds, then an exit that holds.

    States ``outside``, ``entering``, ``inside``, ``leaving`` (:class:`Held`): a repetition begins once the
    class's share of the known classes' smoothed probability has stayed >= ``enter`` for ``enter_s`` seconds and is counted once it has
    stayed <= ``exit`` for ``exit_s``. So a dip inside one repetition (the bottom of a deep squat
    reading as another class) shorter than ``exit_s`` is not a second repetition, and a flicker
    shorter than ``enter_s`` is none. Measured on real footage (``benchmarks/reps.py``). A frame with
    nobody counts as p = 0.
    """

    def __init__(self, label: str, enter: float = ENTER_PROBABILITY, exit: float = EXIT_PROBABILITY,
                 enter_s: float = ENTER_HOLD_S, exit_s: float = EXIT_HOLD_S) -> None:
        self.label = label
        self.held = Held(enter, exit, enter_s, exit_s)
        self.count = 0

    @property
    def state(self) -> str:
        return self.held.state

    def update(self, probabilities: Mapping[str, float] | None, t: float) -> bool:
        """Feed one frame's smoothed probabilities by class (None: nobody), shown at ``t`` seconds;
        True when this frame completes a repetition."""
        done = self.held.update(0.0 if probabilities is None else probabilities[self.label], t) and not self.held.inside
        self.count += done
        return done

    def finish(self, flush: bool = False) -> bool:
        """The stream has ended. A repetition still open is counted only with ``flush``, which :meth:`leave`
        asks for; a stream's end does not count it (on real footage people walking out mid-movement added
        false counts). True when one was counted."""
        done = flush and self.held.inside
        self.count += done
        self.held.state = OUTSIDE
        return done

    def leave(self) -> bool:
        """The person is gone for good: nobody from now on, a dip that outlasts any ``exit_s``, ends a
        repetition under way, and it counts."""
        return self.finish(flush=True)


class CycleCounter:
    """Repetitions as cycles ``UP -> DOWN -> UP`` (``--count DOWN --from UP``), each held, counted back at UP.

    UP is :class:`Held` on p_UP: confirmed once p_UP >= ``enter`` has lasted ``enter_s``, left once
    p_UP <= ``exit`` (an excursion away from UP) has lasted ``exit_s``. A repetition is counted when
    UP is confirmed again after a held excursion that reached DOWN: p_DOWN >= ``DOWN_REACHED`` in some
    frame from the excursion's start until UP is back (*reached*, not held: at the bottom real people
    read as other classes too). ``down`` None (``--count any``): any held excursion counts.
    An excursion before the first UP is not a repetition, and frames with nobody confirm nothing
    (a cut or a missed detection is not standing up). States: ``waiting`` (no UP yet), ``up``,
    ``leaving``, ``away`` (excursion held, DOWN not reached yet), ``down``, ``returning``.
    """

    def __init__(self, down: str | None, up: str, enter: float = ENTER_PROBABILITY, exit: float = EXIT_PROBABILITY,
                 enter_s: float = ENTER_HOLD_S, exit_s: float = EXIT_HOLD_S) -> None:
        if down == up:
            raise ValueError(f"a cycle needs two poses: {up} to {up} is none")
        self.down, self.up = down, up
        self.label = ANY if down is None else down
        self.held = Held(enter, exit, enter_s, exit_s)
        self.count = 0
        self._seen_up = False
        self._peak = 0.0  # the highest p_DOWN since the excursion under way began

    @property
    def state(self) -> str:
        if not self._seen_up:
            return WAITING
        return {INSIDE: UP, LEAVING: LEAVING, ENTERING: RETURNING}.get(self.held.state) or (
            DOWN if self._reached() else AWAY)

    def update(self, probabilities: Mapping[str, float] | None, t: float) -> bool:
        """Feed one frame's smoothed probabilities by class (None: nobody), shown at ``t`` seconds;
        True when this frame completes a repetition."""
        before = self.held.state
        changed = self.held.update(None if probabilities is None else probabilities[self.up], t)
        if before == INSIDE and self.held.state != INSIDE:
            self._peak = 0.0  # a new excursion begins
        if probabilities is not None and self.down is not None:
            self._peak = max(self._peak, probabilities[self.down])
        if not changed or not self.held.inside:
            return False
        done = self._seen_up and self._reached()
        self._seen_up = True
        self.count += done
        return done

    def _reached(self) -> bool:
        return self.down is None or self._peak >= DOWN_REACHED

    def finish(self, flush: bool = False) -> bool:
        """The stream has ended. With ``flush``, a held excursion that reached DOWN counts (the person did
        not get back up before the end); True when one was."""
        done = flush and self._seen_up and self.held.state in (OUTSIDE, ENTERING) and self._reached()
        self.count += done
        self.held.state, self._seen_up = OUTSIDE, False
        return done

    def leave(self) -> bool:
        """The person is gone for good: nobody confirms nothing, so a cycle under way is not counted."""
        return self.finish()


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
