"""``poseclass deploy MODEL_DIR``: the files apps ship (metadata on the classifier, the fused model, a web page)."""

from __future__ import annotations

import argparse
import shlex

from poseclass.cli.output import emit_json, file_size


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("deploy", help="write the files apps ship into a model folder",
                       description="Add standard TFLite metadata (labels, tensor descriptions) to MODEL_DIR's "
                       "pose_classifier.tflite, and build pose_fused.tflite: one model from a letterboxed uint8 "
                       "image to class probabilities (MoveNet and the classifier in one graph; MediaPipe's "
                       "ImageClassifier runs it as it is). `poseclass train` does this itself.")
    p.add_argument("model_dir", metavar="MODEL_DIR")
    p.add_argument("--no-fused", action="store_true", help="only the metadata (no TensorFlow needed)")
    p.add_argument("--web", metavar="OUT_DIR",
                   help="write a web page that classifies photos and the camera in the browser, offline, into OUT_DIR "
                   "(replaced as a whole): index.html, the fused model and the LiteRT.js runtime (fetched once with "
                   "npm, sha256-checked, cached); serve it with python -m http.server -d OUT_DIR. Uses the folder's "
                   "pose_fused.tflite as it is (no TensorFlow); builds it first if missing")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if args.web:
        return run_web(args)
    from poseclass.deploy.bundle import write_deploy

    written = write_deploy(args.model_dir, fused=not args.no_fused)
    if args.json:
        emit_json({"model_dir": str(args.model_dir), "files": [str(p) for p in written]})
        return 0
    for path in written:
        print(file_size(path))
    return 0


def run_web(args: argparse.Namespace) -> int:
    from poseclass.deploy.web import write_web
    from poseclass.errors import UsageError

    if args.no_fused:
        raise UsageError("--web runs the fused model in the browser; leave out --no-fused")
    written = write_web(args.model_dir, args.web)
    if args.json:
        emit_json({"model_dir": str(args.model_dir), "web": str(args.web), "files": [str(p) for p in written]})
        return 0
    for path in written:
        print(file_size(path))
    total = sum(p.stat().st_size for p in written)
    print(f"{len(written)} files, {total / (1 << 20):.1f} MB. Serve them with:\n"
          f"  python -m http.server -d {shlex.quote(str(args.web))}\n"
          "then open http://localhost:8000/ (the camera needs localhost or https)")
    return 0
