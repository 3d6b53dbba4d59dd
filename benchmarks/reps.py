"""Repetitions on real footage: counted vs true per clip, for each way ``poseclass predict --count`` can count (issue 25).

    .venv/bin/python benchmarks/reps.py --model MODEL_DIR [--clips DIR]

The clips of ``reps/reps.csv`` (10 public clips of one person: 7 of squats, and jumping jacks, side
lunges and push-ups, on which a squat counter should count nothing) are staged by
``reps/stage.sh`` (never committed; default folder ``../data/reps`` beside the checkout). Each goes
through the video path of ``poseclass predict CLIP`` (tracking, One-Euro keypoints, smoothed
probabilities, the counters of :class:`~poseclass.video.timeline.VideoOptions`), once per rule:

- ``no holds``: the counter before issue 25 (enter at 0.6, counted at 0.4, one frame each);
- ``--count chair``: the held rule (enter held 0.2 s, exit held 0.5 s);
- ``--count chair --from tree``: one per tree -> chair -> tree cycle;
- ``--count any --from tree``: one per held excursion away from tree.

The model's ``chair`` class is the squat-like pose and ``tree`` is standing, as in the example model
(``./scripts/quickstart.sh``). MoveNet's keypoints of each clip are cached (``--cache``), so a
second run replays the clips in seconds.
"""

from __future__ import annotations

import argparse
import csv
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from realvideo import keypoints, replay  # noqa: E402  (benchmarks/realvideo.py: cached keypoints, the video path)
from run import ROOT, table  # noqa: E402  (benchmarks/run.py: the table with the CPU's int8 line)

from poseclass.classify.pipeline import PosePipeline  # noqa: E402
from poseclass.cli.args import add_unknown, set_unknown  # noqa: E402
from poseclass.video.timeline import VideoOptions  # noqa: E402

HERE = Path(__file__).resolve().parent / "reps"
RULES = {
    "no holds (before)": VideoOptions(count=("chair",), enter_s=0.0, exit_s=0.0),
    "--count chair": VideoOptions(count=("chair",)),
    "--count chair --from tree": VideoOptions(count=("chair",), count_from="tree"),
    "--count any --from tree": VideoOptions(count=("any",), count_from="tree"),
}


def truth(path: Path = HERE / "reps.csv") -> list[tuple[str, str, int]]:
    """(clip, exercise, true squats) per clip: a non-squat clip's repetitions are not squats, so 0."""
    with open(path, newline="") as handle:
        return [(row["clip"], row["exercise"], int(row["true_reps"]) if row["exercise"] == "squat" else 0)
                for row in csv.DictReader(handle)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", required=True, help="a model folder with classes chair and tree (the example's)")
    parser.add_argument("--clips", default=str(ROOT.parent / "data" / "reps"), help="the staged clips")
    parser.add_argument("--cache", default=str(Path.home() / ".cache" / "poseclass" / "reps"))
    add_unknown(parser)
    args = parser.parse_args()
    clips, marked = Path(args.clips), truth()
    missing = [clip for clip, _, _ in marked if not (clips / clip).exists()]
    if missing:
        sys.exit(f"{clips}: missing {', '.join(missing)}; stage them with benchmarks/reps/stage.sh SNAPSHOTS {clips}")
    pipeline = PosePipeline.load(args.model)
    set_unknown(args, pipeline.classifier)
    for options in RULES.values():
        options.check(list(pipeline.labels))
    counted = {}
    for clip, _, _ in marked:  # each clip's keypoints once, then every rule on them
        found = keypoints(clips / clip, pipeline, Path(args.cache), pipeline.folder.variant)
        # what ``poseclass predict CLIP`` reports: no repetition still open at the end is counted
        counted[clip] = [sum(replay(found, pipeline, options)[1].counts().values()) for options in RULES.values()]
    rows = [[clip, exercise, true, *counted[clip]] for clip, exercise, true in marked]
    errors = [sum(abs(row[3 + k] - row[2]) for row in rows) for k in range(len(RULES))]
    exact = [f"{sum(row[3 + k] == row[2] for row in rows)}/{len(rows)}" for k in range(len(RULES))]
    rows += [["sum of abs(counted - true)", "", "", *errors], ["clips counted exactly", "", "", *exact]]
    title = f"Squats counted on real clips, {Path(args.model).name}{' (--no-unknown)' if args.no_unknown else ''}"
    table(title, ["clip", "exercise", "true squats", *RULES], rows)


if __name__ == "__main__":
    main()
