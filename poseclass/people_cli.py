"""``poseclass detect --multi`` and ``poseclass predict --multi``: everyone in each image (MoveNet MultiPose).

Kept apart from :mod:`poseclass.cli`, which only adds the options and hands over. Nobody in an
image is an empty list of people, not an error; an unreadable image is an error (exit status 1).
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import TYPE_CHECKING

from poseclass.cli import number_type

if TYPE_CHECKING:  # building the parser stays light: no MultiPose import
    from poseclass.runtime.multipose import Box


# MultiPose has no crop refinement: --passes with it is refused rather than ignored (detect, preprocess).
PASSES_ARE_SINGLE_POSE = "--passes is for single-pose MoveNet; MultiPose runs once per image"
_max_people = number_type(int, lambda v: 1 <= v <= 6, "from 1 to 6 (MultiPose finds at most 6 people)")
_score = number_type(float, lambda v: 0 <= v < 1, "from 0 up to (not including) 1")


def add_multi_args(parser: argparse.ArgumentParser, overlay: bool = False) -> None:
    """``--multi``, ``--max-people``, ``--min-person-score`` (and for predict, ``--overlay``)."""
    group = parser.add_argument_group(
        "several people", "--multi: MoveNet MultiPose Lightning finds up to 6 people per image (model from the cache, or the model folder's own when it was trained with --model multipose); "
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


def check_multi_args(args: argparse.Namespace, user_error: type[Exception]) -> None:
    """The people options only make sense with --multi: say so rather than ignore them."""
    if args.multi:
        return
    for flag, value in (("--max-people", args.max_people), ("--min-person-score", args.min_person_score),
                        ("--overlay", getattr(args, "overlay", None) if args.command == "predict" else None)):
        if value is not None:
            raise user_error(f"{flag} is for several people: add --multi")


def _box_text(box: Box) -> str:
    return "box ({:.0f}, {:.0f})-({:.0f}, {:.0f})".format(*box)


def _report_people(args: argparse.Namespace, find: Callable, record: Callable, caption: Callable,
                   lines: Callable) -> int:
    """The loop detect and predict share: read each image, find its people, draw and report them.

    ``find(image)`` gives the people, ``record(person)`` their JSON, ``caption(j, person)`` the
    overlay label and ``lines(j, person)`` the text for people. An unreadable image is reported,
    recorded and skipped (exit status 1); an image with nobody is an empty list.
    """
    from poseclass.cli import _emit_json, _overlay_paths
    from poseclass.runtime.draw import draw_people
    from poseclass.runtime.images import ImageError, load_rgb

    overlays = _overlay_paths(args.overlay, args.images) if args.overlay else []
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
        _emit_json(results)
    return 1 if any(r["status"] == "error" for r in results) else 0


def detect_people(args: argparse.Namespace, user_error: type[Exception]) -> int:
    """``poseclass detect IMAGE... --multi``."""
    from poseclass.runtime.multipose import MultiPoseNet

    if args.passes is not None:
        raise user_error(PASSES_ARE_SINGLE_POSE)
    net = MultiPoseNet(args.movenet)

    def lines(j: int, person: object) -> list[str]:
        return [f"  person {j + 1}: score {person.score:.2f}, {_box_text(person.box)}"] + [
            f"    {kp['name']:<15} x={kp['x']:8.1f}  y={kp['y']:8.1f}  score={kp['score']:.2f}"
            for kp in person.pose.to_dicts()]

    return _report_people(
        args, lambda image: net.detect(image, args.max_people, args.min_person_score),
        lambda p: {"box": p.box_dict(), "person_score": round(p.score, 4), "keypoints": p.pose.to_dicts()},
        lambda j, p: f"person {j + 1} {p.score:.2f}", lines)


def refuse_unused_movenet(args: argparse.Namespace, manifest: dict[str, object], user_error: type[Exception]) -> None:
    """``--movenet`` replaces the model folder's own MoveNet; with ``--multi`` a single-pose folder never runs it."""
    from poseclass.provision.registry import MULTIPOSE_VARIANT

    if args.multi and args.movenet and dict(manifest["movenet"]).get("variant") != MULTIPOSE_VARIANT:
        raise user_error("--movenet replaces the model folder's single-pose MoveNet, which --multi does not use "
                         "(it runs MultiPose from the model cache): leave --movenet out")


def predict_people(args: argparse.Namespace, user_error: type[Exception]) -> int:
    """``poseclass predict IMAGE... --model MODEL_DIR --multi``."""
    from poseclass.runtime.pipeline import PosePipeline

    pipeline = PosePipeline.load(args.model, args.movenet)
    refuse_unused_movenet(args, pipeline.manifest, user_error)

    def lines(j: int, person: object) -> list[str]:
        ranked = ", ".join(f"{label} {p:.3f}" for label, p in person.predictions[: args.top_k])
        return [f"  person {j + 1}: {ranked}  (person score {person.score:.2f}, {_box_text(person.box)})"]

    return _report_people(
        args, lambda image: pipeline.predict_people(image, args.max_people, args.min_person_score),
        lambda p: p.to_dict(args.top_k), lambda j, p: f"{p.label} {p.predictions[0][1]:.2f}", lines)
