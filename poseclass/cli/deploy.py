"""``poseclass deploy MODEL_DIR``: the files apps ship (metadata on the classifier, the fused model)."""

from __future__ import annotations

import argparse

from poseclass.cli.output import emit_json, file_size


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("deploy", help="write the files apps ship into a model folder",
                       description="Add standard TFLite metadata (labels, tensor descriptions) to MODEL_DIR's "
                       "pose_classifier.tflite, and build pose_fused.tflite: one model from a letterboxed uint8 "
                       "image to class probabilities (MoveNet and the classifier in one graph; MediaPipe's "
                       "ImageClassifier runs it as it is). `poseclass train` does this itself.")
    p.add_argument("model_dir", metavar="MODEL_DIR")
    p.add_argument("--no-fused", action="store_true", help="only the metadata (no TensorFlow needed)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from poseclass.deploy.bundle import write_deploy

    written = write_deploy(args.model_dir, fused=not args.no_fused)
    if args.json:
        emit_json({"model_dir": str(args.model_dir), "files": [str(p) for p in written]})
        return 0
    for path in written:
        print(file_size(path))
    return 0
