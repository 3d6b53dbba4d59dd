"""``poseclass preprocess DATA_DIR --out OUT_DIR``: stage 1, images -> keypoint CSVs (parallel, resumable)."""

from __future__ import annotations

import argparse

from poseclass.cli.args import add_dask, add_exclude, add_pose_model, executor, positive_int, progress
from poseclass.cli.output import emit_json


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("preprocess", help="images -> keypoint CSVs (stage 1)",
                       description="Run MoveNet over DATA_DIR/<class>/<images> or DATA_DIR/{train,test}/<class>/<images> "
                       "and write one CSV per split, labels.txt and skipped.csv into --out. Re-running reuses "
                       "finished work; an interrupted run resumes.")
    p.add_argument("data_dir", metavar="DATA_DIR")
    p.add_argument("--out", required=True, metavar="OUT_DIR")
    add_pose_model(p, multi_person=True)
    p.add_argument("--workers", type=positive_int, default=None, help="parallel processes (default: all cores)")
    p.add_argument("--passes", type=positive_int, default=None, help="at most this many MoveNet passes per image")
    add_dask(p)
    add_exclude(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from poseclass.data.preprocess import preprocess
    from poseclass.pose.detector import crop_settings

    crop_settings(args.variant, args.passes)  # --passes with MultiPose: refused before any work
    with executor(args) as pool:
        result = preprocess(
            args.data_dir, args.out, variant=args.variant, workers=args.workers, movenet_path=args.movenet,
            passes=args.passes, progress=progress(args), executor=pool, exclude=args.exclude,
        )
    if args.json:
        emit_json({
            "out_dir": str(result.out_dir), "labels": result.labels,
            "csv": {k: str(v) for k, v in result.csv.items()}, "rows": result.n_rows,
            "skipped": len(result.skipped), "computed": result.n_computed, "reused": result.n_reused,
        })
        return 0
    for split, path in result.csv.items():
        print(f"{split}: {result.n_rows[split]} images -> {path}")
    print(f"labels ({len(result.labels)}): {', '.join(result.labels)} -> {result.out_dir / 'labels.txt'}")
    print(f"computed {result.n_computed}, reused {result.n_reused} from an earlier run")
    others = [row for row in result.skipped if row.status != "excluded"]
    if len(others) < len(result.skipped):
        print(f"excluded {len(result.skipped) - len(others)} files listed in {args.exclude} "
              "(in skipped.csv as excluded)")
    if others:
        print(f"skipped {len(others)} files (see {result.out_dir / 'skipped.csv'}):")
        for row in others[:10]:
            print(f"  [{row.split}] {row.reason}")
    return 0
