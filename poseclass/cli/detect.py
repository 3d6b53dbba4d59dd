"""``poseclass detect IMAGE...``: the 17 keypoints of the person in each image (``--multi``: everyone)."""

from __future__ import annotations

import argparse
import sys

from poseclass.cli.args import add_pose_model, output_paths, positive_int, writable
from poseclass.cli.output import emit_json, keypoint_lines
from poseclass.cli.people import add_multi_args, check_multi_args, detect_people


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("detect", help="print the 17 keypoints of the person in each image",
                       description="Run MoveNet on images: 17 COCO keypoints in image pixels, with scores. "
                       "Exit status 1 when any image could not be read or shows nobody (as predict). "
                       "--json: one object per image: image, width, height, person, keypoints.")
    p.add_argument("images", nargs="+", metavar="IMAGE")
    add_pose_model(p)
    p.add_argument("--passes", type=positive_int, default=None, help="at most this many MoveNet passes per image (crop refinement)")
    p.add_argument("--overlay", metavar="OUT.png", help="draw the skeleton on the image and save it here")
    add_multi_args(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    check_multi_args(args)
    overlays = output_paths(args.overlay, args.images) if args.overlay else []
    for path in overlays:
        writable(path, "--overlay OUT.png", "the overlay")
    if args.multi:
        return detect_people(args)
    from poseclass.errors import ImageError
    from poseclass.images import load_rgb
    from poseclass.pose.movenet import MoveNet

    net = MoveNet(args.variant, args.movenet, passes=args.passes)
    results, failed = [], False
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
            from poseclass.pose.draw import draw_pose

            draw_pose(image, pose if person else None).save(overlays[i])
            results[-1]["overlay"] = str(overlays[i])
        if not args.json:
            print(f"{name} ({pose.width}x{pose.height})" + ("" if person else "  [no person found]"))
            print("\n".join(keypoint_lines(pose)))
            if args.overlay:
                print(f"  overlay: {results[-1]['overlay']}")
    if args.json:
        emit_json(results)
    return 1 if failed else 0
