"""``poseclass predict IMAGE|VIDEO... --model MODEL_DIR``: the class of the person in each image, video or camera.

Images are answered here; videos and cameras go to :mod:`poseclass.cli.video`, ``--multi`` on
images to :mod:`poseclass.cli.people`. Inputs are told apart by content, not by name.
"""

from __future__ import annotations

import argparse

from poseclass.cli.args import add_unknown, fraction, positive_int, seconds, set_unknown
from poseclass.cli.output import emit_json, prediction_line
from poseclass.cli.people import add_multi_args, check_multi_args, predict_people
from poseclass.errors import UsageError


def add_video_args(parser: argparse.ArgumentParser) -> None:
    """predict's options for videos (recognised by content; needs pip install 'poseclass[video]').

    Defaults are left to poseclass.video.filters (numpy is not imported just to build the parser).
    """
    video = parser.add_argument_group("videos", "a VIDEO gets one row per frame and a summary of segments and "
                                      "repetitions; --json: one JSON line per frame, then the summary line")
    video.add_argument("--camera", type=int, metavar="N", help="read webcam N live instead (Ctrl-C ends it)")
    video.add_argument("--out", metavar="FRAMES.csv", help="write the per-frame rows here (with --json: only the summary on stdout)")
    video.add_argument("--annotate", metavar="OUT.mp4", help="write the video with skeleton, label, hold timer and counts")
    video.add_argument("--count", action="append", metavar="CLASS",
                       help="count repetitions of CLASS (repeatable): one each time the person enters CLASS and leaves "
                       "it, both held (see --enter-s, --exit-s); with --from, one per cycle UP -> CLASS -> UP")
    video.add_argument("--from", dest="count_from", metavar="UP",
                       help="count each --count CLASS as a cycle from the pose UP and back, e.g. --count chair --from "
                       "tree for squats from standing: CLASS need only be reached, not held, since the bottom of a "
                       "movement often reads as other classes too; --count any --from UP counts any held move away")
    video.add_argument("--enter", type=fraction,
                       help="a repetition starts once the class's share of the known classes' smoothed "
                       "probability has stayed at or above this for --enter-s (default 0.6)")
    video.add_argument("--exit", type=fraction,
                       help="... and is counted once it has stayed at or below this for --exit-s (default 0.4)")
    video.add_argument("--enter-s", type=seconds, metavar="SECONDS",
                       help="how long --enter must hold: a shorter flicker starts nothing (default 0.2)")
    video.add_argument("--exit-s", type=seconds, metavar="SECONDS",
                       help="how long --exit must hold: a shorter dip (the bottom of a squat reading as another "
                       "class for a moment) does not split a repetition in two (default 0.5)")
    video.add_argument("--alpha", type=fraction, help="weight of each new frame in the probability average (default 0.6)")
    video.add_argument("--min-segment", type=float, metavar="SECONDS",
                       help="a class must hold this long to start a segment (default 0.5)")


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("predict", help="classify the person in each image or video",
                       description="MoveNet then the classifier, both on LiteRT (no TensorFlow: starts fast). "
                       "Exit status 1 when any image had no pose or could not be read (an unknown pose is an answer: 0). "
                       "--json: a list of {image, status: ok|unknown|no_pose|error, label (null unless ok), "
                       "predictions: [{label, probability}], keypoints, error}. A pose unlike every class the model was taught is \"unknown\" (its classes are still "
                       "ranked): see --unknown-below.")
    p.add_argument("images", nargs="*", metavar="IMAGE|VIDEO")
    p.add_argument("--model", required=True, metavar="MODEL_DIR", help="a folder written by `poseclass train`")
    p.add_argument("--movenet", metavar="PATH.tflite", help="use this MoveNet TFLite file instead of the cache")
    p.add_argument("--top-k", type=positive_int, default=3, help="how many classes to show (default 3)")
    add_unknown(p)
    add_video_args(p)
    add_multi_args(p, overlay=True)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from poseclass.video.io import is_video

    not_videos = [name for name in args.images if not is_video(name)]
    if args.camera is not None or len(not_videos) < len(args.images):
        from poseclass.cli.video import predict_videos

        return predict_videos(args, not_videos)
    if not args.images:
        raise UsageError("give at least one IMAGE or VIDEO, or --camera N")
    video_only = [flag for flag, value in (("--out", args.out), ("--annotate", args.annotate), ("--count", args.count),
                                           ("--from", args.count_from), ("--enter-s", args.enter_s),
                                           ("--exit-s", args.exit_s)) if value is not None]
    if video_only:
        raise UsageError(f"{video_only[0]} is for videos, and no input is a video")
    check_multi_args(args)
    if args.multi:
        return predict_people(args)
    from poseclass.classify.pipeline import PosePipeline
    from poseclass.classify.results import ANSWERED

    pipeline = PosePipeline.load(args.model, args.movenet)
    set_unknown(args, pipeline.classifier)
    results = [pipeline.predict(name) for name in args.images]
    if args.json:
        emit_json([r.to_dict(args.top_k) for r in results])
    else:
        for r in results:
            print(prediction_line(r, args.top_k))
    return 0 if all(r.status in ANSWERED for r in results) else 1
