"""Video with one person: tracking, One-Euro keypoints, smoothed classes, segments and repetitions.

:class:`VideoClassifier` takes any frames with timestamps (a webcam loop, a phone stream, or
:func:`~poseclass.video.io.read_video`) and needs only the runtime install (no TensorFlow).

>>> clf = VideoClassifier(PosePipeline.load("model/"), count=["chair"])
>>> for result in clf.run(read_video("clip.mp4")):
...     result.time_s, result.label
>>> clf.summary()["segments"]
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import numpy as np
from PIL import Image

from poseclass.classify.pipeline import PosePipeline
from poseclass.images import as_rgb
from poseclass.video.filters import FrameClock
from poseclass.video.timeline import FrameResult, PersonTimeline, VideoOptions
from poseclass.video.tracking import PoseTracker

Frames = Iterable[tuple[Image.Image | np.ndarray, float]]


class VideoClassifier:
    """Classify the person in a stream of frames: tracking, One-Euro keypoints, smoothed classes, segments, reps.

    Feed frames with :meth:`push` (one at a time, e.g. from a camera callback) or :meth:`run`
    (any iterable of ``(frame, seconds)``); read :meth:`summary` at any point. State is a few
    arrays: memory does not grow with the length of the video.
    """

    def __init__(self, pipeline: PosePipeline, options: VideoOptions | None = None, **settings: object) -> None:
        """``options`` (a :class:`VideoOptions`), or its fields as keywords (``count=["chair"]``, ``alpha=0.6``, ...)."""
        self.options = VideoOptions.of(options, **settings)
        self.person = PersonTimeline(pipeline.classifier, self.options)
        self.tracker = PoseTracker(pipeline.movenet)
        self.clock = FrameClock()

    @property
    def labels(self) -> list[str]:
        """The classes, in probability order."""
        return self.person.labels

    @property
    def frames(self) -> int:
        """Frames pushed so far (the person's timeline sees every frame, with or without them)."""
        return self.person.frames

    def push(self, frame: Image.Image | np.ndarray, t: float) -> FrameResult:
        """Classify one frame shown at ``t`` seconds (timestamps must increase)."""
        pose = self.tracker.track(as_rgb(frame))
        return self.person.update(self.frames, pose, t, self.clock.tick(t), self.tracker.found)

    def run(self, frames: Frames) -> Iterator[FrameResult]:
        """:meth:`push` every ``(frame, seconds)`` of ``frames``, yielding each result as it is ready."""
        for frame, t in frames:
            yield self.push(frame, t)

    def counts(self) -> dict[str, int]:
        """Repetitions so far of each counted class."""
        return self.person.counts()

    def summary(self) -> dict[str, object]:
        """Segments (the open one included, up to the last frame) and repetition counts so far."""
        return {"frames": self.frames, "duration_s": round(self.clock.duration, 3), **self.person.summary()}
