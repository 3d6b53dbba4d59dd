"""MoveNet MultiPose Lightning on LiteRT (never TensorFlow): up to 6 people in one pass.

The model takes the image letterboxed into a square (the same letterbox as single-pose MoveNet's
first pass, so the aspect ratio is kept) and answers ``[1, 6, 56]``: per person 17 × (y, x, score),
a box (ymin, xmin, ymax, xmax) and a person score, all coordinates in [0, 1] of the square.
:class:`MultiPoseNet` maps them back to image pixels and keeps the confident people;
:class:`TopPerson` makes it a one-person detector, for a classifier trained on its keypoints
(``preprocess``/``train --model multipose``).

Each person comes back as a :class:`~poseclass.pose.keypoints.Pose` in image pixels, so
``person.pose.as_movenet()`` is the classifier's input exactly as for single-pose MoveNet: (y, x)
divided by the longer image side, the same in x and y.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from poseclass.images import as_rgb
from poseclass.pose.keypoints import NUM_KEYPOINTS, Pose
from poseclass.pose.models import MULTIPOSE_VARIANT, Reporter
from poseclass.pose.movenet import Crop, SquareModel, full_frame
from poseclass.quiet import note

MAX_PEOPLE = 6  # what the model can answer
# A person below this score is not reported. TF.js pose-detection's default for MultiPose is 0.25;
# on the composites of `benchmarks/multipose.py sizes` 0.15 finds far more of the small people
# (64% vs 16% at 144 px in a 1280x720 frame) with no false detection; a grey or noise image scores
# under 0.05.
DEFAULT_MIN_PERSON_SCORE = 0.15
# MultiPose often answers one person twice (a box on the upper body and one on the whole body)
# with the same regressed keypoints: on 100 single-person yoga photos, the second answer's shared
# confident keypoints were within 0.01 of the box size of the first's for every duplicate, and
# about 1 box size away for a real second person. A lower-scored answer whose confident keypoints
# (in both) lie within this fraction of the larger box side of a kept person's is dropped.
DUPLICATE_DISTANCE = 0.1
DUPLICATE_KEYPOINT_SCORE = 0.2


Box = tuple[float, float, float, float]  # (x0, y0, x1, y1) in image pixels


def box_dict(box: Box) -> dict[str, float]:
    """A box as JSON: ``{x0, y0, x1, y1}``, to a tenth of a pixel."""
    return dict(zip(("x0", "y0", "x1", "y1"), (round(v, 1) for v in box)))


@dataclass(frozen=True)
class Person:
    """One person MultiPose found: keypoints (image pixels), box ``(x0, y0, x1, y1)`` in pixels, person score."""

    pose: Pose
    box: Box
    score: float

    def duplicates(self, other: Person) -> bool:
        """Whether ``other`` is this same person answered again (see ``DUPLICATE_DISTANCE``)."""
        shared = (self.pose.scores >= DUPLICATE_KEYPOINT_SCORE) & (other.pose.scores >= DUPLICATE_KEYPOINT_SCORE)
        if shared.sum() < 2:
            return False
        side = max(self.box[2] - self.box[0], self.box[3] - self.box[1],
                   other.box[2] - other.box[0], other.box[3] - other.box[1], 1.0)
        distance = np.linalg.norm(self.pose.xy[shared] - other.pose.xy[shared], axis=1)
        return float(np.median(distance)) < DUPLICATE_DISTANCE * side

    def box_dict(self) -> dict[str, float]:
        return box_dict(self.box)


def check_people_settings(max_people: int, min_person_score: float) -> None:
    """Refuse settings that cannot work, with a message that says what can."""
    if not isinstance(max_people, int) or not 1 <= max_people <= MAX_PEOPLE:
        raise ValueError(f"max_people must be a whole number from 1 to {MAX_PEOPLE}, not {max_people!r}")
    if not 0 <= min_person_score < 1:
        raise ValueError(f"min_person_score must be in [0, 1), not {min_person_score!r}")


class MultiPoseNet(SquareModel):
    """MoveNet MultiPose Lightning on LiteRT.

    >>> net = MultiPoseNet()
    >>> people = net.detect("class.jpg")      # most confident first
    >>> people[0].box, people[0].pose.xy      # pixels
    """

    def __init__(
        self,
        model_path: str | Path | None = None,
        num_threads: int | None = None,
        max_people: int = MAX_PEOPLE,
        min_person_score: float = DEFAULT_MIN_PERSON_SCORE,
        report: Reporter = note,
    ) -> None:
        check_people_settings(max_people, min_person_score)
        super().__init__(MULTIPOSE_VARIANT, model_path, num_threads, report)
        self.max_people = max_people
        self.min_person_score = min_person_score

    def detect(
        self,
        image: str | Path | Image.Image | np.ndarray,
        max_people: int | None = None,
        min_person_score: float | None = None,
        crop: Crop | None = None,
    ) -> list[Person]:
        """Everyone in ``image`` (a path, Pillow image or RGB array), most confident first; [] when nobody.

        People scoring under ``min_person_score`` are left out, and so is a second answer for the
        same person (:meth:`Person.duplicates`); then at most ``max_people`` are kept. ``crop``:
        look only there (video tracking, see :class:`TopPerson`); default the whole image, letterboxed.
        """
        max_people = self.max_people if max_people is None else max_people
        min_person_score = self.min_person_score if min_person_score is None else min_person_score
        check_people_settings(max_people, min_person_score)
        image = as_rgb(image)
        width, height = image.size
        crop = crop or full_frame(width, height)
        out = self.run(image, crop)  # [6, 56]: per person 17 x (y, x, score), box (ymin, xmin, ymax, xmax), score
        people = []
        for row in out[np.argsort(-out[:, 55], kind="stable")]:
            score = float(row[55])
            if score < min_person_score or len(people) == max_people:
                break
            kp = row[: 3 * NUM_KEYPOINTS].reshape(NUM_KEYPOINTS, 3)
            xy = crop.to_pixels(kp[:, :2]).astype(np.float32)
            corners = crop.to_pixels(row[51:55].astype(np.float64).reshape(2, 2))  # (x, y) of top-left, bottom-right
            box = tuple(float(np.clip(v, 0, limit)) for v, limit in zip(corners.ravel(), (width, height) * 2))
            pose = Pose(xy=xy, scores=kp[:, 2].astype(np.float32), width=width, height=height)
            person = Person(pose=pose, box=box, score=score)
            if not any(kept.duplicates(person) for kept in people):
                people.append(person)
        return people


class TopPerson:
    """MultiPose as a one-person detector: the most confident person's keypoints, whatever their score.

    It answers as :class:`~poseclass.pose.movenet.MoveNet` does (a :class:`~poseclass.pose.detector.PoseDetector`,
    judged by ``has_person``), so preprocess, ``PosePipeline.predict`` and video tracking
    run unchanged on a model trained on MultiPose keypoints. No person-score threshold: MultiPose's
    score is low for many clear single-person photos, and whether the keypoints are usable is the
    same keypoint-confidence test as for single-pose MoveNet.
    """

    def __init__(self, net: MultiPoseNet) -> None:
        self.net = net

    def detect_in(self, image: Image.Image, crop: Crop) -> Pose:
        """The most confident person in ``crop`` of an RGB ``image``, in image pixels."""
        return self.net.detect(image, max_people=1, min_person_score=0.0, crop=crop)[0].pose

    def detect(self, image: str | Path | Image.Image | np.ndarray) -> Pose:
        """The most confident person in the whole image (a path, Pillow image or RGB array)."""
        image = as_rgb(image)
        return self.detect_in(image, full_frame(*image.size))

