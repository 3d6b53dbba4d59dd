"""Video: frames in, per-frame poses and classes out, with tracking, smoothing, segments and repetitions.

The streaming part (:class:`PoseTracker`, :class:`VideoClassifier`) takes any frames with
timestamps (a webcam loop, a phone stream) and needs only the runtime. :class:`PersonTimeline`
is one person's smoothing, segments and counts, shared with the several-people classifier
(:mod:`poseclass.runtime.people_video`). Reading and writing video files goes through PyAV
(FFmpeg's libraries), from the ``video`` extra, imported only when a video is actually opened,
so still images never need it.

>>> clf = VideoClassifier(PosePipeline.load("model/"), count=["chair"])
>>> for result in clf.run(read_video("clip.mp4")):
...     result.time_s, result.label
>>> clf.summary()["segments"]
"""

from __future__ import annotations

import contextlib
import queue
import sys
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, UnidentifiedImageError

from poseclass.extras import require
from poseclass.runtime.draw import caption, draw_pose, font_of
from poseclass.runtime.images import ImageError, as_rgb
from poseclass.runtime.keypoints import KEYPOINT_NAMES, Pose
from poseclass.runtime.movenet import Crop, MoveNet, body_crop, full_frame
from poseclass.runtime.pipeline import PosePipeline
from poseclass.runtime.smoothing import (ENTER_PROBABILITY, EXIT_PROBABILITY, MIN_SEGMENT_S, SMOOTHING_ALPHA,
                                         OneEuro, RepCounter, Segmenter, Smoother)

VIDEO = "video"
# First bytes of the common containers, so a video is recognised (and the missing extra named) without PyAV.
_SIGNATURES = ((4, b"ftyp"), (4, b"moov"), (4, b"mdat"), (4, b"wide"), (0, b"\x1aE\xdf\xa3"), (8, b"AVI "),
               (0, b"FLV"), (0, b"OggS"), (0, b"\x00\x00\x01\xba"), (0, b"\x00\x00\x01\xb3"))
# FFmpeg demuxers that turn a still image (chosen by file extension) or text (ANSI art) into "video".
_STILL_FORMATS = {"image2", "image2pipe", "tty"}
# Frames decoded ahead of MoveNet: enough to overlap the two, few enough to keep memory small.
PREFETCH = 4
# A stream whose last frame ends this much before its declared duration was cut short.
_TRUNCATION_SLACK_S = 0.5


class VideoError(ImageError):
    """A video that cannot be read (to the end); the message names the file. An ImageError, so it is
    reported exactly like a bad image."""


Frames = Iterable[tuple[Image.Image | np.ndarray, float]]


def looks_like_video(path: str | Path) -> bool:
    """Whether the file starts like a video container (mp4, mov, mkv, webm, avi, flv, ogg, mpeg), by content."""
    try:
        with open(path, "rb") as handle:
            head = handle.read(16)
    except OSError:
        return False
    return any(head[at:at + len(magic)] == magic for at, magic in _SIGNATURES)


def is_video(path: str | Path) -> bool:
    """Whether ``path`` is a video rather than an image, by content: anything Pillow reads is an image
    (FFmpeg would also open a JPEG, as a one-frame video)."""
    try:
        with Image.open(path):
            return False
    except (UnidentifiedImageError, OSError, ValueError):
        pass
    if looks_like_video(path):
        return True
    from poseclass.extras import available

    if not available("av"):
        return False
    import av

    try:
        with av.open(str(path)) as container:
            formats = set(container.format.name.split(","))
            still = bool(formats & _STILL_FORMATS) or any(name.endswith("_pipe") for name in formats)
            return bool(container.streams.video) and not still
    except (av.FFmpegError, OSError, ValueError):
        return False


class VideoReader:
    """The frames of a video file or camera as ``(RGB Pillow image, seconds)``, decoded one at a time.

    Timestamps are the stream's own (variable frame rate is kept), counted from the stream's
    start. When decoding stops early (damaged or truncated file) the frames read so far have
    been yielded and :attr:`error` says what happened; iteration never raises for a bad file.
    """

    def __init__(self, path: str | Path, format: str | None = None, name: str | None = None) -> None:
        require(VIDEO, "av", what="video input")
        import av

        self.name = name or str(path)
        try:
            self._container = av.open(str(path), format=format)
        except (av.FFmpegError, OSError, ValueError) as error:
            if format is not None:  # a capture device, not a file
                raise VideoError(f"{self.name}: cannot open it ({error}); check --camera N") from None
            raise VideoError(f"{self.name}: cannot read it as an image or a video ({error}); "
                             "re-export it as MP4 or JPEG/PNG") from None
        if not self._container.streams.video:
            self._container.close()
            raise VideoError(f"{self.name}: cannot read it as an image or a video (no picture in it)")
        self._stream = self._container.streams.video[0]
        self._stream.thread_type = "AUTO"
        self.error: str | None = None
        self.frames_read = 0

    @property
    def total(self) -> int | None:
        """The number of frames the file declares (None when it does not say, as for a camera)."""
        return self._stream.frames or None

    @property
    def fps(self) -> float:
        rate = self._stream.average_rate or self._stream.guessed_rate
        return float(rate) if rate else 30.0

    def _declared_end(self) -> float | None:
        """How long the stream says it is, in seconds (None when unknown)."""
        if self._stream.duration and self._stream.time_base:
            return float(self._stream.duration * self._stream.time_base)
        return self._container.duration / 1e6 if self._container.duration else None

    def __iter__(self) -> Iterator[tuple[Image.Image, float]]:
        """Frames decoded on a background thread, at most ``PREFETCH`` ahead: decoding and RGB conversion
        overlap MoveNet (about 1.3x the frame rate on 2 cores), and memory stays bounded."""
        frames: queue.Queue = queue.Queue(PREFETCH)
        stop = threading.Event()
        worker = threading.Thread(target=self._decode_into, args=(frames, stop), daemon=True)
        worker.start()
        try:
            while (item := frames.get()) is not None:
                yield item
        finally:
            stop.set()
            while worker.is_alive():  # a put may be waiting on the full queue: make room until it ends
                with contextlib.suppress(queue.Empty):
                    frames.get_nowait()
                worker.join(0.01)

    def _decode_into(self, frames: queue.Queue, stop: threading.Event) -> None:
        import av

        start = float(self._stream.start_time * self._stream.time_base) if self._stream.start_time else 0.0
        t = -1.0 / self.fps
        try:
            for frame in self._container.decode(self._stream):
                if stop.is_set():
                    return
                t = frame.time - start if frame.time is not None else t + 1.0 / self.fps
                self.frames_read += 1
                frames.put((frame.to_image(), t))
            self._check_complete(t)
        except av.FFmpegError as error:
            self.error = f"{self.name}: the video is damaged or truncated after frame {self.frames_read} ({error})"
        finally:
            self._container.close()
            frames.put(None)

    def _check_complete(self, t: float) -> None:
        """Set :attr:`error` when the stream ended before the frames or the duration it declares."""
        declared, step = self._declared_end(), 1.0 / self.fps
        if self.total and self.frames_read < self.total or declared and t + step < declared - _TRUNCATION_SLACK_S:
            self.error = (f"{self.name}: the video is truncated: read {self.frames_read} frames up to {max(t, 0):.2f} s"
                          f" of {declared or 0:.2f} s")
        elif self.frames_read == 0:
            self.error = f"{self.name}: the video has no frames"


def read_video(path: str | Path) -> VideoReader:
    """Open a video file for :meth:`VideoClassifier.run` (needs the ``video`` extra)."""
    return VideoReader(path)


def open_camera(index: int) -> VideoReader:
    """Webcam number ``index`` through FFmpeg's capture device for this system (v4l2, AVFoundation, DirectShow)."""
    if sys.platform.startswith("linux"):
        return VideoReader(f"/dev/video{index}", format="v4l2", name=f"camera {index}")
    if sys.platform == "darwin":
        return VideoReader(str(index), format="avfoundation", name=f"camera {index}")
    return VideoReader(f"video={index}", format="dshow", name=f"camera {index}")


class PoseTracker:
    """MoveNet on a stream: each frame is cropped around the body found in the previous one.

    One inference per frame in steady state. The first frame, and any frame after the person
    was lost, is seen whole (letterboxed); when a crop finds nobody, the same frame is tried
    whole at once, so a person who left the crop is found again without waiting a frame.
    """

    def __init__(self, movenet: MoveNet) -> None:
        self.movenet = movenet
        self.crop: Crop | None = None

    def track(self, image: Image.Image) -> Pose:
        """The pose in this frame (check :meth:`MoveNet.has_person`), and the crop for the next one."""
        width, height = image.size
        pose = self.movenet.detect_in(image, self.crop or full_frame(width, height))
        if not MoveNet.has_person(pose) and self.crop is not None:
            pose = self.movenet.detect_in(image, full_frame(width, height))
        person = MoveNet.has_person(pose)
        self.crop = body_crop(pose.xy, pose.scores, width, height) if person else None
        return pose


@dataclass
class FrameResult:
    """One frame's answer. ``probabilities`` are smoothed, in label order (None when ``status`` is ``no_pose``);
    ``pose`` has One-Euro-filtered keypoints (MoveNet's raw ones when nobody was found)."""

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
        """The top smoothed class, or None when nobody is in the frame."""
        return None if self.probabilities is None else self.labels[int(np.argmax(self.probabilities))]

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

    def __init__(self, pipeline: PosePipeline, alpha: float = SMOOTHING_ALPHA, count: Iterable[str] = (),
                 enter: float = ENTER_PROBABILITY, exit: float = EXIT_PROBABILITY,
                 min_segment_s: float = MIN_SEGMENT_S) -> None:
        self.classifier, self.labels = pipeline.classifier, list(pipeline.labels)
        unknown = [c for c in count if c not in self.labels]
        if unknown:
            raise ValueError(f"cannot count {', '.join(unknown)}: the model's classes are {', '.join(self.labels)}")
        self.keypoint_filter = OneEuro()
        self.smoother = Smoother(alpha)
        self.counters = [RepCounter(c, enter, exit) for c in dict.fromkeys(count)]
        self._counted = [self.labels.index(counter.label) for counter in self.counters]  # class index per counter
        self.segmenter = Segmenter(min_segment_s)
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
        result = FrameResult(index, t, "ok" if present else "no_pose", self.labels, probabilities, pose)
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


class VideoClassifier:
    """Classify the person in a stream of frames: tracking, One-Euro keypoints, smoothed classes, segments, reps.

    Feed frames with :meth:`push` (one at a time, e.g. from a camera callback) or :meth:`run`
    (any iterable of ``(frame, seconds)``); read :meth:`summary` at any point. State is a few
    arrays: memory does not grow with the length of the video.
    """

    def __init__(self, pipeline: PosePipeline, alpha: float = SMOOTHING_ALPHA, count: Iterable[str] = (),
                 enter: float = ENTER_PROBABILITY, exit: float = EXIT_PROBABILITY,
                 min_segment_s: float = MIN_SEGMENT_S) -> None:
        self.person = PersonTimeline(pipeline, alpha, count, enter, exit, min_segment_s)
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
        return self.person.update(self.frames, pose, t, self.clock.tick(t), MoveNet.has_person(pose))

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


class AnnotatedWriter:
    """Writes frames with the skeleton, the current label and probability, hold timer and counts drawn on.

    H.264 in MP4 (MPEG-4 Part 2 where FFmpeg lacks an H.264 encoder); timestamps are the input's
    own, in milliseconds, so a variable-frame-rate input keeps its timing.
    """

    def __init__(self, path: str | Path, fps: float = 30.0) -> None:
        require(VIDEO, "av", what="--annotate")
        import av

        self.path, self.fps = Path(path), fps
        try:
            self._container = av.open(str(path), "w")
        except (av.FFmpegError, OSError, ValueError) as error:
            raise VideoError(f"cannot write the video {path} ({error}); "
                             "pass --annotate OUT.mp4 somewhere writable") from None
        self._stream = None
        self._last_pts = -1

    def _open_stream(self, width: int, height: int) -> None:
        import av

        codec = "libx264" if "libx264" in av.codecs_available else "mpeg4"
        self._stream = self._container.add_stream(codec, rate=max(1, round(self.fps)))
        self._stream.width, self._stream.height, self._stream.pix_fmt = width, height, "yuv420p"
        self._stream.time_base = Fraction(1, 1000)
        self._stream.codec_context.time_base = Fraction(1, 1000)

    def write(self, image: Image.Image, result: FrameResult) -> None:
        """Draw ``result`` on ``image`` and append it."""
        self.write_image(self._draw(image, result), result.time_s)

    def write_image(self, image: Image.Image, time_s: float) -> None:
        """Append ``image`` (already drawn on) as the frame shown at ``time_s`` seconds."""
        import av

        if image.width % 2 or image.height % 2:  # the encoder needs even sides
            image = image.crop((0, 0, image.width // 2 * 2, image.height // 2 * 2))
        if self._stream is None:
            self._open_stream(*image.size)
        pts = max(round(time_s * 1000), self._last_pts + 1)
        self._last_pts = pts
        frame = av.VideoFrame.from_image(image)
        frame.pts, frame.time_base = pts, Fraction(1, 1000)
        for packet in self._stream.encode(frame):
            self._container.mux(packet)

    def _draw(self, image: Image.Image, result: FrameResult) -> Image.Image:
        out = draw_pose(image, result.pose) if result.status == "ok" else image.copy()
        top = f"{result.label} {result.probability:.2f}  held {result.hold_s:.1f} s" if result.label else "no person"
        lines = [top]
        lines += [f"{label}: {n} reps" for label, n in result.counts.items()]
        caption(ImageDraw.Draw(out), (6, 6), "\n".join(lines), font_of(max(11, image.height // 30)), margin=3)
        return out

    def close(self) -> None:
        """Flush the encoder and finish the file."""
        if self._stream is not None:
            for packet in self._stream.encode():
                self._container.mux(packet)
        self._container.close()
