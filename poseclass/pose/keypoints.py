"""The 17 COCO keypoints MoveNet predicts: names, left/right pairs, skeleton, and a Pose result.

Pure numpy: everything downstream (CSV schema, classifier contract, drawing) takes its
keypoint order from here, so there is exactly one definition of it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

KEYPOINT_NAMES: tuple[str, ...] = (
    "nose",
    "left_eye",
    "right_eye",
    "left_ear",
    "right_ear",
    "left_shoulder",
    "right_shoulder",
    "left_elbow",
    "right_elbow",
    "left_wrist",
    "right_wrist",
    "left_hip",
    "right_hip",
    "left_knee",
    "right_knee",
    "left_ankle",
    "right_ankle",
)
NUM_KEYPOINTS = len(KEYPOINT_NAMES)
INDEX = {name: i for i, name in enumerate(KEYPOINT_NAMES)}

# Index permutation that swaps every left keypoint with its right twin (nose stays).
MIRROR_PERMUTATION: tuple[int, ...] = tuple(
    INDEX[n.replace("left_", "\0").replace("right_", "left_").replace("\0", "right_")] for n in KEYPOINT_NAMES
)

SKELETON: tuple[tuple[int, int], ...] = tuple(
    (INDEX[a], INDEX[b])
    for a, b in (
        ("nose", "left_eye"), ("nose", "right_eye"), ("left_eye", "left_ear"), ("right_eye", "right_ear"),
        ("left_shoulder", "right_shoulder"), ("left_shoulder", "left_elbow"), ("left_elbow", "left_wrist"),
        ("right_shoulder", "right_elbow"), ("right_elbow", "right_wrist"), ("left_shoulder", "left_hip"),
        ("right_shoulder", "right_hip"), ("left_hip", "right_hip"), ("left_hip", "left_knee"),
        ("left_knee", "left_ankle"), ("right_hip", "right_knee"), ("right_knee", "right_ankle"),
    )
)


# (root, middle joint, end) of each limb: left arm, left leg, right arm, right leg.
LIMBS: tuple[tuple[int, int, int], ...] = tuple(
    tuple(INDEX[f"{side}_{part}"] for part in parts) for side in ("left", "right")
    for parts in (("shoulder", "elbow", "wrist"), ("hip", "knee", "ankle")))
ARMS = LIMBS[::2]  # (shoulder, elbow, wrist), left then right

# The body size a pose is scaled by is at least this many torso lengths (shoulder midpoint to hip
# midpoint): the classifier's normalisation and inspect's pose distances share it.
TORSO_MULTIPLIER = 2.5
# The "robust" normalisation measures the body's size on keypoints scored at least this.
ROBUST_MIN_SCORE = 0.2


def mirrored(poses: np.ndarray, x: int) -> np.ndarray:
    """Poses ``[N,17,C]`` flipped left-right: channel ``x`` negated, every left keypoint swapped with its right twin."""
    out = poses[:, list(MIRROR_PERMUTATION)].copy()
    out[..., x] *= -1
    return out


def normalised(poses: np.ndarray, mode: str = "max") -> np.ndarray:
    """The two coordinates of poses ``[N,17,C]`` centred on the hips and scaled by the body, as the
    classifier's ``PoseNormalization`` does (either coordinate order; channel 2, when there, the score).

    ``mode``: "max" scales by the larger of 2.5 torso lengths and the farthest keypoint from the hips,
    "robust" the same counting only keypoints scored >= ROBUST_MIN_SCORE, "torso" by 2.5 torso lengths.
    """
    points = poses[:, :, :2]
    hips = (points[:, INDEX["left_hip"]] + points[:, INDEX["right_hip"]]) / 2
    shoulders = (points[:, INDEX["left_shoulder"]] + points[:, INDEX["right_shoulder"]]) / 2
    centred = points - hips[:, None]
    size = np.linalg.norm(shoulders - hips, axis=-1) * TORSO_MULTIPLIER
    if mode != "torso":
        distance = np.linalg.norm(centred, axis=-1)
        if mode == "robust" and poses.shape[-1] == 3:
            distance = distance * (poses[:, :, 2] >= ROBUST_MIN_SCORE)
        size = np.maximum(size, distance.max(axis=1))
    return centred / np.maximum(size, 1e-6)[:, None, None]


def presence(scores: np.ndarray) -> float:
    """Mean of the five most confident keypoint scores (see :attr:`Pose.presence`)."""
    return float(np.sort(scores)[-5:].mean())


@dataclass(frozen=True)
class Pose:
    """Keypoints of one person in original-image pixels.

    ``xy`` is ``[17, 2]`` (x, y) in pixels, ``scores`` is ``[17]`` in [0, 1], COCO order.
    """

    xy: np.ndarray
    scores: np.ndarray
    width: int
    height: int

    @property
    def presence(self) -> float:
        """Mean of the five most confident keypoints: how sure MoveNet is that anyone is there.

        The mean over all 17 is a poor test: a real person seen from above or half hidden can
        average 0.07, while a crop of plain background can average 0.15. A real person almost
        always has a few confident keypoints (lowest on the 1,000 yoga images: 0.13); a blank
        or noise image scores about 0.03.
        """
        return presence(self.scores)

    def as_movenet(self) -> np.ndarray:
        """This pose as MoveNet's output tensor ``[1, 1, 17, 3]`` = (y, x, score).

        Coordinates are divided by the longer image side, the frame MoveNet itself sees
        after letterboxing, so the aspect ratio is kept (the classifier's input contract).
        """
        side = float(max(self.width, self.height))
        out = np.empty((1, 1, NUM_KEYPOINTS, 3), dtype=np.float32)
        out[0, 0, :, 0] = self.xy[:, 1] / side
        out[0, 0, :, 1] = self.xy[:, 0] / side
        out[0, 0, :, 2] = self.scores
        return out

    def to_dicts(self) -> list[dict[str, float | str]]:
        """JSON-ready keypoints: ``{name, x, y, score}`` in COCO order."""
        return [
            {"name": n, "x": round(float(x), 2), "y": round(float(y), 2), "score": round(float(s), 4)}
            for n, (x, y), s in zip(KEYPOINT_NAMES, self.xy, self.scores)
        ]


def movenet_frame(kp: np.ndarray, width: np.ndarray, height: np.ndarray) -> np.ndarray:
    """CSV keypoints ``[N, 17, (x, y, score)]`` (x, y divided by width, height) → ``[N, 1, 17, 3]`` (y, x, score).

    The result is in the frame MoveNet itself reports after letterboxing (pixels divided by
    the longer side), so x and y are scaled alike: the classifier's input contract.
    """
    width, height = np.asarray(width, np.float32)[:, None], np.asarray(height, np.float32)[:, None]
    side = np.maximum(width, height)
    out = np.stack([kp[:, :, 1] * height / side, kp[:, :, 0] * width / side, kp[:, :, 2]], axis=-1)
    return out[:, None].astype(np.float32)
