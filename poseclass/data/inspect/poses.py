"""What the keypoints say: poses that look like another class (k-NN), and poses too faint or cut off to teach.

numpy only, so it runs on the runtime install. The k-NN is MediaPipe's outlier filter: each
pose is compared with every other pose of the data, after the same per-pose normalisation the
classifier applies (centred on the hips, scaled by the body), and a left-right mirrored pose
counts as the same pose (training mirrors every pose anyway).
"""

from __future__ import annotations

import numpy as np

from poseclass.pose.draw import CONFIDENT as VISIBLE  # a keypoint is "visible" where the skeleton drawing draws it
from poseclass.pose.keypoints import KEYPOINT_NAMES, mirrored, normalised, presence

K_NEIGHBOURS = 5
# A pose whose best five keypoints average under this barely shows a person (a person passes
# MoveNet's no-person test at 0.1; CGI people score 0.5 and more).
LOW_PRESENCE = 0.25
# Fewer visible keypoints than this leaves most of the body unknown to the classifier.
MIN_VISIBLE = 6
# A pose looks like another class when at least this many of its nearest poses are of that class
# (4 of 5 flags 1.1 % of the clean CGI yoga set: frames on the way into or out of a pose).
MIN_VOTES = 4
# ... and is likely in the wrong folder when, besides, the nearest pose of that class is this many
# times closer than the nearest pose of its own class (at most 1.32 on the clean CGI set).
FAR_RATIO = 1.4
# With fewer poses than this in its class, a pose's 5 nearest neighbours say little about the
# class (a class of 7 frames from different subjects): only the FAR_RATIO test is made.
OUTLIER_MIN_CLASS = 15


def normalise(features: np.ndarray) -> np.ndarray:
    """``[N, 1, 17, 3]`` (y, x, score) → ``[N, 17, 2]`` (x, y), centred on the hips and scaled by the body.

    The body size is the larger of 2.5 torso lengths and the farthest keypoint from the hips,
    as in the classifier: position and size in the picture do not matter, only the pose.
    """
    return normalised(features[:, 0, :, 1::-1].astype(np.float64))


def pose_distances(poses: np.ndarray) -> np.ndarray:
    """``[N, N]`` mean keypoint distance between normalised poses, the mirrored match counted when closer.

    The diagonal is infinite: a pose is never its own neighbour (:func:`neighbour_votes`, :func:`nearest_ratio`).
    """
    flat, flip = poses.reshape(len(poses), -1), mirrored(poses, x=0).reshape(len(poses), -1)

    def pairwise(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        d2 = (a * a).sum(1)[:, None] + (b * b).sum(1)[None] - 2 * a @ b.T
        return np.sqrt(np.maximum(d2, 0) / poses.shape[1])

    distances = np.minimum(pairwise(flat, flat), pairwise(flat, flip))
    np.fill_diagonal(distances, np.inf)
    return distances


def neighbour_votes(distances: np.ndarray, y: np.ndarray, k: int = K_NEIGHBOURS) -> tuple[np.ndarray, np.ndarray]:
    """For each pose, the class most common among its ``k`` nearest other poses, and how many of them it has.

    Ties go to the pose's own class, so only a clear majority elsewhere raises a flag.
    """
    nearest = np.argsort(distances, axis=1)[:, :k]
    votes = np.zeros((len(y), int(y.max()) + 1), np.int64)
    for i, row in enumerate(nearest):
        np.add.at(votes[i], y[row], 1)
    winner = votes.argmax(axis=1)
    tie = votes[np.arange(len(y)), y] == votes.max(axis=1)
    winner[tie] = y[tie]
    return winner, votes[np.arange(len(y)), winner]


def nearest_ratio(distances: np.ndarray, y: np.ndarray, other: np.ndarray) -> np.ndarray:
    """For each pose: distance to the nearest pose of its own class over that to the nearest pose of class ``other``."""
    own = np.array([distances[i, y == y[i]].min(initial=np.inf) for i in range(len(y))])
    near = np.array([distances[i, y == other[i]].min(initial=np.inf) for i in range(len(y))])
    return own / np.maximum(near, 1e-9)


def faint_reason(scores: np.ndarray) -> tuple[str, str] | None:
    """``(kind, reason)`` when a detected pose is too faint or cut off to teach much, else None."""
    seen = presence(scores)
    if seen < LOW_PRESENCE:
        return "low_confidence", (f"low keypoint confidence ({seen:.2f}): "
                                  "a drawing, silhouette or a person barely seen")
    visible = int((scores >= VISIBLE).sum())
    if visible < MIN_VISIBLE:
        return "partial_body", f"partial body: only {visible} of 17 keypoints visible"
    return None


def visibility(scores: np.ndarray) -> dict[str, float]:
    """Share of poses in which each keypoint is visible (score at least 0.3), by keypoint name."""
    return {name: round(float(v), 3) for name, v in zip(KEYPOINT_NAMES, (scores >= VISIBLE).mean(axis=0))}
