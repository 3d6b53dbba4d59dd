"""Video with several people: everyone MoveNet MultiPose finds, followed under one id each, classified over time.

People are read top-down, as still images are (:class:`~poseclass.pose.people.TopDown`): each
tracked person keeps their own crop from frame to frame (the single-person tracking rule, per
person), so in steady state a frame costs one single-pose MoveNet pass per person. MultiPose runs
on the first frame, every ``detect_every`` frames after, and on any frame where a person's crop
finds nobody, to find newcomers; only they cost a crop read of their own. (A model folder trained on
MultiPose keypoints runs MultiPose on every frame and classifies its keypoints, as before.)
:class:`~poseclass.video.tracking.PeopleTracker` links the people to those of earlier frames, and each id gets its own
:class:`~poseclass.video.timeline.PersonTimeline` (One-Euro keypoints, smoothed probabilities,
segments, repetitions), the same one the single-person :class:`~poseclass.video.person.VideoClassifier`
uses. A person missed for a frame or two keeps their id and their smoothing; one gone longer than
the tracker's ``max_age_s`` is dropped, leaving only their summary if they held a pose long enough
to make a segment or finished a repetition (others are only counted, as ``brief_people``: a
flickering false detection on a long camera stream leaves nothing behind), so memory grows with
the number of people who did something, not with the length of the video.

>>> clf = PeopleVideoClassifier(PosePipeline.load("model/"), count=["chair"])
>>> for people in clf.run(read_video("class.mp4")):
...     [(p.person, p.label) for p in people]
>>> [(p["person"], p["counts"]) for p in clf.summary()["people"]]
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
from PIL import Image

from poseclass.classify.pipeline import PosePipeline
from poseclass.images import as_rgb
from poseclass.pose.draw import draw_people
from poseclass.pose.movenet import Crop
from poseclass.pose.multipose import DEFAULT_MIN_PERSON_SCORE, MAX_PEOPLE, Box, Person, box_dict, check_people_settings
from poseclass.pose.people import TopDown, fragment, next_crop
from poseclass.video import timeline
from poseclass.video.filters import FrameClock
from poseclass.video.person import Frames
from poseclass.video.timeline import FrameResult, PersonTimeline, VideoOptions
from poseclass.video.tracking import MAX_AGE_S, PeopleTracker

# MultiPose runs on every this many frames (and whenever a tracked person's crop finds nobody) to find
# newcomers; chosen by `benchmarks/multipose.py video` (README: "Several people in a video").
DETECT_EVERY = 8


@dataclass
class PersonFrameResult(FrameResult):
    """One person in one frame: a :class:`~poseclass.video.timeline.FrameResult` (status ``ok`` or ``unknown``)
    with their track id, box ``(x0, y0, x1, y1)`` in pixels (around their keypoints) and MultiPose person score."""

    person: int = 0
    box: Box = (0.0, 0.0, 0.0, 0.0)
    person_score: float = 0.0

    def to_dict(self) -> dict[str, object]:
        row = super().to_dict()
        keypoints = row.pop("keypoints")
        return {"frame": row.pop("frame"), "time_s": row.pop("time_s"), "person": self.person, **row,
                "box": box_dict(self.box),
                "person_score": round(self.person_score, 4), "keypoints": keypoints}

    def csv_row(self) -> list[object]:
        """The row under :func:`csv_header`."""
        row, split = super().csv_row(), 4 + len(self.labels)
        return [*row[:2], self.person, *row[2:split], *(f"{v:.1f}" for v in self.box), f"{self.person_score:.4f}",
                *row[split:]]


def csv_header(labels: list[str], counted: tuple[str, ...] = ()) -> list[str]:
    """The single-person columns with ``person`` after time_s and the box and person score before the keypoints."""
    columns, split = timeline.csv_header(labels, counted), 4 + len(labels)
    return [*columns[:2], "person", *columns[2:split], "x0", "y0", "x1", "y1", "person_score", *columns[split:]]


class PeopleVideoClassifier:
    """Classify everyone in a stream of frames, each person under their own id with their own smoothing and counts.

    :meth:`push` gives one :class:`PersonFrameResult` per person found in the frame (none when
    nobody is), in id order; :meth:`summary` gives per person the frames they were seen in,
    their first and last time, segments and repetition counts.
    """

    def __init__(self, pipeline: PosePipeline, options: VideoOptions | None = None, max_people: int | None = None,
                 min_person_score: float | None = None, max_age_s: float = MAX_AGE_S,
                 detect_every: int = DETECT_EVERY, **settings: object) -> None:
        """``options`` (a :class:`VideoOptions`) or its fields as keywords, as for ``VideoClassifier``;
        ``detect_every``: run MultiPose on every this many frames to find newcomers (1: every frame)."""
        if not isinstance(detect_every, int) or detect_every < 1:
            raise ValueError(f"detect_every must be a whole number of at least 1, not {detect_every!r}")
        self.pipeline, self.labels = pipeline, list(pipeline.labels)
        self.options = VideoOptions.of(options, **settings)
        self.options.check(self.labels)  # now rather than at the first person
        check_people_settings(MAX_PEOPLE if max_people is None else max_people,
                              DEFAULT_MIN_PERSON_SCORE if min_person_score is None else min_person_score)
        self.max_people, self.min_person_score = max_people, min_person_score
        self.tracker = PeopleTracker(max_age_s)
        self.clock = FrameClock()
        self.frames = 0
        self.people: dict[int, PersonTimeline] = {}  # the tracked people, by id
        self._gone: dict[int, dict[str, object]] = {}  # the summaries of people dropped by the tracker
        self.brief_people = 0  # people dropped with no segment and no repetition: counted, not kept
        self.detect_every = detect_every
        self.crops: dict[int, tuple[Crop, float]] = {}  # per tracked id: where to look next, last person score
        self._since_detection = 0  # frames since MultiPose last ran

    def push(self, frame: Image.Image | np.ndarray, t: float) -> list[PersonFrameResult]:
        """Everyone in one frame shown at ``t`` seconds (timestamps must increase)."""
        found, known = self._find(as_rgb(frame))
        ids, dropped = self.tracker.update(found, t, known)
        if isinstance(self.pipeline.people, TopDown):
            self.crops = {i: (next_crop(person), person.score) for i, person in zip(ids, found)}
        for person_id in dropped:
            timeline = self.people.pop(person_id)
            timeline.leave()
            summary = self._summary(person_id, timeline)
            if summary["segments"] or any(summary["counts"].values()):
                self._gone[person_id] = summary
            else:
                self.brief_people += 1
        end = self.clock.tick(t)
        results = []
        for person_id, person in sorted(zip(ids, found), key=lambda pair: pair[0]):
            if person_id not in self.people:
                self.people[person_id] = PersonTimeline(self.pipeline.classifier, self.options)
            result = self.people[person_id].update(self.frames, person.pose, t, end)
            results.append(PersonFrameResult(**vars(result), person=person_id, box=person.box,
                                             person_score=person.score))
        self.frames += 1
        return results

    def _find(self, image: Image.Image) -> tuple[list[Person], list[int | None]]:
        """This frame's people: each tracked one read on their own crop; MultiPose for newcomers on the first
        frame, every ``detect_every`` frames and when a crop lost its person (nobody there, or two crops on one
        body, or a crop that slid onto a piece of someone else: see :func:`~poseclass.pose.people.fragment`).
        With each person, the track id they are known by (a crop's own; None for people MultiPose found)."""
        reader = self.pipeline.people
        if not isinstance(reader, TopDown):  # a classifier trained on MultiPose keypoints
            return reader.detect(image, self.max_people, self.min_person_score), []
        followed: list[Person] = []
        known: list[int | None] = []
        lost = False
        for track_id, (crop, score) in self.crops.items():
            person = reader.follow(image, crop, score)
            if person is None or any(kept.duplicates(person) or fragment(person.box, kept.box) for kept in followed):
                lost = True
            else:
                followed.append(person)
                known.append(track_id)
        self._since_detection += 1
        if lost or not self.crops or self._since_detection >= self.detect_every:
            self._since_detection = 0
            people = reader.detect(image, self.max_people, self.min_person_score, followed)
            return people, known[:len(people)]
        return followed, known

    def run(self, frames: Frames) -> Iterator[list[PersonFrameResult]]:
        """:meth:`push` every ``(frame, seconds)`` of ``frames``, yielding each frame's people as they are ready."""
        for frame, t in frames:
            yield self.push(frame, t)

    def summary(self) -> dict[str, object]:
        """Frames, duration and, per person (by id), frames seen, first and last time, segments and counts so far;
        ``brief_people``: how many people came and went without a segment or a repetition."""
        people = {**self._gone, **{i: self._summary(i, timeline) for i, timeline in self.people.items()}}
        return {"frames": self.frames, "duration_s": round(self.clock.duration, 3),
                "people": [people[i] for i in sorted(people)], "brief_people": self.brief_people}

    @staticmethod
    def _summary(person_id: int, timeline: PersonTimeline) -> dict[str, object]:
        return {"person": person_id, "first_s": round(timeline.first_s, 3), "last_s": round(timeline.last_s, 3),
                **timeline.summary()}


def draw_tracked(image: Image.Image, people: list[PersonFrameResult]) -> Image.Image:
    """A copy of ``image`` with everyone drawn: skeleton, box and a caption as the single-person video's
    (``#id label probability held seconds, class: n reps``)."""
    return draw_people(image, [(p.box, p.pose, _caption(p)) for p in people])


def _caption(person: PersonFrameResult) -> str:
    counts = "".join(f", {line}" for line in person.rep_captions())
    if person.status == "unknown":
        return f"#{person.person} unknown pose{counts}"
    return f"#{person.person} {person.label} {person.probability:.2f} held {person.hold_s:.1f} s{counts}"
