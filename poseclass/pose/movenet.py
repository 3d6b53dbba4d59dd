"""MoveNet single-pose keypoint detection on LiteRT (never TensorFlow).

One :class:`MoveNet` owns one LiteRT interpreter, which is not thread-safe: make one per
thread or process (``preprocess`` makes one per worker process).

Each pass feeds MoveNet a square crop of the image, so the aspect ratio is never changed:
the first pass sees the whole image letterboxed, later passes zoom in on the body using
the crop-region rule of Google's pose-estimation sample (torso and body extents around the
hip midpoint, clamped to the image). A later pass only runs when it would zoom in
noticeably (see ``refine_below``): on a photo the person fills, an extra pass costs a full
inference and changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from poseclass.images import as_rgb
from poseclass.pose import litert
from poseclass.pose.keypoints import INDEX, Pose
from poseclass.pose.models import DEFAULT_VARIANT, VARIANTS, Reporter, ensure_model
from poseclass.quiet import note

MIN_CROP_KEYPOINT_SCORE = 0.2
TORSO = (INDEX["left_shoulder"], INDEX["right_shoulder"], INDEX["left_hip"], INDEX["right_hip"])
# Defaults chosen by `benchmarks/run.py passes` (README: "Crop refinement"): 2 passes at most, the
# second only when the body box is under 0.7 of the first crop.
DEFAULT_PASSES = 2
DEFAULT_REFINE_BELOW = 0.7
# Pose.presence under which MoveNet's answer is treated as "no person in the image"
# (see Pose.presence: low enough that no real person in the yoga set is rejected).
NO_POSE_SCORE = 0.1


def check_settings(passes: int, refine_below: float) -> None:
    """Refuse crop-refinement settings that cannot work, with a message that says what can."""
    if not isinstance(passes, int) or passes < 1:
        raise ValueError(f"passes must be a whole number of at least 1, not {passes!r}")
    if not refine_below > 0:
        raise ValueError(f"refine_below must be above 0 (a fraction of the previous crop; 1 or more: always "
                         f"refine), not {refine_below!r}")


@dataclass(frozen=True)
class Crop:
    """A square region of the image in pixels: top-left corner and side (may extend past the edges)."""

    x0: float
    y0: float
    side: float

    @property
    def box(self) -> tuple[int, int, int, int]:
        """The crop as a Pillow box (left, top, right, bottom), in whole pixels."""
        return round(self.x0), round(self.y0), round(self.x0 + self.side), round(self.y0 + self.side)

    def to_pixels(self, yx: np.ndarray) -> np.ndarray:
        """Points given as MoveNet gives them, ``[..., (y, x)]`` in [0, 1] of this square, as
        ``[..., (x, y)]`` image pixels (of the whole-pixel box the model was shown)."""
        left, top, right, _ = self.box
        side = right - left
        return np.stack([left + yx[..., 1] * side, top + yx[..., 0] * side], axis=-1)


def full_frame(width: int, height: int) -> Crop:
    """The letterbox: the smallest square, centred on the image, that holds all of it."""
    side = float(max(width, height))
    return Crop((width - side) / 2, (height - side) / 2, side)


def body_crop(xy: np.ndarray, scores: np.ndarray, width: int, height: int) -> Crop:
    """The crop the next pass should see, from the pose found in this one.

    Centre: hip midpoint. Half side: the larger of 1.9 × the torso extent and 1.2 × the
    extent of every confident keypoint, from that centre, in x and y; never more than the
    distance to the farthest image edge. Falls back to the full frame when the torso is
    not visible or the box would be larger than the image. Unlike the public sample, the
    body extent loops over every keypoint (the sample re-read its stale torso variable).
    """
    visible = scores > MIN_CROP_KEYPOINT_SCORE
    hips_seen = visible[INDEX["left_hip"]] or visible[INDEX["right_hip"]]
    shoulders_seen = visible[INDEX["left_shoulder"]] or visible[INDEX["right_shoulder"]]
    if not (hips_seen and shoulders_seen):
        return full_frame(width, height)
    center = (xy[INDEX["left_hip"]] + xy[INDEX["right_hip"]]) / 2
    torso_range = np.abs(xy[list(TORSO)] - center).max(axis=0)
    body_range = np.abs(xy[visible] - center).max(axis=0)
    half = max(float(torso_range.max()) * 1.9, float(body_range.max()) * 1.2)
    cx, cy = float(center[0]), float(center[1])
    half = min(half, max(cx, width - cx, cy, height - cy))
    if half > max(width, height) / 2 or half <= 0:
        return full_frame(width, height)
    return Crop(cx - half, cy - half, 2 * half)


def square_input(image: Image.Image, crop: Crop, size: int, dtype: np.dtype) -> np.ndarray:
    """``crop`` of an RGB ``image`` cut out and resized (bicubic) to ``size`` x ``size``: what MoveNet
    sees, and what an app feeds the fused model (the same resampling, so the two agree)."""
    patch = image.crop(crop.box).resize((size, size), Image.Resampling.BICUBIC)
    return np.asarray(patch, dtype=dtype)


class SquareModel:
    """A MoveNet TFLite file (single- or multi-pose) run on square crops of an image.

    Holds what both kinds share: the provisioned file, one interpreter, its tensors, and a count
    of inferences (the cost a crop policy is judged by).
    """

    def __init__(self, variant: str, model_path: str | Path | None, num_threads: int | None,
                 report: Reporter) -> None:
        self.variant = variant
        self.model_path = ensure_model(variant, model_path, report=report)
        self.interpreter = litert.interpreter(self.model_path, num_threads)
        detail = self.interpreter.get_input_details()[0]
        self._input_index, self._input_dtype = detail["index"], detail["dtype"]
        self.input_size = int(detail["shape"][1])
        if self.input_size <= 1:  # a dynamic-size model (MultiPose's official file): fix it to the registry's size
            self.input_size = VARIANTS[variant].input_size
            self.interpreter.resize_tensor_input(self._input_index, [1, self.input_size, self.input_size, 3])
            self.interpreter.allocate_tensors()
        self._output_index = self.interpreter.get_output_details()[0]["index"]
        self.inferences = 0

    def model_input(self, image: Image.Image, crop: Crop) -> np.ndarray:
        """The ``[N, N, 3]`` tensor MoveNet sees for ``crop`` of ``image``."""
        return square_input(image, crop, self.input_size, self._input_dtype)

    def run(self, image: Image.Image, crop: Crop) -> np.ndarray:
        """The model's output for ``crop`` of ``image``, batch axis removed (a copy: the next run reuses the buffer)."""
        self.interpreter.set_tensor(self._input_index, self.model_input(image, crop)[None])
        self.interpreter.invoke()
        self.inferences += 1
        return self.interpreter.get_tensor(self._output_index)[0].copy()


class MoveNet(SquareModel):
    """MoveNet Lightning (192 px) or Thunder (256 px) on LiteRT.

    >>> net = MoveNet("thunder")
    >>> pose = net.detect("person.jpg")
    >>> pose.xy, pose.scores  # [17, 2] pixels, [17]
    """

    def __init__(
        self,
        variant: str = DEFAULT_VARIANT,
        model_path: str | Path | None = None,
        num_threads: int | None = None,
        passes: int | None = None,
        refine_below: float | None = None,
        report: Reporter = note,
    ) -> None:
        if variant in VARIANTS and VARIANTS[variant].multi_person:
            raise ValueError("MoveNet is the single-pose model; for several people use "
                             "poseclass.pose.multipose.MultiPoseNet")
        passes = DEFAULT_PASSES if passes is None else passes
        refine_below = DEFAULT_REFINE_BELOW if refine_below is None else refine_below
        check_settings(passes, refine_below)
        super().__init__(variant, model_path, num_threads, report)
        self.passes = passes
        self.refine_below = refine_below

    def _infer(self, image: Image.Image, crop: Crop) -> tuple[np.ndarray, np.ndarray]:
        """Run MoveNet on one square crop; keypoints come back in image pixels."""
        out = self.run(image, crop)[0]
        return crop.to_pixels(out[:, :2]).astype(np.float32), out[:, 2].astype(np.float32)

    def detect_in(self, image: Image.Image, crop: Crop) -> Pose:
        """One inference on ``crop`` of an RGB ``image``, no refinement: video tracking picks the crop itself."""
        xy, scores = self._infer(image, crop)
        return Pose(xy=xy, scores=scores, width=image.width, height=image.height)

    def detect(self, image: str | Path | Image.Image | np.ndarray, passes: int | None = None) -> Pose:
        """Keypoints of the most prominent person in ``image``: a path, a Pillow image, or an RGB array
        (HxWx3 uint8, or float in [0, 1] or [0, 255]; see :func:`poseclass.images.from_array`)."""
        image = as_rgb(image)
        width, height = image.size
        crop = full_frame(width, height)
        xy, scores = self._infer(image, crop)
        for _ in range((self.passes if passes is None else passes) - 1):
            nxt = body_crop(xy, scores, width, height)
            if nxt.side >= self.refine_below * crop.side:
                break
            crop = nxt
            xy, scores = self._infer(image, crop)
        return Pose(xy=xy, scores=scores, width=width, height=height)

    @staticmethod
    def has_person(pose: Pose) -> bool:
        """MoveNet always answers 17 points; low confidence in even its best ones means nobody is there."""
        return pose.presence >= NO_POSE_SCORE
