"""``poseclass train DATA_DIR --out MODEL_DIR``: stage 2, keypoints -> an exported classifier and its pictures."""

from __future__ import annotations

import argparse

from poseclass.cli.args import add_exclude, add_pose_model, fraction, positive_int, progress, share
from poseclass.cli.output import emit_json, metrics_lines


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("train", help="images or keypoint CSVs -> exported classifier (stage 2)",
                       description="Train the pose classifier and export it. DATA_DIR is an image tree (keypoints are "
                       "computed once and cached) or a folder of CSVs from `preprocess` (or the public tutorial's "
                       "train_data.csv/test_data.csv). A test split, when present, is scored with the exported TFLite model.",
                       formatter_class=argparse.RawDescriptionHelpFormatter,
                       epilog="example:\n  poseclass train yoga_poses/ --out model/ --group-pattern '^[a-z]+\\d*'\n"
                       "  (validation holds out whole subjects: girl1_tree086.jpg -> girl1)")
    p.add_argument("data_dir", metavar="DATA_DIR")
    p.add_argument("--out", required=True, metavar="MODEL_DIR")
    add_pose_model(p, multi_person=True)
    p.add_argument("--group-pattern", metavar="REGEX",
                   help="validate on whole groups of files (the regex's match on the file name, e.g. the subject)")
    p.add_argument("--validation", type=share, metavar="FRACTION",
                   help="share of train/ held out for validation, 0 for none (default: 0.2 without a test/ split, "
                   "with --group-pattern or with --early-stopping; otherwise none, so every training image is fitted and test/ scores the model)")
    p.add_argument("--seed", type=int, default=0, help="same seed, same model (default 0)")
    p.add_argument("--epochs", type=positive_int, help="epochs to train (default 800; a fixed "
                   "schedule measured steadier on real photos than early stopping)")
    p.add_argument("--early-stopping", action="store_true",
                   help="stop after 30 epochs without a lower validation loss and restore the "
                   "best epoch's weights")
    p.add_argument("--no-mirror", action="store_true", help="for classes that differ only by side (left vs right)")
    p.add_argument("--arm-swap", type=share, metavar="SHARE", default=0.1,
                   help="in training, give this share of poses the arms of another pose (label kept), so that classes "
                   "told apart by the legs do not lean on arms that vary; 0 for classes told apart by the arms "
                   "(default 0.1; see README, Unknown poses)")
    p.add_argument("--view", type=share, metavar="SHARE", default=0.5,
                   help="in training, show this share of poses as seen from another side (turned up to 90 degrees, "
                   "from up to 40 degrees above; label kept); 0 for off (default 0.5; see README, Unknown poses)")
    unknown = p.add_mutually_exclusive_group()
    unknown.add_argument("--unknown-quantile", type=fraction, metavar="SHARE", default=0.99,
                         help="\"unknown\": the model learns, from the training poses alone, a top probability under "
                         "which a pose is none of its classes, set so that about SHARE of new poses of its classes "
                         "stay named (default 0.99; lower says unknown more often)")
    unknown.add_argument("--no-unknown", action="store_true",
                         help="always name one of the classes (no \"other\" class, no threshold)")
    p.add_argument("--workers", type=positive_int, default=None, help="preprocess processes (default: all cores)")
    p.add_argument("--no-fused", action="store_true", help="skip building pose_fused.tflite (see `poseclass deploy`)")
    p.add_argument("--force", action="store_true",
                   help="replace MODEL_DIR even if it is not a poseclass model folder (a model folder is always replaced whole)")
    add_exclude(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from poseclass.extras import TRAIN, require

    require(TRAIN, "tensorflow", "keras", "pandas", "sklearn", "matplotlib", what="poseclass train")
    from poseclass.training import train

    settings = {"mirror": not args.no_mirror, "early_stopping": args.early_stopping, "unknown": not args.no_unknown,
                "unknown_quantile": args.unknown_quantile, "arm_swap": args.arm_swap, "view": args.view}
    if args.epochs is not None:
        settings["epochs"] = args.epochs
    result = train.train(
        args.data_dir, args.out, variant=args.variant, workers=args.workers, movenet_path=args.movenet,
        group_pattern=args.group_pattern, validation_fraction=args.validation, seed=args.seed,
        progress=progress(args), verbose=2 if args.verbose else int(progress(args)), force=args.force,
        fused=not args.no_fused, exclude=args.exclude, **settings,
    )
    if args.json:
        emit_json({"model_dir": str(result.model_dir), "metrics": result.metrics,
                   "pictures": [str(p) for p in result.pictures], "deploy": [str(p) for p in result.deployed]})
        return 0
    print("\n".join(_report(result)))
    return 0


def _report(result: object) -> list[str]:
    """What a training run did, for people: data used, scores, files written."""
    m = result.metrics
    lines = []
    if m["early_stopping"]:
        lines.append(f"restored the weights of epoch {m['best_epoch']} of {m['epochs_run']} (lowest validation loss)")
    held_out = (f"validated on {m['split']['validation']} ({m['split']['validation_by']})" if m["split"]["validation"]
                else "no validation split (" + ("test/ scores the model" if "test" in m else "--validation 0") + ")")
    lines.append(f"\ntrained on {m['split']['train']} poses for {m['epochs_run']} epochs, {held_out}")
    if m["skipped"] > m["excluded"]:
        lines.append(f"skipped {m['skipped'] - m['excluded']} training images with no usable keypoints "
                     f"(see {m['skipped_csv']})")
    if m["excluded"]:
        lines.append(f"excluded {m['excluded']} training images (--exclude; listed in {m['skipped_csv']})")
    if "validation" in m:
        lines += metrics_lines("validation (Keras model)", m["validation"])
    else:
        lines.append(f"training images (Keras model; seen in training, so not a measure of new photos): "
                     f"accuracy {m['train']['accuracy']:.3f}")
    if "test" in m:
        lines += metrics_lines("test (exported TFLite model, every test image)", m["test"])
        wrong = {"no pose": m["test"]["n_no_pose"], "unreadable": m["test"]["n_unreadable"],
                 "unknown pose": m["test"].get("n_unknown", 0)}
        if any(wrong.values()):
            lines.append("  counted as wrong: " + ", ".join(f"{n} {what}" for what, n in wrong.items() if n))
        if m["test"]["n_excluded"]:
            lines.append(f"  note: {m['test']['n_excluded']} test images were excluded: "
                         "this is not a score over every test image")
    if m.get("unknown"):
        u = m["unknown"]
        lines.append(f"unknown: a pose is none of the classes when its top probability is under "
                     f"{u['unknown_below']:.3g} "
                     f"(learned on {u['folds']} folds by {u['folds_by']}; keeps {u['out_of_fold_kept']:.1%} of "
                     "training poses the fold models never saw)")
    lines.append(f"TFLite vs Keras max |difference|: {m['tflite_vs_keras_max_abs_diff']:.2e}")
    lines.append(f"\nmodel folder: {result.model_dir} (pose_classifier.tflite with labels in its metadata, its "
                 "MoveNet, labels.txt, manifest.json, pose_classifier.keras, metrics.json)")
    lines.append("for apps: " + ", ".join(p.name for p in result.deployed) + " (see README: Deploy)")
    lines.append("pictures: " + ", ".join(str(p) for p in result.pictures))
    return lines
