"""``poseclass evaluate DATA_DIR --model MODEL_DIR``: accuracy over every image of a labelled tree."""

from __future__ import annotations

import argparse
from pathlib import Path

from poseclass.cli.args import add_dask, add_unknown, executor, positive_int, progress, writable
from poseclass.cli.output import emit_json, metrics_lines


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("evaluate", help="accuracy of a model over every image of a labelled tree",
                       description="Score an exported model on DATA_DIR/<class>/<images> (or a train/test tree). "
                       "Unreadable and no-pose images, and poses the model calls unknown, count as errors and are "
                       "also reported separately.")
    p.add_argument("data_dir", metavar="DATA_DIR")
    p.add_argument("--model", required=True, metavar="MODEL_DIR")
    p.add_argument("--movenet", metavar="PATH.tflite")
    p.add_argument("--workers", type=positive_int, default=None, help="parallel processes (default: all cores)")
    p.add_argument("--picture", metavar="OUT.png", help="confusion matrix picture (default: in MODEL_DIR)")
    add_unknown(p)
    add_dask(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from poseclass.data.evaluate import evaluate

    picture = args.picture or str(Path(args.model) / f"evaluate_{Path(args.data_dir).resolve().name}.png")
    writable(picture, "--picture OUT.png", "the picture")
    with executor(args) as pool:
        metrics = evaluate(args.data_dir, args.model, workers=args.workers, movenet_path=args.movenet,
                           progress=progress(args), picture=picture, executor=pool,
                           unknown_below=None if args.no_unknown else args.unknown_below or "model")
    if args.json:
        emit_json(metrics)
        return 0
    print("\n".join(metrics_lines(f"{args.data_dir} (exported TFLite model)", metrics)))
    print(f"  counted as wrong: {metrics['n_unknown']} unknown pose, {metrics['n_no_pose']} no pose, "
          f"{metrics['n_unreadable']} unreadable"
          + (f"; not images, ignored: {metrics['n_not_image']}" if metrics["n_not_image"] else ""))
    for row in metrics["failed"][:10]:
        print(f"    {row['reason']}")
    if metrics["picture"]:
        print(f"confusion matrix: {metrics['picture']}")
    else:
        print("(no confusion-matrix picture: it needs matplotlib, from pip install 'poseclass[train]')")
    return 0
