"""``poseclass inspect DATA_DIR``: what is wrong with a labelled image tree (changes nothing)."""

from __future__ import annotations

import argparse
from pathlib import Path

from poseclass.cli.args import add_pose_model, positive_int, progress, writable
from poseclass.cli.output import emit_json


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("inspect", help="find duplicates, leaks, mislabelled and unusable images (changes nothing)",
                       description="Report what is wrong with a labelled image tree, without changing it: the same "
                       "picture in two splits or two classes (perceptual hash and pose), poses that look like another "
                       "class (k-NN on normalised poses), no person, faint or partial poses, blank and drawing-like "
                       "images; class balance and keypoint visibility per class. Keypoints come from the same cache "
                       "as train and evaluate. Writes an HTML page of the suspects (thumbnails, skeletons, reasons).")
    p.add_argument("data_dir", metavar="DATA_DIR")
    add_pose_model(p)
    p.add_argument("--workers", type=positive_int, default=None, help="preprocess processes (default: all cores)")
    p.add_argument("--html", metavar="OUT.html",
                   help="the page of suspects (default: inspect-<DATA_DIR name>.html here)")
    p.add_argument("--write-exclude", metavar="FILE",
                   help="write the suspects outside test/ as an exclude list for preprocess/train --exclude "
                   "(test images are never listed: a test score must stay over every test image)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from poseclass.data.exclude import write_exclude
    from poseclass.data.inspect import inspect_data
    from poseclass.data.inspect.page import write_page
    from poseclass.data.inspect.summary import exclude_entries, summary_lines
    from poseclass.data.preprocess import scan

    scan(args.data_dir)  # a bad DATA_DIR is one line before any file is written
    page = writable(args.html or f"inspect-{Path(args.data_dir).resolve().name}.html", "--html OUT.html")
    if args.write_exclude:
        writable(args.write_exclude, "--write-exclude FILE")
    report = inspect_data(args.data_dir, variant=args.variant, movenet_path=args.movenet, workers=args.workers,
                          progress=progress(args))
    report["html"] = str(write_page(report, page, progress=progress(args)))
    if args.write_exclude:
        entries = exclude_entries(report)
        write_exclude(args.write_exclude, entries)
        report["exclude_file"] = args.write_exclude
    if args.json:
        emit_json(report)
        return 0
    print("\n".join(summary_lines(report)))
    print(f"page with thumbnails and skeletons: {report['html']}")
    if args.write_exclude:
        print(f"exclude list ({len(entries)} files outside test/): {args.write_exclude}. It lists every suspect, "
              "outliers and partial bodies included: edit it before use, then "
              f"`poseclass train {args.data_dir} --exclude {args.write_exclude}`")
    return 0
