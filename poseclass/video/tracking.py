"""Following people from frame to frame: one person's crop (:class:`PoseTracker`), everyone's ids (:class:`PeopleTracker`).

:class:`PoseTracker` keeps one person in view with one inference per frame. :class:`PeopleTracker`
gives track ids to the people MoveNet MultiPose finds, by box overlap and keypoints.

As TF.js pose-detection's trackers (``BoundingBoxTracker``, ``KeypointTracker``), with both
similarities in one: each detection is compared with each live track by box overlap (IoU) and
keypoints (OKS, object keypoint similarity with COCO's per-keypoint falloffs), and the most similar
pairs are linked first (greedy over all pairs, so a weak early detection cannot take a track a
better one fits). Unlike TF.js, a track is compared where its person should be now, moved on at
their recent velocity: someone walking who is missed for a few frames (hidden by a person passing
in front) is found where the track expects them, not where they were last seen. A detection that
fits no track well enough starts a new one; a track not seen for ``max_age_s`` seconds is dropped.
Ids are 1, 2, 3, ... and never reused, so an id names one person for the whole video. Neither
tracker reads video itself: frames come from any source.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image

from poseclass.pose.detector import PoseDetector
from poseclass.pose.keypoints import Pose
from poseclass.pose.movenet import Crop, MoveNet, body_crop, full_frame
from poseclass.pose.multipose import MAX_PEOPLE, Box, Person


class PoseTracker:
    """MoveNet on a stream: each frame is cropped around the body found in the previous one.

    One inference per frame in steady state. The first frame, and any frame after the person
    was lost, is seen whole (letterboxed); when a crop finds nobody, the same frame is tried
    whole at once, so a person who left the crop is found again without waiting a frame.
    """

    def __init__(self, movenet: PoseDetector) -> None:
        self.movenet = movenet
        self.crop: Crop | None = None
        self.found = False

    def track(self, image: Image.Image) -> Pose:
        """The pose in this frame (:attr:`found` says whether anyone is in it), and the crop for the next one.

        Whether a person was found is judged once per pose and kept: the caller needs it too, and on a
        fast model these small steps add up against the inference.
        """
        width, height = image.size
        pose = self.movenet.detect_in(image, self.crop or full_frame(width, height))
        self.found = MoveNet.has_person(pose)
        if not self.found and self.crop is not None:
            pose = self.movenet.detect_in(image, full_frame(width, height))
            self.found = MoveNet.has_person(pose)
        self.crop = body_crop(pose.xy, pose.scores, width, height) if self.found else None
        return pose


# TF.js pose-detection's tracker defaults: a track lives 1 s unseen, keypoints count from score 0.3 and
# OKS needs 4 of them; COCO's per-keypoint falloffs (sigmas), nose ... right ankle.
MAX_AGE_S = 1.0
KEYPOINT_SCORE = 0.3
MIN_KEYPOINTS = 4
KEYPOINT_FALLOFF = np.array([0.026, 0.025, 0.025, 0.035, 0.035, 0.079, 0.079, 0.072, 0.072, 0.062, 0.062,
                             0.107, 0.107, 0.087, 0.087, 0.089, 0.089])
# TF.js links at 0.15 (boxes) and 0.2 (keypoints); the mean of the two needs at least this much.
MIN_SIMILARITY = 0.15
# Weight of the latest move in a track's velocity: damps the jitter of MultiPose's boxes from frame to frame.
VELOCITY_SMOOTHING = 0.5
# TF.js keeps 18 tracks (3 per person MultiPose can find): people briefly lost stay matchable, memory is bounded.
MAX_TRACKS = 3 * MAX_PEOPLE


def iou(a: Box, b: Box) -> float:
    """Intersection over union of two boxes ``(x0, y0, x1, y1)``: 0 apart, 1 identical."""
    w = min(a[2], b[2]) - max(a[0], b[0])
    h = min(a[3], b[3]) - max(a[1], b[1])
    if w <= 0 or h <= 0:
        return 0.0
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - w * h
    return w * h / union if union > 0 else 0.0


def oks(pose: Pose, track: Pose) -> float | None:
    """TF.js's object keypoint similarity of ``pose`` to a track's last pose (None: too few keypoints to say).

    Each keypoint confident in both counts ``exp(-d² / (2 · area · (2 · falloff)²))``, ``area`` being the box
    around the track's confident keypoints: 1 in place, about 0 a body width away.
    """
    both = (pose.scores >= KEYPOINT_SCORE) & (track.scores >= KEYPOINT_SCORE)
    if both.sum() < MIN_KEYPOINTS:
        return None
    seen = track.xy[track.scores >= KEYPOINT_SCORE]
    area = float(np.prod(seen.max(axis=0) - seen.min(axis=0))) + 1e-6
    d2 = np.sum((pose.xy[both] - track.xy[both]) ** 2, axis=1)
    return float(np.mean(np.exp(-d2 / (2 * area * (2 * KEYPOINT_FALLOFF[both]) ** 2))))


def similarity(person: Person, expected: Person) -> float:
    """The mean of box IoU and OKS (IoU alone when too few keypoints are confident for OKS)."""
    overlap, keypoints = iou(person.box, expected.box), oks(person.pose, expected.pose)
    return overlap if keypoints is None else (overlap + keypoints) / 2


def _centre(box: Box) -> np.ndarray:
    return np.array([(box[0] + box[2]) / 2, (box[1] + box[3]) / 2])


@dataclass
class Track:
    """One person followed over frames: their id, where they were last seen and when, how fast they move."""

    id: int
    last: Person
    last_seen: float
    velocity: np.ndarray | None = None  # box centre, pixels per second; None until seen twice

    def expected(self, t: float) -> Person:
        """The person as last seen, moved on to ``t`` at their velocity."""
        if self.velocity is None:
            return self.last
        dx, dy = self.velocity * (t - self.last_seen)
        x0, y0, x1, y1 = self.last.box
        pose = self.last.pose
        moved = Pose(pose.xy + np.float32([dx, dy]), pose.scores, pose.width, pose.height)
        return Person(moved, (x0 + dx, y0 + dy, x1 + dx, y1 + dy), self.last.score)

    def see(self, person: Person, t: float) -> None:
        """The person was found at ``t``: update where they are and how fast they move."""
        if t > self.last_seen:
            move = (_centre(person.box) - _centre(self.last.box)) / (t - self.last_seen)
            self.velocity = move if self.velocity is None else (
                VELOCITY_SMOOTHING * move + (1 - VELOCITY_SMOOTHING) * self.velocity)
        self.last, self.last_seen = person, t


class PeopleTracker:
    """Gives each person found in a frame a track id: :meth:`update` once per frame, in time order.

    >>> tracker = PeopleTracker()
    >>> ids, dropped = tracker.update(net.detect(frame), t)   # ids[i] is people[i]'s
    """

    def __init__(self, max_age_s: float = MAX_AGE_S, min_similarity: float = MIN_SIMILARITY,
                 max_tracks: int = MAX_TRACKS) -> None:
        if max_age_s < 0 or not 0 <= min_similarity <= 1 or max_tracks < 1:
            raise ValueError("PeopleTracker needs max_age_s >= 0, min_similarity in [0, 1] and max_tracks >= 1")
        self.max_age_s, self.min_similarity, self.max_tracks = max_age_s, min_similarity, max_tracks
        self.tracks: list[Track] = []
        self._next_id = 1

    def update(self, people: list[Person], t: float,
               known: list[int | None] | None = None) -> tuple[list[int], list[int]]:
        """The track id of each of ``people`` (same order), and the ids of the tracks dropped now.

        ``known``: ids already known for some of ``people`` (None for the others), as when a tracked
        person was read on their own crop: they keep them (while their track lives), the others are matched.

        Tracks older than ``max_age_s`` are dropped before matching, so a person gone longer
        comes back under a new id; when more than ``max_tracks`` are alive, the least recently
        seen go (never one found in this frame).
        """
        dropped = [track.id for track in self.tracks if t - track.last_seen > self.max_age_s]
        self.tracks = [track for track in self.tracks if track.id not in dropped]
        ids = self._match(people, t, known)
        for i, person in enumerate(people):
            if ids[i] is None:
                ids[i] = self._next_id
                self._next_id += 1
                self.tracks.append(Track(ids[i], person, t))
            else:
                next(track for track in self.tracks if track.id == ids[i]).see(person, t)
        keep = max(self.max_tracks, len(people))  # never the people of this very frame
        if len(self.tracks) > keep:
            self.tracks.sort(key=lambda track: track.last_seen, reverse=True)
            dropped += [track.id for track in self.tracks[keep:]]
            del self.tracks[keep:]
        return ids, dropped

    def _match(self, people: list[Person], t: float, known: list[int | None] | None = None) -> list[int | None]:
        """Each person's existing track id (None: no track fits), the known ones first, then the most similar
        pairs."""
        expected = [track.expected(t) for track in self.tracks]
        pairs = sorted(((similarity(person, there), i, j) for i, person in enumerate(people)
                        for j, there in enumerate(expected)), reverse=True)
        ids: list[int | None] = [None] * len(people)
        taken: set[int] = set()
        live = {track.id: j for j, track in enumerate(self.tracks)}
        for i, track_id in enumerate(known or []):
            if track_id in live and live[track_id] not in taken:
                ids[i] = track_id
                taken.add(live[track_id])
        for score, i, j in pairs:
            if score < self.min_similarity:
                break
            if ids[i] is None and j not in taken:
                ids[i] = self.tracks[j].id
                taken.add(j)
        return ids
