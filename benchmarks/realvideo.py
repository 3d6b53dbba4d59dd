"""Real footage: a model's answers on hand-marked stretches of public yoga clips (issue 22).

    .venv/bin/python benchmarks/realvideo.py --model MODEL_DIR --clips data/realvideo

Every clip of ``realvideo/stretches.csv`` (staged by ``realvideo/stage.sh``; never committed) goes
through the video path of ``poseclass predict CLIP`` (tracking, One-Euro keypoints, smoothed
probabilities, "unknown"). The table gives, per stretch where a pose is clearly held, the share of
frames answered right (taught poses: the stretch's class; untaught poses: ``unknown``), then the
totals: taught frames right, untaught frames unknown, and taught frames wrongly called unknown.

MoveNet's keypoints of each clip are cached (``--cache``, by the clip's sha256 and the model's
MoveNet), so trying another model or threshold replays the clips in seconds.
``--unknown-below P`` / ``--no-unknown`` override the model's threshold, as for ``predict``.

    .venv/bin/python benchmarks/realvideo.py --train data/yoga10 [--seeds 0,1,2,3] [--set unknown_quantile=0.98]

trains once per seed instead (as ``poseclass train``, with ``--set`` settings) and gives per seed the
test split's score (unknown counted wrong) and the real clips' totals, then their mean and range: the
table of README, *Unknown poses*.
"""

from __future__ import annotations

import argparse
import csv
import functools
import io
import sys
from collections import defaultdict
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from run import ROOT, table  # noqa: E402  (benchmarks/run.py: the table with the CPU's int8 line)

from poseclass.classify.pipeline import PosePipeline  # noqa: E402
from poseclass.cli.args import add_unknown, set_unknown  # noqa: E402
from poseclass.files import atomic_write, sha256  # noqa: E402
from poseclass.images import as_rgb  # noqa: E402
from poseclass.pose.keypoints import Pose  # noqa: E402
from poseclass.pose.movenet import MoveNet  # noqa: E402
from poseclass.quiet import progress_bar  # noqa: E402
from poseclass.video.filters import FrameClock  # noqa: E402
from poseclass.video.io import read_video  # noqa: E402
from poseclass.video.timeline import PersonTimeline, VideoOptions  # noqa: E402
from poseclass.video.tracking import PoseTracker  # noqa: E402

STRETCHES = Path(__file__).resolve().parent / "realvideo" / "stretches.csv"


def stretches(path: Path = STRETCHES) -> list[dict[str, object]]:
    """The hand-marked stretches: clip, start_s, end_s, pose, taught (bool)."""
    with open(path, newline="") as handle:
        return [{**row, "start_s": float(row["start_s"]), "end_s": float(row["end_s"]), "taught": row["taught"] == "yes"}
                for row in csv.DictReader(handle)]


def keypoints(clip: Path, pipeline: PosePipeline, cache: Path, variant: str) -> dict[str, np.ndarray]:
    """Per frame: time, tracked keypoints ``[17, 3]`` (x, y, score in pixels) and the frame size; cached."""
    cached = cache / f"{clip.stem}-{digest(clip)[:12]}-{variant}.npz"
    if cached.exists():
        return dict(np.load(cached))
    tracker, times, poses, sizes = PoseTracker(pipeline.movenet), [], [], []
    for frame, t in progress_bar(iterable=read_video(clip), desc=clip.name, unit="frame", leave=False):
        pose = tracker.track(as_rgb(frame))
        times.append(t)
        poses.append(np.concatenate([pose.xy, pose.scores[:, None]], axis=1))
        sizes.append((pose.width, pose.height))
    found = {"t": np.asarray(times), "poses": np.asarray(poses, np.float32), "sizes": np.asarray(sizes)}
    cache.mkdir(parents=True, exist_ok=True)
    buffer = io.BytesIO()
    np.savez(buffer, **found)
    atomic_write(cached, buffer.getvalue())  # an interrupted run leaves no half-written cache
    return found


@functools.lru_cache(maxsize=None)
def digest(clip: Path) -> str:
    """The clip's sha256, computed once per run (``--train`` replays every clip once per seed)."""
    return sha256(clip)


def replay(found: dict[str, np.ndarray], pipeline: PosePipeline,
           options: VideoOptions | None = None) -> tuple[list[tuple[float, str, str | None]], PersonTimeline]:
    """(time, status, label) per frame, and the timeline: the cached keypoints through the video path's
    smoothing, rules and ``options``' counters."""
    person, clock, out = PersonTimeline(pipeline.classifier, options or VideoOptions()), FrameClock(), []
    for i, (t, points, (width, height)) in enumerate(zip(found["t"], found["poses"], found["sizes"])):
        pose = Pose(points[:, :2].copy(), points[:, 2].copy(), int(width), int(height))
        result = person.update(i, pose, float(t), clock.tick(float(t)), MoveNet.has_person(pose))
        out.append((float(t), result.status, result.label))
    return out, person


def score(frames: list[tuple[float, str, str | None]], stretch: dict[str, object]) -> tuple[int, int, int]:
    """(frames in the stretch, frames answered right, frames called unknown)."""
    inside = [(s, label) for t, s, label in frames if stretch["start_s"] - 1e-6 <= t <= stretch["end_s"] + 1e-6]
    unknown = sum(s == "unknown" for s, _ in inside)
    right = sum(label == stretch["pose"] for _, label in inside) if stretch["taught"] else unknown
    return len(inside), right, unknown


def tally(pipeline: PosePipeline, clips: Path, cache: Path) -> tuple[dict, dict, list]:
    """The pipeline on every marked clip: (frames, right, unknown) per (taught, pose), per kind ("taught",
    "untaught"), and per stretch (stretch, counts)."""
    marked = stretches()
    missing = sorted({s["clip"] for s in marked if not (clips / s["clip"]).exists()})
    if missing:
        sys.exit(f"{clips}: missing {', '.join(missing)}; stage them with benchmarks/realvideo/stage.sh")
    answers = {clip: replay(keypoints(clips / clip, pipeline, cache, pipeline.folder.variant), pipeline)[0]
               for clip in sorted({s["clip"] for s in marked})}
    per_pose, totals, per_stretch = defaultdict(lambda: np.zeros(3, int)), defaultdict(lambda: np.zeros(3, int)), []
    for s in marked:
        counts = np.array(score(answers[s["clip"]], s))
        totals["taught" if s["taught"] else "untaught"] += counts
        per_pose[(s["taught"], s["pose"])] += counts
        per_stretch.append((s, counts))
    return per_pose, totals, per_stretch


def share(counts: np.ndarray, column: int) -> float:
    return counts[column] / max(counts[0], 1)


def one_model(args: argparse.Namespace) -> None:
    """The table of one model folder: per pose (or per stretch), then the totals."""
    pipeline = PosePipeline.load(args.model)
    set_unknown(args, pipeline.classifier)
    per_pose, totals, per_stretch = tally(pipeline, Path(args.clips), Path(args.cache))
    if args.per_stretch:
        rows = [[s["clip"], f"{s['start_s']:.1f}-{s['end_s']:.1f}", s["pose"], "yes" if s["taught"] else "no",
                 n[0], f"{share(n, 1):.0%}", f"{share(n, 2):.0%}"] for s, n in per_stretch]
    else:
        rows = [["", "", pose, "yes" if taught else "no", n[0], f"{share(n, 1):.0%}", f"{share(n, 2):.0%}"]
                for (taught, pose), n in sorted(per_pose.items(), key=lambda kv: (not kv[0][0], kv[0][1]))]
    for kind in ("taught", "untaught"):
        n = totals[kind]
        rows.append(["all", "", f"{kind} poses", "yes" if kind == "taught" else "no", n[0], f"{share(n, 1):.1%}",
                     f"{share(n, 2):.1%}"])
    below = pipeline.classifier.unknown_below
    table(f"Real clips, {Path(args.model).name} (unknown below {below if below is not None else 'never'})",
          ["clip", "seconds", "pose", "taught", "frames", "right", "unknown"], rows)
    print("right: taught poses answered with their class; untaught poses answered unknown")


def settings(items: list[str], parser: argparse.ArgumentParser) -> dict[str, object]:
    """``--set KEY=VALUE`` items as TrainConfig settings (a value is JSON when it parses, else a string)."""
    import json

    from poseclass.training.classifier import TrainConfig

    out = {}
    for item in items:
        key, _, value = item.partition("=")
        if key not in TrainConfig.__dataclass_fields__:
            parser.error(f"--set {item}: {key!r} is not a TrainConfig setting")
        try:
            out[key] = json.loads(value)
        except ValueError:
            out[key] = value
    return out


def trained(args: argparse.Namespace, config: dict[str, object]) -> None:
    """``poseclass train DATA`` once per seed (with ``--set`` settings): its test split's score (unknown
    counted wrong) and the real clips' totals per seed, then the mean and range (README, *Unknown poses*)."""
    import tempfile

    from poseclass.training.train import train

    rows, measured = [], []
    for seed in [int(seed) for seed in args.seeds.split(",")]:
        with tempfile.TemporaryDirectory() as work:
            result = train(args.train, Path(work) / "model", fused=False, progress=False, seed=seed, **config)
            pipeline = PosePipeline.load(result.model_dir)
            _, totals, _ = tally(pipeline, Path(args.clips), Path(args.cache))
        taught, untaught = totals["taught"], totals["untaught"]
        measured.append([result.metrics["test"]["accuracy"], share(taught, 1), share(taught, 2), share(untaught, 2)])
        below = pipeline.classifier.unknown_below
        rows.append([seed, *(f"{v:.1%}" for v in measured[-1]), "never" if below is None else f"{below:.3f}"])
    values = np.array(measured)
    rows.append(["mean", *(f"{v:.1%}" for v in values.mean(0)), ""])
    rows.append(["range", *(f"{lo:.1%}-{hi:.1%}" for lo, hi in zip(values.min(0), values.max(0))), ""])
    table(f"{' '.join(['poseclass train', args.train, *args.set])} (seeds {args.seeds}): test split and real clips",
          ["seed", "test split right", "taught frames right", "taught frames unknown", "untaught frames unknown",
           "unknown below"], rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--model", help="a model folder (e.g. trained on yoga10's train/)")
    source.add_argument("--train", metavar="DATA", help="train on DATA (e.g. yoga10) once per seed and score each")
    parser.add_argument("--seeds", default="0,1,2,3,4,5,6,7", help="with --train: comma-separated seeds")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        help="with --train: a training setting (TrainConfig), e.g. --set unknown_quantile=0.98")
    parser.add_argument("--clips", default=str(ROOT / "data" / "realvideo"), help="the staged clips")
    parser.add_argument("--cache", default=str(Path.home() / ".cache" / "poseclass" / "realvideo"))
    add_unknown(parser)
    parser.add_argument("--per-stretch", action="store_true", help="one row per stretch, not per pose")
    args = parser.parse_args()
    if args.train:
        trained(args, settings(args.set, parser))
    else:
        one_model(args)


if __name__ == "__main__":
    main()
