"""Video files and cameras: telling a video from an image, reading frames, writing an annotated copy.

Everything goes through PyAV (FFmpeg's libraries), from the ``video`` extra, imported only when
a video is actually opened, so still images never need it. Frames come out as
``(RGB Pillow image, seconds)``: what :class:`~poseclass.video.person.VideoClassifier` and
:class:`~poseclass.video.people.PeopleVideoClassifier` take, like any other frame source.
"""

from __future__ import annotations

import contextlib
import queue
import sys
import threading
from collections.abc import Iterable, Iterator
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from PIL import Image, ImageDraw

from poseclass.errors import VideoError
from poseclass.extras import require
from poseclass.images import is_image
from poseclass.pose.draw import caption, draw_pose, font_of

if TYPE_CHECKING:
    import av

    from poseclass.video.timeline import FrameResult

VIDEO = "video"
# First bytes of the common containers, so a video is recognised (and the missing extra named) without PyAV.
_SIGNATURES = ((4, b"ftyp"), (4, b"moov"), (4, b"mdat"), (4, b"wide"), (0, b"\x1aE\xdf\xa3"), (8, b"AVI "),
               (0, b"FLV"), (0, b"OggS"), (0, b"\x00\x00\x01\xba"), (0, b"\x00\x00\x01\xb3"))
# Top-level boxes of MP4 and QuickTime files: how a file cut short is told apart from garbage after a header.
_MP4_BOXES = {b"ftyp", b"moov", b"mdat", b"free", b"skip", b"wide", b"uuid", b"pdin", b"meta", b"styp", b"sidx",
              b"moof", b"mfra"}
# FFmpeg demuxers that turn a still image (chosen by file extension) or text (ANSI art) into "video".
_STILL_FORMATS = {"image2", "image2pipe", "tty"}
# Frames decoded ahead of MoveNet: enough to overlap the two, few enough to keep memory small.
PREFETCH = 4
# A stream whose last frame ends this much before its declared duration was cut short.
_TRUNCATION_SLACK_S = 0.5


Frames = Iterable[tuple[Image.Image | np.ndarray, float]]


def looks_like_video(path: str | Path) -> bool:
    """Whether the file starts like a video container (mp4, mov, mkv, webm, avi, flv, ogg, mpeg), by content."""
    try:
        with open(path, "rb") as handle:
            head = handle.read(16)
    except OSError:
        return False
    return any(head[at:at + len(magic)] == magic for at, magic in _SIGNATURES)


def cut_short(path: str | Path) -> bool:
    """Whether ``path`` is an MP4/MOV cut short: its top-level boxes are real ones, but one runs past the end
    of the file (a copy or download that stopped; with the index at the end, nothing can be decoded)."""
    try:
        size = Path(path).stat().st_size
        with open(path, "rb") as handle:
            at = 0
            while at + 8 <= size:
                handle.seek(at)
                length, kind = int.from_bytes(handle.read(4), "big"), handle.read(4)
                if kind not in _MP4_BOXES:
                    return False
                if length == 1:  # a 64-bit size follows
                    length = int.from_bytes(handle.read(8), "big")
                if length < 8:
                    return False
                if at + length > size:
                    return True
                at += length
    except OSError:
        return False
    return False


def is_video(path: str | Path) -> bool:
    """Whether ``path`` is a video rather than an image, by content: anything Pillow reads is an image
    (FFmpeg would also open a JPEG, as a one-frame video)."""
    if is_image(path):
        return False
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


class RgbFrames:
    """Decoded video frames as RGB Pillow images, pixel for pixel what ``frame.to_image()`` gives, for less CPU.

    ``to_image`` builds and frees a swscale converter (and its thread pool) for every frame and copies
    the pixels three times; here one converter is kept for the whole stream, single-threaded (the
    decoder and MoveNet already use the cores), and the RGB plane is read in place: one copy, into
    Pillow. The decode thread then takes less from MoveNet, which shares its cores.
    """

    def __init__(self) -> None:
        from av.video.reformatter import VideoReformatter

        self._converter = VideoReformatter()

    def __call__(self, frame: av.VideoFrame) -> Image.Image:
        """``frame`` as an RGB image (its own pixels: the frame may be freed or reused afterwards)."""
        rgb = self._converter.reformat(frame, format="rgb24", threads=1)
        return Image.fromarray(rgb.to_ndarray())  # a view of the plane; Pillow copies it once


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
            if cut_short(path):  # an MP4/MOV whose boxes run past the end: its index (moov) was never reached
                raise VideoError(f"{self.name}: the video is damaged or truncated, FFmpeg cannot open it ({error}); "
                                 "copy or export it again") from None
            raise VideoError(f"{self.name}: cannot read it as an image or a video ({error}); "
                             "re-export it as MP4 or JPEG/PNG") from None
        if not self._container.streams.video:
            self._container.close()
            raise VideoError(f"{self.name}: cannot read it as an image or a video (no picture in it)")
        self._stream = self._container.streams.video[0]
        # One decoding thread, not FFmpeg's automatic count: MoveNet's threads already take the cores, and more
        # decoder threads only contend with them (end to end 1-2 % faster than the automatic count, 640x480 and 720p).
        self._stream.codec_context.thread_count = 1
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
        t, to_rgb = -1.0 / self.fps, RgbFrames()
        try:
            for frame in self._container.decode(self._stream):
                if stop.is_set():
                    return
                t = frame.time - start if frame.time is not None else t + 1.0 / self.fps
                self.frames_read += 1
                frames.put((to_rgb(frame), t))
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
        out = draw_pose(image, result.pose) if result.status != "no_pose" else image.copy()
        top = (f"{result.label} {result.probability:.2f}  held {result.hold_s:.1f} s" if result.label
               else "unknown pose" if result.status == "unknown" else "no person")
        lines = [top]
        lines += result.rep_captions()
        caption(ImageDraw.Draw(out), (6, 6), "\n".join(lines), font_of(max(11, image.height // 30)), margin=3)
        return out

    def close(self) -> None:
        """Flush the encoder and finish the file."""
        if self._stream is not None:
            for packet in self._stream.encode():
                self._container.mux(packet)
        self._container.close()
