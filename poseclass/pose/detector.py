"""The pose detectors poseclass can run, behind one interface, chosen by name from one registry.

A :class:`PoseDetector` gives one person's 17 keypoints per image: single-pose MoveNet
(``lightning``, ``thunder``, ``thunder-int8``) or MoveNet MultiPose's most confident person
(``multipose``). Preprocess, ``PosePipeline.predict`` and video tracking only ever see this
interface, and :func:`open_detector` is the one place that turns a name from
:data:`~poseclass.pose.models.VARIANTS` into a detector. A new pose model is a registry entry
(:mod:`poseclass.pose.models`: where its file comes from, its input size, whether it finds
several people) plus, if it is a new kind, a class here.
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

import numpy as np
from PIL import Image

from poseclass.errors import ModelError, UsageError
from poseclass.pose.keypoints import Pose
from poseclass.pose.models import DEFAULT_VARIANT, VARIANTS
from poseclass.pose.movenet import DEFAULT_PASSES, DEFAULT_REFINE_BELOW, Crop, MoveNet
from poseclass.pose.multipose import MultiPoseNet, TopPerson

# MultiPose has no crop refinement: --passes with it is refused rather than ignored.
PASSES_ARE_SINGLE_POSE = "--passes is for single-pose MoveNet; MultiPose runs once per image"


class PoseDetector(Protocol):
    """One person's keypoints per image, in image pixels (judge them with :meth:`MoveNet.has_person`)."""

    def detect(self, image: str | Path | Image.Image | np.ndarray) -> Pose:
        """The most prominent person in a whole image (a path, Pillow image or RGB array)."""

    def detect_in(self, image: Image.Image, crop: Crop) -> Pose:
        """One inference on ``crop`` of an RGB image: video tracking chooses the crop itself."""


def is_single_pose(variant: str) -> bool:
    """Whether ``variant`` is a model that finds one person (crop refinement, the fused model)."""
    if variant not in VARIANTS:
        raise ModelError(f"unknown pose model {variant!r}; choose one of {', '.join(VARIANTS)}")
    return not VARIANTS[variant].multi_person


def crop_settings(variant: str, passes: int | None = None,
                  refine_below: float | None = None) -> tuple[int | None, float | None]:
    """The crop refinement keypoints of ``variant`` are made with: single-pose MoveNet's defaults where not given;
    none for a multi-person model, which refuses them rather than ignore them."""
    if is_single_pose(variant):
        return (DEFAULT_PASSES if passes is None else passes,
                DEFAULT_REFINE_BELOW if refine_below is None else refine_below)
    if passes is not None or refine_below is not None:
        raise UsageError(PASSES_ARE_SINGLE_POSE)
    return None, None


def open_detector(variant: str = DEFAULT_VARIANT, model_path: str | Path | None = None,
                  num_threads: int | None = None, passes: int | None = None,
                  refine_below: float | None = None) -> MoveNet | TopPerson:
    """The one-person detector named ``variant``: single-pose MoveNet, or MultiPose's most confident person."""
    if is_single_pose(variant):
        return MoveNet(variant, model_path, num_threads, passes, refine_below)
    crop_settings(variant, passes, refine_below)
    return TopPerson(MultiPoseNet(model_path, num_threads))
