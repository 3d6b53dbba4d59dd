"""What classifying an image gives: one person's answer, or each person's in a picture of several."""

from __future__ import annotations

from dataclasses import dataclass, field

from poseclass.pose.keypoints import Pose
from poseclass.pose.multipose import Box, box_dict

ANSWERED = ("ok", "unknown")  # statuses with a person and an answer ("unknown" is one: none of the classes)


@dataclass
class Prediction:
    """One image's answer. ``status``: ``ok``, ``unknown`` (a person in a pose that is none of the classes:
    ``predictions`` still ranks them), ``no_pose`` (nobody found) or ``error`` (unreadable)."""

    image: str
    status: str
    predictions: list[tuple[str, float]] = field(default_factory=list)
    pose: Pose | None = None
    error: str | None = None

    @property
    def label(self) -> str | None:
        """The top class, or None when there is no answer (nobody, unreadable, or an unknown pose)."""
        return self.predictions[0][0] if self.status == "ok" else None

    def to_dict(self, top_k: int | None = None) -> dict[str, object]:
        out: dict[str, object] = {
            "image": self.image,
            "status": self.status,
            "label": self.label,
            "predictions": [{"label": k, "probability": round(p, 6)} for k, p in self.predictions[:top_k]],
            "keypoints": self.pose.to_dicts() if self.pose else None,
        }
        if self.error:
            out["error"] = self.error
        return out


@dataclass
class PersonPrediction:
    """One person in a multi-person image: box ``(x0, y0, x1, y1)`` in pixels, person score, keypoints, classes.
    ``status``: ``ok``, or ``unknown`` when their pose is none of the classes."""

    box: Box
    score: float
    pose: Pose
    predictions: list[tuple[str, float]]
    status: str = "ok"

    @property
    def label(self) -> str | None:
        """The top class, or None for an unknown pose."""
        return self.predictions[0][0] if self.status == "ok" else None

    def to_dict(self, top_k: int | None = None) -> dict[str, object]:
        return {
            "box": box_dict(self.box),
            "person_score": round(self.score, 4),
            "status": self.status,
            "predictions": [{"label": k, "probability": round(p, 6)} for k, p in self.predictions[:top_k]],
            "keypoints": self.pose.to_dicts(),
        }
