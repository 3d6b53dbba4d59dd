"""Several people read top-down: MoveNet MultiPose finds them, single-pose MoveNet reads each one.

MultiPose Lightning finds up to 6 people in one pass, but it is a small model that scores yoga poses
low: a classifier trained on single-pose keypoints loses much of its accuracy on its people. So, as
the best multi-person pose systems do, :class:`TopDown` runs MultiPose only to find the people (boxes,
person scores), then single-pose MoveNet (the model folder's own variant, the one its classifier was
trained on) on each person's own square crop (:func:`person_crop`), refined as still images are: a
second pass sees the crop the first pass's keypoints call for, when it zooms in enough or the body goes
on beyond the first crop. The classifier then reads the same kind of keypoints it was trained on.

MultiPose scores many clear yoga poses low (lying and folded bodies above all): with the default
person-score threshold, a fainter MultiPose answer (down to ``RESCUE_PERSON_SCORE``) is kept when
single-pose MoveNet confirms a person there (``CONFIRM_PRESENCE``). A threshold given explicitly is a
hard floor.

A person MultiPose only half finds (a box from the hips to the feet, no confident shoulders) gets a
crop grown from their keypoints: centred on the hips and reaching as far from them on every side as
the farthest of their box and keypoints (and at least ``TORSO_LENGTHS``), and the first single-pose
look is ``FIRST_LOOK`` times that (as a still image is first seen whole), short of showing another
person MultiPose found; so the single-pose pass sees the whole body. When single-pose MoveNet finds
nobody in a crop, or someone who is not the person MultiPose found there (a neighbour), that person
keeps MultiPose's own keypoints.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
from PIL import Image

from poseclass.images import as_rgb
from poseclass.pose.keypoints import INDEX, Pose
from poseclass.pose.movenet import MIN_CROP_KEYPOINT_SCORE, Crop, MoveNet
from poseclass.pose.multipose import MAX_PEOPLE, Box, MultiPoseNet, Person, check_people_settings

HIPS = (INDEX["left_hip"], INDEX["right_hip"])
SHOULDERS = (INDEX["left_shoulder"], INDEX["right_shoulder"])
# A person's crop reaches this much beyond the farthest of their box and confident keypoints from the
# hips (MoveNet's body crop: 1.2), and at least this many torso lengths (shoulders' midpoint to hips'):
# a leg or a raised arm is under 2 torso lengths from the hips, so the whole body is in view even where
# the box and keypoints hold only part of it (measured: with 1.2 alone, warrior III photos whose
# MultiPose box ends at the hips lost the standing leg and were read as chair).
BODY_MARGIN = 1.2
TORSO_LENGTHS = 2.2
# Single-pose keypoints belong to the person MultiPose found when the keypoints both call confident lie
# (median) within this share of the person's box side; a neighbour is about one box side away.
SAME_PERSON_DISTANCE = 0.25
# The first single-pose pass sees a person's crop grown this many times, the second the crop its keypoints call
# for: MultiPose's box and keypoints often hold only part of a yoga pose (a warrior III box ending at the hips),
# and single-pose MoveNet shown a cut body reads a chair. On the 186 photos of girl1 (held out), top person
# right: 1.5 times 97.3 %, 2 times 97.8 %, 3 times 98.4 % (the single-person chain: 98.9 %). Where the wide
# look shows a more prominent neighbour instead, the tight crop is read. The wide look never shows the centre of
# another person MultiPose found (it grows less): single-pose MoveNet shown two people mixes their keypoints
# (two girl1 photos side by side: 89 % right with a plain 3 times look, 100 % of 80 people with this rule).
FIRST_LOOK = 3.0
# A newly read person mostly inside a kept person's box and much smaller is a piece of them (see fragment).
FRAGMENT_INSIDE = 0.75
FRAGMENT_AREA = 0.5
# With the default threshold, MultiPose answers from this score up are read too, and kept when single-pose
# MoveNet is this sure of a person there (Pose.presence). Measured on the 186 photos of girl1 (held out):
# 37 have no MultiPose answer scoring 0.15, their best scores 0.05-0.15 and single-pose presence 0.61-0.88
# on them; on a grey or noise image MultiPose's answers score under 0.04 and single-pose presence under 0.12.
RESCUE_PERSON_SCORE = 0.03
CONFIRM_PRESENCE = 0.5


def keypoint_box(pose: Pose, box: Box | None = None) -> Box:
    """The box around ``pose``'s confident keypoints (joined with ``box`` when given), clipped to the image."""
    seen = pose.xy[pose.scores > MIN_CROP_KEYPOINT_SCORE]
    corners = [seen] if len(seen) else [pose.xy]
    if box is not None:
        corners.append(np.array([box[:2], box[2:]], np.float32))
    points = np.concatenate(corners)
    (x0, y0), (x1, y1) = points.min(axis=0), points.max(axis=0)
    return (float(np.clip(x0, 0, pose.width)), float(np.clip(y0, 0, pose.height)),
            float(np.clip(x1, 0, pose.width)), float(np.clip(y1, 0, pose.height)))


def person_crop(pose: Pose, box: Box) -> Crop:
    """The square single-pose MoveNet should see of one person: centred on their hips (the box centre when
    no hip is confident), reaching ``BODY_MARGIN`` times as far as the farthest of their box corners and
    confident keypoints, and at least ``TORSO_MARGIN`` torso extents. Unlike MoveNet's body crop it never
    falls back to the whole image (that would show everyone else too): a half-found person's crop grows
    from the hips up as far as it reaches down."""
    visible = pose.scores > MIN_CROP_KEYPOINT_SCORE
    hips, shoulders = [i for i in HIPS if visible[i]], [i for i in SHOULDERS if visible[i]]
    centre = pose.xy[hips].mean(axis=0) if hips else np.array([(box[0] + box[2]) / 2, (box[1] + box[3]) / 2])
    points = np.concatenate([pose.xy[visible], np.array([box[:2], box[2:], (box[0], box[3]), (box[2], box[1])])])
    half = BODY_MARGIN * float(np.abs(points - centre).max())
    if hips and shoulders:
        half = max(half, TORSO_LENGTHS * float(np.linalg.norm(pose.xy[shoulders].mean(axis=0) - centre)))
    cx, cy = float(centre[0]), float(centre[1])
    half = max(min(half, max(cx, pose.width - cx, cy, pose.height - cy)), 4.0)  # beyond that: padding only
    return Crop(cx - half, cy - half, 2 * half)


def grown(crop: Crop, size: tuple[int, int], factor: float | None = None) -> Crop:
    """``crop`` grown ``factor`` times about its centre (never past the farthest image edge)."""
    factor = FIRST_LOOK if factor is None else factor
    cx, cy = crop.x0 + crop.side / 2, crop.y0 + crop.side / 2
    half = min(factor * crop.side / 2, max(cx, size[0] - cx, cy, size[1] - cy))
    return Crop(cx - half, cy - half, 2 * half)


def centre_in(box: Box, region: Box) -> bool:
    """Whether the centre of ``box`` is inside ``region`` (both ``(x0, y0, x1, y1)``)."""
    x, y = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
    return region[0] <= x <= region[2] and region[1] <= y <= region[3]


def shows(crop: Crop, box: Box) -> bool:
    """Whether the centre of ``box`` is inside ``crop``."""
    return centre_in(box, (crop.x0, crop.y0, crop.x0 + crop.side, crop.y0 + crop.side))


def reaches_out(crop: Crop, previous: Crop, size: tuple[int, int], slack: float = 0.1) -> bool:
    """Whether ``crop`` holds a part of the image more than ``slack`` of its side outside ``previous``:
    the body the previous pass saw goes on beyond what it was shown."""
    width, height = size
    x0, y0, x1, y1 = max(crop.x0, 0), max(crop.y0, 0), min(crop.x0 + crop.side, width), min(crop.y0 + crop.side, height)
    beyond = max(previous.x0 - x0, previous.y0 - y0, x1 - previous.x0 - previous.side,
                 y1 - previous.y0 - previous.side)
    return beyond > slack * crop.side


def fragment(box: Box, of: Box) -> bool:
    """Whether ``box`` is a piece of a person boxed by ``of``: at least ``FRAGMENT_INSIDE`` of it inside, and
    under ``FRAGMENT_AREA`` of its area (MultiPose answering the legs of someone half hidden behind another
    as a third person: seen once on the crossing test clip)."""
    area = (box[2] - box[0]) * (box[3] - box[1])
    if area <= 0:
        return True
    w = min(box[2], of[2]) - max(box[0], of[0])
    h = min(box[3], of[3]) - max(box[1], of[1])
    inside = max(w, 0) * max(h, 0) / area
    return inside >= FRAGMENT_INSIDE and area < FRAGMENT_AREA * (of[2] - of[0]) * (of[3] - of[1])


def same_person(pose: Pose, found: Person) -> bool:
    """Whether single-pose keypoints ``pose`` are of the person MultiPose found (not a neighbour in the crop)."""
    both = (pose.scores > MIN_CROP_KEYPOINT_SCORE) & (found.pose.scores > MIN_CROP_KEYPOINT_SCORE)
    side = max(found.box[2] - found.box[0], found.box[3] - found.box[1], 1.0)
    if both.sum() >= 2:
        distance = np.linalg.norm(pose.xy[both] - found.pose.xy[both], axis=1)
        return float(np.median(distance)) < SAME_PERSON_DISTANCE * side
    seen = pose.xy[pose.scores > MIN_CROP_KEYPOINT_SCORE]  # MultiPose too unsure of its keypoints: the box decides
    x, y = (seen if len(seen) else pose.xy).mean(axis=0)
    grow = SAME_PERSON_DISTANCE * side
    return found.box[0] - grow <= x <= found.box[2] + grow and found.box[1] - grow <= y <= found.box[3] + grow


class TopDown:
    """Everyone in an image, each read by single-pose MoveNet on their own crop (see the module's notes).

    >>> people = TopDown(MultiPoseNet(), MoveNet("thunder-int8")).detect("class.jpg")
    >>> people[0].pose, people[0].box, people[0].score     # single-pose keypoints, MultiPose's person score
    """

    def __init__(self, multipose: MultiPoseNet, movenet: MoveNet) -> None:
        self.multipose, self.movenet = multipose, movenet

    def read(self, image: Image.Image, found: Person, others: Sequence[Box] = ()) -> Person:
        """One person MultiPose found, read again by single-pose MoveNet on their crop (refined as a still image).

        Their box joins MultiPose's and the new confident keypoints; when single-pose MoveNet finds nobody
        there, or a neighbour, the person is returned as MultiPose found them. ``others``: the boxes of the
        other people MultiPose found, whose centres the wide first look keeps out of view."""
        tight = person_crop(found.pose, found.box)
        factor = FIRST_LOOK
        while factor > 1 and any(shows(grown(tight, image.size, factor), box) for box in others):
            factor -= 0.5
        for crop in dict.fromkeys((grown(tight, image.size, factor), tight)):  # a wide first look, then tight
            pose = self.movenet.detect_in(image, crop)
            if MoveNet.has_person(pose) and same_person(pose, found):
                break
        else:
            return found  # nobody, or a neighbour, even in the tight crop: MultiPose's own keypoints
        for _ in range(self.movenet.passes - 1):
            nxt = person_crop(pose, keypoint_box(pose))
            if nxt.side >= self.movenet.refine_below * crop.side and not reaches_out(nxt, crop, image.size):
                break
            closer = self.movenet.detect_in(image, nxt)
            if not (MoveNet.has_person(closer) and same_person(closer, found)):
                break
            crop, pose = nxt, closer
        return Person(pose, keypoint_box(pose, found.box), found.score)

    def detect(self, image: str | Path | Image.Image | np.ndarray, max_people: int | None = None,
               min_person_score: float | None = None, followed: Sequence[Person] = ()) -> list[Person]:
        """Everyone in ``image`` (a path, Pillow image or RGB array), in MultiPose's order (most confident
        first), with single-pose keypoints; [] when nobody. A person whose keypoints come out the same as a
        more confident person's (two answers for one body) is left out.

        ``followed``: people already read this frame (video: each track's own crop). They come first and
        MultiPose's answers for them are not read again: only newcomers cost a single-pose pass.
        """
        max_people = self.multipose.max_people if max_people is None else max_people
        threshold = self.multipose.min_person_score if min_person_score is None else min_person_score
        check_people_settings(max_people, threshold)
        floor = threshold if min_person_score is not None else min(RESCUE_PERSON_SCORE, threshold)
        image = as_rgb(image)
        people: list[Person] = list(followed)[:max_people]
        candidates = self.multipose.detect(image, MAX_PEOPLE, floor)
        for found in candidates:
            if len(people) >= max_people:
                break
            if any(same_person(person.pose, found) for person in followed):
                continue  # already read from their own crop
            others = [p.box for p in [*candidates, *followed]
                      if p is not found and not centre_in(p.box, found.box) and not same_person(p.pose, found)]
            person = self.read(image, found, others)
            if found.score < threshold and (person is found or person.pose.presence < CONFIRM_PRESENCE):
                continue  # a faint MultiPose answer single-pose MoveNet does not confirm
            if not any(kept.duplicates(person) or fragment(person.box, kept.box) for kept in people):
                people.append(person)
        return people

    def follow(self, image: Image.Image, crop: Crop, score: float) -> Person | None:
        """One person in a video, read by one single-pose pass on the crop their last frame calls for
        (:func:`next_crop`); None when nobody is there. ``score``: their last MultiPose person score."""
        pose = self.movenet.detect_in(image, crop)
        return Person(pose, keypoint_box(pose), score) if MoveNet.has_person(pose) else None


def next_crop(person: Person) -> Crop:
    """Where to look for ``person`` in the next video frame: the crop their keypoints call for."""
    return person_crop(person.pose, keypoint_box(person.pose))
