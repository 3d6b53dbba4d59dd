"""Video at MoveNet's pace (issue 21): the faster reader and loop change no pixel, timestamp or answer.

Correctness only: speed is measured by ``benchmarks/video.py speed``, never asserted here (a shared
machine makes timings flaky). The reference is PyAV's own ``frame.to_image()``, what the reader used
before, on clips built from the example images.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from test_video import frames_of, write_clip

from poseclass import PosePipeline, VideoClassifier
from poseclass.pose.movenet import MoveNet, body_crop, full_frame
from poseclass.video.filters import FrameClock
from poseclass.video.io import RgbFrames, read_video
from poseclass.video.timeline import PersonTimeline

av = pytest.importorskip("av")


def reference_frames(path: Path) -> list[tuple[Image.Image, float]]:
    """The clip decoded the old way: ``to_image`` per frame, the stream's timestamps from its start."""
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        start = float(stream.start_time * stream.time_base) if stream.start_time else 0.0
        return [(frame.to_image(), frame.time - start) for frame in container.decode(stream)]


def clip_of(tmp_path: Path, size: tuple[int, int] | None = None) -> Path:
    """Tree then chair of the unseen subject: the person moves, so tracking crops change from frame to frame."""
    return write_clip(tmp_path / "clip.mp4", frames_of("tree")[:12] + frames_of("chair")[:12], size=size)


# 300x300: rows padded in FFmpeg's RGB plane (900 bytes, not a multiple of its alignment); 640x480: not padded.
@pytest.mark.parametrize("size", [None, (640, 480)])
def test_reader_gives_the_old_pixels_and_timestamps(tmp_path, size):
    clip = clip_of(tmp_path, size)
    expected = reference_frames(clip)
    got = list(read_video(clip))
    assert len(got) == len(expected) == 24
    for (image, t), (want, want_t) in zip(got, expected):
        assert image.mode == "RGB" and image.size == want.size
        assert np.array_equal(np.asarray(image), np.asarray(want))
        assert t == want_t


def test_rgb_frames_owns_its_pixels(tmp_path):
    """An image stays as it was after later frames are converted (the converter's buffers are not shared)."""
    clip = clip_of(tmp_path)
    to_rgb = RgbFrames()
    with av.open(str(clip)) as container:
        images = [to_rgb(frame) for frame in container.decode(video=0)]
    assert all(np.array_equal(np.asarray(a), np.asarray(b)) for a, (b, _) in zip(images, reference_frames(clip)))


def frame_by_frame(pipeline: PosePipeline, frames: list[tuple[Image.Image, float]]) -> tuple[list, PersonTimeline]:
    """The single-person loop written out plainly, one frame at a time: the oracle for the video path."""
    net, person, clock, crop = pipeline.movenet, PersonTimeline(pipeline.classifier), FrameClock(), None
    results = []
    for index, (image, t) in enumerate(frames):
        pose = net.detect_in(image, crop or full_frame(*image.size))
        if not MoveNet.has_person(pose) and crop is not None:
            pose = net.detect_in(image, full_frame(*image.size))
        found = MoveNet.has_person(pose)
        crop = body_crop(pose.xy, pose.scores, *image.size) if found else None
        results.append(person.update(index, pose, t, clock.tick(t), found))
    return results, person


def test_video_answers_are_those_of_the_plain_loop(model_dir, tmp_path):
    """The whole video path (reader on its thread, tracking, classifier, smoothing) against the plain loop on
    frames decoded the old way. Grey frames in the middle make tracking lose the person and find them again."""
    clip = write_clip(tmp_path / "clip.mp4", frames_of("tree")[:10] + [None] * 3 + frames_of("chair")[:10],
                      size=(640, 480))
    expected, person = frame_by_frame(PosePipeline.load(model_dir), reference_frames(clip))
    video = VideoClassifier(PosePipeline.load(model_dir))
    got = list(video.run(read_video(clip)))
    assert len(got) == len(expected) == 23
    assert {r.status for r in expected} == {"ok", "no_pose"} and {r.label for r in expected} >= {"tree", "chair"}
    for a, b in zip(got, expected):
        assert (a.index, a.time_s, a.status, a.label, a.counts) == (b.index, b.time_s, b.status, b.label, b.counts)
        if b.probabilities is not None:
            np.testing.assert_allclose(a.probabilities, b.probabilities, atol=1e-6)
        np.testing.assert_allclose(a.pose.xy, b.pose.xy, atol=1e-4)
    assert video.person.summary() == person.summary()
