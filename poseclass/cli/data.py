"""``poseclass data fetch yoga_poses DEST``: the example dataset, downloaded or copied, and checked."""

from __future__ import annotations

import argparse

from poseclass.cli.args import progress
from poseclass.cli.output import emit_json


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("data", help="fetch an example dataset",
                       description="Fetch an example dataset into DEST and check it (class folders, image counts). "
                       "With --from, use a local copy (a folder or the zip) instead of downloading.")
    p.add_argument("action", choices=["fetch"])
    p.add_argument("name", choices=["yoga_poses"])
    p.add_argument("dest", metavar="DEST")
    p.add_argument("--from", dest="source", metavar="PATH", help="local copy: the unpacked folder or yoga_poses.zip")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from poseclass.data import examples

    counts = examples.fetch(args.name, args.dest, args.source, progress=progress(args))
    if args.json:
        emit_json({"dest": str(args.dest), "images": counts})
        return 0
    for split, per_class in counts.items():
        total = sum(per_class.values())
        print(f"{args.dest} [{split}]: {total} images - " + ", ".join(f"{c} {n}" for c, n in per_class.items()))
    print(f"credit: {examples.DATASETS[args.name].credit}")
    return 0
