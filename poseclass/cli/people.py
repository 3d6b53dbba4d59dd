"""``detect --multi`` and ``predict --multi`` on images: everyone in each image (MoveNet MultiPose).

Nobody in an image is an empty list of people, not an error; an unreadable image is an error
(exit status 1). Videos with ``--multi`` are :mod:`poseclass.cli.video`'s.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable

from poseclass.cli.args import number_type, output_paths, set_unknown
from poseclass.cli.output import answer, box_text, emit_json, keypoint_lines
from poseclass.errors import UsageError

_max_people = number_type(int, lambda v: 1 <= v <= 6, "from 1 to 6 (MultiPose finds at most 6 people)")
_score = number_type(float, lambda v: 0 <= v < 1, "from 0 up to (not including) 1")


def add_multi_args(parser: argparse.ArgumentParser, overlay: bool = False) -> None:
    """``--multi``, ``--max-people``, ``--min-person-score`` (and for predict, ``--overlay``)."""
    group = parser.add_argument_group(
        "several people", "--multi: MoveNet MultiPose Lightning finds up to 6 people per image (model from the cache, "
        "or the model folder's own when it was trained with --pose-model multipose); predict reads each person "
        "again with the model folder's single-pose MoveNet on their own crop (top-down), unless the folder was "
        "trained on MultiPose keypoints; "
        "--json gives per image {image, status, people: [{box, person_score, keypoints, ...}]}; "
        "nobody is an empty list, not an error. On a video each person keeps an id from frame to frame, with "
        "their own smoothing, segments and --count repetitions: one row per person per frame, a summary per person")
    group.add_argument("--multi", action="store_true",
                       help="every person in the image or video, each with a box and score (and on a video an id)")
    group.add_argument("--max-people", type=_max_people, help="report at most this many people (1-6; default 6)")
    group.add_argument("--min-person-score", type=_score,
                       help="leave out people MultiPose scores below this (default 0.15)")
    if overlay:
        group.add_argument("--overlay", metavar="OUT.png", help="with --multi: draw every person with their label")


def check_multi_args(args: argparse.Namespace) -> None:
    """The people options only make sense with --multi: say so rather than ignore them."""
    if args.multi:
        return
    for flag, value in (("--max-people", args.max_people), ("--min-person-score", args.min_person_score),
                        ("--overlay", getattr(args, "overlay", None) if args.command == "predict" else None)):
        if value is not None:
            raise UsageError(f"{flag} is for several people: add --multi")


def _report_people(args: argparse.Namespace, find: Callable, record: Callable, caption: Callable,
                   lines: Callable) -> int:
    """The loop detect and predict share: read each image, find its people, draw and report them.

    ``find(image)`` gives the people, ``record(person)`` their JSON, ``caption(j, person)`` the
    overlay label and ``lines(j, person)`` the text for people. An unreadable image is reported,
    recorded and skipped (exit status 1); an image with nobody is an empty list.
    """
    from poseclass.errors import ImageError
    from poseclass.images import load_rgb
    from poseclass.pose.draw import draw_people

    overlays = output_paths(args.overlay, args.images) if args.overlay else []
    results: list[dict[str, object]] = []
    for i, name in enumerate(args.images):
        try:
            image = load_rgb(name)
        except ImageError as error:
            results.append({"image": name, "status": "error", "people": [], "error": str(error)})
            if not args.json:
                print(f"{name}: ERROR - {error}")
            continue
        people = find(image)
        results.append({"image": name, "status": "ok", "width": image.width, "height": image.height,
                        "people": [record(person) for person in people]})
        if args.overlay:
            draw_people(image, [(p.box, p.pose, caption(j, p)) for j, p in enumerate(people)]).save(overlays[i])
            results[-1]["overlay"] = str(overlays[i])
        if not args.json:
            print(f"{name} ({image.width}x{image.height}): {len(people)} {'person' if len(people) == 1 else 'people'}")
            for j, person in enumerate(people):
                print("\n".join(lines(j, person)))
            if args.overlay:
                print(f"  overlay: {results[-1]['overlay']}")
    if args.json:
        emit_json(results)
    return 1 if any(r["status"] == "error" for r in results) else 0


def detect_people(args: argparse.Namespace) -> int:
    """``poseclass detect IMAGE... --multi``."""
    from poseclass.pose.detector import PASSES_ARE_SINGLE_POSE
    from poseclass.pose.multipose import MultiPoseNet

    if args.passes is not None:
        raise UsageError(PASSES_ARE_SINGLE_POSE)
    net = MultiPoseNet(args.movenet)

    def lines(j: int, person: object) -> list[str]:
        return [f"  person {j + 1}: score {person.score:.2f}, {box_text(person.box)}"] + keypoint_lines(person.pose,
                                                                                                        "    ")

    return _report_people(
        args, lambda image: net.detect(image, args.max_people, args.min_person_score),
        lambda p: {"box": p.box_dict(), "person_score": round(p.score, 4), "keypoints": p.pose.to_dicts()},
        lambda j, p: f"person {j + 1} {p.score:.2f}", lines)


def predict_people(args: argparse.Namespace) -> int:
    """``poseclass predict IMAGE... --model MODEL_DIR --multi``."""
    from poseclass.classify.pipeline import PosePipeline

    pipeline = PosePipeline.load(args.model, args.movenet)
    set_unknown(args, pipeline.classifier)

    def lines(j: int, person: object) -> list[str]:
        return [f"  person {j + 1}: {answer(person.status, person.predictions, args.top_k)}  "
                f"(person score {person.score:.2f}, {box_text(person.box)})"]

    return _report_people(
        args, lambda image: pipeline.predict_people(image, args.max_people, args.min_person_score),
        lambda p: p.to_dict(args.top_k), lambda j, p: f"{p.label or 'unknown'} {p.predictions[0][1]:.2f}", lines)
