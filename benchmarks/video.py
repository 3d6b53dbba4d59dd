"""Video benchmarks: one command, tables on stdout.

    .venv/bin/python benchmarks/video.py --model runs/model             # speed and smoothing
    .venv/bin/python benchmarks/video.py speed --model runs/model       # one section

speed: on a 640x480 clip, for each MoveNet variant, in one run: the reader alone (frames/s),
MoveNet alone on the very inputs tracking gives it (invoke only: the bound video can reach), crop +
bicubic resize + invoke on decoded frames (the ceiling while each crop waits for the previous
frame's pose), and end to end (decode + tracking + MoveNet + classifier + smoothing), in ms per
frame, median of --rounds; the ratios are MoveNet alone over each, within each round.

smoothing: how the probability average's alpha trades per-frame accuracy against label flicker,
on clips of the unseen subject (girl1) that walk through every class; it chose
poseclass.video.filters.SMOOTHING_ALPHA.

Data: ../shared/datasets (or $POSECLASS_DATASETS). MODEL_DIR: a folder from `poseclass train`
whose training kept girl1 out (``--group-pattern``) for an honest smoothing table.
"""

from __future__ import annotations

import argparse
import itertools
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent))
from run import TRAIN, table  # benchmarks/run.py: data paths, and the table with the CPU's int8 line

from poseclass.classify.folder import TFLITE_NAME
from poseclass.classify.pipeline import Classifier, PosePipeline
from poseclass.files import LABELS_NAME, read_labels
from poseclass.pose.models import DEFAULT_VARIANT
from poseclass.pose.movenet import Crop, MoveNet, full_frame
from poseclass.video.filters import SMOOTHING_ALPHA, Segmenter, Smoother
from poseclass.video.io import read_video
from poseclass.video.person import VideoClassifier
from poseclass.video.tracking import PoseTracker

FPS = 30
ROUNDS = 5
SUBJECT = "girl1"


def write_clip(path: Path, frames: list[Path], size: tuple[int, int], fps: int = FPS) -> None:
    """An H.264 MP4 of ``frames``, each scaled to the clip's height and centred on grey."""
    import av

    width, height = size
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=fps)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        for i, file in enumerate(frames):
            canvas = Image.new("RGB", size, (128, 128, 128))
            picture = Image.open(file).convert("RGB")
            picture = picture.resize((round(picture.width * height / picture.height), height))
            canvas.paste(picture, ((width - picture.width) // 2, 0))
            frame = av.VideoFrame.from_image(canvas)
            frame.pts = i
            container.mux(stream.encode(frame))
        container.mux(stream.encode())


@dataclass
class Timing:
    """One variant's times, a row per round: decode-only frames/s, then MoveNet alone, the ceiling (crop +
    resize + inference) and end to end, in ms per frame."""

    rounds: list[tuple[float, float, float, float]] = field(default_factory=list)

    def median(self, column: int) -> float:
        return float(np.median([row[column] for row in self.rounds]))

    def ratio(self, column: int) -> float:
        """MoveNet alone over ``column``, taken within each round and then the median: the four are timed
        back to back, so load that comes and goes on a shared machine touches both sides of each ratio."""
        return float(np.median([row[1] / row[column] for row in self.rounds]))


def per_frame_ms(work: Callable[[], int]) -> float:
    """Milliseconds per frame of ``work``, which returns how many frames it handled."""
    start = time.perf_counter()
    n = work()
    return 1000 * (time.perf_counter() - start) / n


def decode_fps(clip: Path) -> float:
    """Frames/s of the reader alone (decode, RGB conversion, the hand-over between threads)."""
    return 1000 / per_frame_ms(lambda: sum(1 for _ in read_video(clip)))


def tracked_crops(net: MoveNet, images: list[Image.Image]) -> list[Crop]:
    """The crop tracking feeds MoveNet on each frame, so MoveNet alone sees the inputs video does."""
    tracker, crops = PoseTracker(net), []
    for image in images:
        crops.append(tracker.crop or full_frame(*image.size))
        tracker.track(image)
    return crops


def movenet_alone_ms(net: MoveNet, inputs: list[np.ndarray]) -> float:
    """MoveNet's invoke on ready inputs: the bound video can reach."""
    interpreter, index = net.interpreter, net.interpreter.get_input_details()[0]["index"]

    def work() -> int:
        for x in inputs:
            interpreter.set_tensor(index, x)
            interpreter.invoke()
        return len(inputs)

    return per_frame_ms(work)


def ceiling_ms(net: MoveNet, images: list[Image.Image], crops: list[Crop]) -> float:
    """Crop, bicubic resize and invoke on decoded frames: what one frame costs even with decoding free, since
    each crop comes from the previous frame's pose and cannot overlap the inference before it."""

    def work() -> int:
        for image, crop in zip(images, crops):
            net.run(image, crop)
        return len(images)

    return per_frame_ms(work)


def end_to_end_ms(pipeline: PosePipeline, clip: Path) -> float:
    """The whole video path: reader, tracking, MoveNet, classifier, smoothing, segments."""
    return per_frame_ms(lambda: sum(1 for _ in VideoClassifier(pipeline).run(read_video(clip))))


def bench_speed(model_dir: Path, frames: int, rounds: int) -> None:
    files = sorted((TRAIN / "tree").glob("girl2_tree*.jpg"))
    clip_files = [files[i % len(files)] for i in range(frames)]
    manifest_labels = read_labels(model_dir / LABELS_NAME)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        clip = Path(tmp) / "clip.mp4"
        write_clip(clip, clip_files, (640, 480))
        images = [image for image, _ in read_video(clip)]
        for variant in dict.fromkeys(["lightning", "thunder", DEFAULT_VARIANT]):
            net = MoveNet(variant)
            pipeline = PosePipeline(net, Classifier(model_dir / TFLITE_NAME, manifest_labels))
            crops = tracked_crops(net, images)
            inputs = [net.model_input(image, crop)[None] for image, crop in zip(images, crops)]
            list(VideoClassifier(pipeline).run(read_video(clip)))  # warm-up: caches, allocations
            timing = Timing()
            for _ in range(rounds):
                alone, ceiling = movenet_alone_ms(net, inputs), ceiling_ms(net, images, crops)
                net.inferences = 0
                e2e = end_to_end_ms(pipeline, clip)
                per_frame = net.inferences / len(images)
                timing.rounds.append((decode_fps(clip), alone, ceiling, e2e))
            label = f"{variant} (default)" if variant == DEFAULT_VARIANT else variant
            rows.append([label, per_frame, round(timing.median(0)), timing.median(1), timing.median(2),
                         timing.ratio(2), timing.median(3), timing.ratio(3)])
    table(f"video: end to end against MoveNet alone, 640x480 H.264 clip of {frames} frames, median of {rounds} rounds",
          ["variant", "inferences/frame", "decode-only frames/s", "MoveNet alone ms/frame",
           "crop+resize+inference ms/frame", "ceiling (MoveNet / that)", "end-to-end ms/frame",
           "ratio (MoveNet / end-to-end)"], rows)


def bench_smoothing(model_dir: Path) -> None:
    """Per-frame accuracy and label changes for each alpha, from one pass of raw probabilities."""
    classes = read_labels(model_dir / LABELS_NAME)
    files, truth = [], []
    for name in classes:
        clip = sorted((TRAIN / name).glob(f"{SUBJECT}_{name}*.jpg"))
        files += clip
        truth += [name] * len(clip)
    pipeline = PosePipeline.load(model_dir)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "clip.mp4"
        write_clip(path, files, (300, 300), fps=10)
        raw = [r.probabilities for r in VideoClassifier(pipeline, alpha=1.0).run(read_video(path))]
    true_changes = len(classes) - 1
    rows = []
    for alpha in (1.0, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2):
        smoother, labels = Smoother(alpha), []
        for p in raw:
            s = smoother.update(p)
            labels.append(None if s is None else classes[int(np.argmax(s))])
        changes = sum(a != b for a, b in itertools.pairwise(labels))
        segmenter = Segmenter()
        for i, label in enumerate(labels):
            segmenter.update(label, i / 10, (i + 1) / 10)
        accuracy = float(np.mean([a == b for a, b in zip(labels, truth)]))
        rows.append([alpha, accuracy, changes - true_changes, len(segmenter.so_far()) - len(classes)])
    table(f"video: probability smoothing on {SUBJECT} (unseen), {len(truth)} frames at 10 frames/s, "
          f"{len(classes)} classes in turn (default alpha {SMOOTHING_ALPHA})",
          ["alpha", "per-frame accuracy", "extra label changes", "extra segments (min 0.5 s)"], rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("sections", nargs="*", choices=[[], "speed", "smoothing"], help="default: both")
    parser.add_argument("--model", type=Path, default=Path("runs/model"), help="a model folder (default runs/model)")
    parser.add_argument("--frames", type=int, default=150, help="frames in the speed clip (default 150)")
    parser.add_argument("--rounds", type=int, default=ROUNDS, help=f"speed: median of N rounds (default {ROUNDS})")
    args = parser.parse_args()
    if not (args.model / "manifest.json").is_file():
        parser.error(f"{args.model} is not a model folder: train one with `poseclass train` and pass --model")
    for name in args.sections or ["speed", "smoothing"]:
        bench_speed(args.model, args.frames, args.rounds) if name == "speed" else bench_smoothing(args.model)


if __name__ == "__main__":
    main()
