"""Video benchmarks: one command, tables on stdout.

    .venv/bin/python benchmarks/video.py --model runs/model             # speed and smoothing
    .venv/bin/python benchmarks/video.py speed --model runs/model       # one section

speed: end-to-end frames/s (decode + tracking + MoveNet + classifier + smoothing) on a 640x480
clip for each MoveNet variant, next to the raw MoveNet inference rate (invoke only) measured in
the same run: the bound video can reach. smoothing: how the probability average's alpha trades
per-frame accuracy against label flicker, on clips of the unseen subject (girl1) that walk
through every class; it chose poseclass.video.filters.SMOOTHING_ALPHA.

Data: ../shared/datasets (or $POSECLASS_DATASETS). MODEL_DIR: a folder from `poseclass train`
whose training kept girl1 out (``--group-pattern``) for an honest smoothing table.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent))
from run import TRAIN, table  # noqa: E402  (benchmarks/run.py: data paths and the table with the CPU's int8 line)

from poseclass.classify.folder import TFLITE_NAME  # noqa: E402
from poseclass.classify.pipeline import Classifier, PosePipeline  # noqa: E402
from poseclass.files import LABELS_NAME, read_labels  # noqa: E402
from poseclass.pose.models import DEFAULT_VARIANT  # noqa: E402
from poseclass.pose.movenet import MoveNet  # noqa: E402
from poseclass.video.filters import SMOOTHING_ALPHA, Segmenter, Smoother  # noqa: E402
from poseclass.video.io import read_video  # noqa: E402
from poseclass.video.person import VideoClassifier  # noqa: E402

FPS = 30
ROUNDS = 3
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


def raw_rate(net: MoveNet, n: int) -> float:
    """MoveNet inferences per second on one fixed input: invoke alone, no image work."""
    interpreter = net.interpreter
    detail = interpreter.get_input_details()[0]
    interpreter.set_tensor(detail["index"], np.zeros(detail["shape"], detail["dtype"]))
    interpreter.invoke()
    start = time.perf_counter()
    for _ in range(n):
        interpreter.invoke()
    return n / (time.perf_counter() - start)


def bench_speed(model_dir: Path, frames: int) -> None:
    files = sorted((TRAIN / "tree").glob("girl2_tree*.jpg"))
    clip_files = [files[i % len(files)] for i in range(frames)]
    manifest_labels = read_labels(model_dir / LABELS_NAME)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        clip = Path(tmp) / "clip.mp4"
        write_clip(clip, clip_files, (640, 480))
        variants = dict.fromkeys(["lightning", "thunder", DEFAULT_VARIANT])
        for variant in variants:
            net = MoveNet(variant)
            pipeline = PosePipeline(net, Classifier(model_dir / TFLITE_NAME, manifest_labels))
            list(VideoClassifier(pipeline).run(read_video(clip)))  # warm-up: caches, allocations
            e2e, raw = 0.0, 0.0
            for _ in range(ROUNDS):  # interleaved, best of each: the machine is shared, so load comes and goes
                net.inferences = 0
                start = time.perf_counter()
                n = sum(1 for _ in VideoClassifier(pipeline).run(read_video(clip)))
                e2e = max(e2e, n / (time.perf_counter() - start))
                raw = max(raw, raw_rate(net, frames))
            label = f"{variant} (default)" if variant == DEFAULT_VARIANT else variant
            rows.append([label, n, net.inferences / n, e2e, raw, e2e / raw])
    table(f"video: end-to-end vs raw MoveNet, 640x480 H.264 clip of {frames} frames",
          ["variant", "frames", "inferences/frame", "end-to-end frames/s", "raw MoveNet inferences/s", "ratio"], rows)


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
        changes = sum(a != b for a, b in zip(labels, labels[1:]))
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
    args = parser.parse_args()
    if not (args.model / "manifest.json").is_file():
        parser.error(f"{args.model} is not a model folder: train one with `poseclass train` and pass --model")
    for name in args.sections or ["speed", "smoothing"]:
        bench_speed(args.model, args.frames) if name == "speed" else bench_smoothing(args.model)


if __name__ == "__main__":
    main()
