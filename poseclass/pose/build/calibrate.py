"""What ships with poseclass for the int8 build, measured here (maintainers only).

Run by ``scripts/calibrate_thunder_int8.py``:

* :func:`calibrate`: the activation ranges (``movenet_thunder_int8_ranges.json``), measured on
  model inputs made from pictures of people (:func:`calibration_samples`);
* :func:`reference_inputs`: the reference model inputs of ``movenet_thunder_reference.npz``,
  drawn here (synthetic figures, so poseclass owns them and can ship them), beside the float
  Thunder keypoints the int8 build must reproduce (:mod:`poseclass.pose.build.reference`).

Kept apart from :mod:`poseclass.pose.build.quantize` because it needs MoveNet itself to find
body crops, while provisioning (which quantize serves) must not depend on the runtime detector.
Only LiteRT's public interpreter API is used.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

from poseclass.pose.build.quantize import model_object


def calibration_samples(images: Iterable[str | Path], detector: Any, seed: int = 0) -> Iterator[np.ndarray]:
    """Model inputs as preprocessing produces them: three per image, so every kind of pass is covered.

    The letterboxed whole image (first pass), the body crop a second pass would see, and the
    person shrunk to 60-250 px somewhere on a plain background of 500-1000 px (a far-away
    subject: without these, the int8 model loses small people). ``detector`` is a float
    :class:`~poseclass.pose.movenet.MoveNet` that finds the body crops.
    """
    from poseclass.images import load_rgb
    from poseclass.pose.movenet import body_crop, full_frame

    rng = random.Random(seed)
    for path in images:
        image = load_rgb(path)
        pose = detector.detect(image, passes=1)
        side, person = rng.randint(500, 1000), rng.randint(60, 250)
        canvas = Image.new("RGB", (side, side), tuple(rng.randint(0, 255) for _ in range(3)))
        corner = (rng.randint(0, side - person), rng.randint(0, side - person))
        canvas.paste(image.resize((person, person), Image.Resampling.LANCZOS), corner)
        for picture, crop in (
            (image, full_frame(*image.size)),
            (image, body_crop(pose.xy, pose.scores, *image.size)),
            (canvas, full_frame(side, side)),
        ):
            yield detector.model_input(picture, crop)[None]


def _activations(float_model: bytes) -> list[int]:
    """Indices of the float32 tensors the ops of ``float_model`` write (its activations)."""
    from ai_edge_litert.schema_py_generated import TensorType

    graph = model_object(float_model).subgraphs[0]
    return sorted({i for op in graph.operators for i in op.outputs if i >= 0 and graph.tensors[i].type == TensorType.FLOAT32})


def calibrate(float_model: bytes, samples: Iterable[np.ndarray]) -> dict[str, list[float]]:
    """Activation ranges ``{tensor name: [min, max]}`` of ``float_model`` over ``samples``.

    Each sample is one model input, int32 ``[1, N, N, 3]``. The ranges are the smallest and
    largest value each activation takes over all samples, read from LiteRT's builtin kernels
    with every tensor kept in its own buffer (``experimental_preserve_all_tensors``): no
    in-place op can overwrite a value before it is measured.
    """
    from ai_edge_litert.interpreter import Interpreter, OpResolverType

    from poseclass.quiet import native_stderr_silenced

    with native_stderr_silenced():
        interpreter = Interpreter(
            model_content=float_model,
            num_threads=1,
            experimental_op_resolver_type=OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES,
            experimental_preserve_all_tensors=True,
        )
        interpreter.allocate_tensors()
    names = {detail["index"]: detail["name"] for detail in interpreter.get_tensor_details()}
    tensors = _activations(float_model)
    low = dict.fromkeys(tensors, np.inf)
    high = dict.fromkeys(tensors, -np.inf)
    input_index = interpreter.get_input_details()[0]["index"]
    for sample in samples:
        interpreter.set_tensor(input_index, sample)
        interpreter.invoke()
        for index in tensors:
            value = interpreter.get_tensor(index)
            low[index] = min(low[index], float(value.min()))
            high[index] = max(high[index], float(value.max()))
    return {names[index]: [low[index], high[index]] for index in tensors}


# Reference figures, in fractions of the picture: (x, y) of the 17 keypoints in COCO order.
# The figure faces the camera, so its left side is on the picture's right.
_STANDING = {
    "nose": (0.50, 0.17), "left_eye": (0.52, 0.155), "right_eye": (0.48, 0.155),
    "left_ear": (0.545, 0.165), "right_ear": (0.455, 0.165),
    "left_shoulder": (0.59, 0.27), "right_shoulder": (0.41, 0.27),
    "left_elbow": (0.63, 0.40), "right_elbow": (0.37, 0.40),
    "left_wrist": (0.65, 0.52), "right_wrist": (0.35, 0.52),
    "left_hip": (0.56, 0.52), "right_hip": (0.44, 0.52),
    "left_knee": (0.57, 0.69), "right_knee": (0.43, 0.69),
    "left_ankle": (0.58, 0.86), "right_ankle": (0.42, 0.86),
}
_TREE = {  # hands together above the head, the left foot against the right knee
    **_STANDING,
    "left_elbow": (0.62, 0.17), "right_elbow": (0.38, 0.17), "left_wrist": (0.52, 0.06), "right_wrist": (0.48, 0.06),
    "left_knee": (0.66, 0.62), "left_ankle": (0.52, 0.58),
}
_SMALL_TREE = {name: (0.58 + (x - 0.5) * 0.6, 0.55 + (y - 0.5) * 0.6) for name, (x, y) in _TREE.items()}
# (pose, background colour, seed of the background texture)
REFERENCE_FIGURES = ((_STANDING, (90, 120, 150), 0), (_TREE, (150, 130, 90), 1), (_SMALL_TREE, (70, 110, 70), 2))


def _capsule(draw: ImageDraw.ImageDraw, a: tuple[float, float], b: tuple[float, float], radius: float, fill: tuple) -> None:
    draw.line([a, b], fill=fill, width=int(2 * radius))
    for x, y in (a, b):
        draw.ellipse([x - radius, y - radius, x + radius, y + radius], fill=fill)


def draw_figure(pose: dict[str, tuple[float, float]], background: tuple[int, int, int], seed: int, size: int = 256) -> Image.Image:
    """A clothed cartoon person in ``pose`` on a textured gradient, ``size`` px square.

    Drawn at 4x and scaled down (smooth edges). Float MoveNet Thunder finds its keypoints
    within a few pixels, with scores of 0.5-0.9.
    """
    scale = 4
    side = size * scale
    rng = np.random.default_rng(seed)
    shade = np.linspace(0.7, 1.2, side)[:, None, None]
    pixels = np.asarray(background, np.float64)[None, None] * shade + rng.normal(0, 6, (side, side, 3))
    image = Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8))
    draw = ImageDraw.Draw(image)
    at = {name: (x * side, y * side) for name, (x, y) in pose.items()}
    skin, shirt, trousers, hair, dark = (224, 172, 140), (200, 40, 40), (40, 50, 90), (60, 40, 20), (30, 30, 30)
    r = 0.022 * side
    for s in ("left", "right"):
        _capsule(draw, at[f"{s}_hip"], at[f"{s}_knee"], 1.5 * r, trousers)
        _capsule(draw, at[f"{s}_knee"], at[f"{s}_ankle"], 1.2 * r, trousers)
        x, y = at[f"{s}_ankle"]
        draw.ellipse([x - 2 * r, y - 0.6 * r, x + 2 * r, y + 1.2 * r], fill=dark)  # shoe
    draw.polygon([at["left_shoulder"], at["right_shoulder"], at["right_hip"], at["left_hip"]], fill=shirt)
    _capsule(draw, at["left_shoulder"], at["right_shoulder"], 1.3 * r, shirt)
    _capsule(draw, at["left_hip"], at["right_hip"], 1.4 * r, trousers)
    nx, ny = at["nose"]
    neck = ((at["left_shoulder"][0] + at["right_shoulder"][0]) / 2, (at["left_shoulder"][1] + at["right_shoulder"][1]) / 2)
    _capsule(draw, neck, (nx, ny + 2 * r), r, skin)
    head = 0.05 * side
    draw.ellipse([nx - 0.85 * head, ny - 1.2 * head, nx + 0.85 * head, ny + 0.9 * head], fill=skin)
    draw.chord([nx - 0.9 * head, ny - 1.35 * head, nx + 0.9 * head, ny + 0.3 * head], 180, 360, fill=hair)
    for eye in ("left_eye", "right_eye"):
        x, y = at[eye]
        draw.ellipse([x - 0.35 * r, y - 0.25 * r, x + 0.35 * r, y + 0.25 * r], fill=dark)
    draw.ellipse([nx - 0.2 * r, ny - 0.1 * r, nx + 0.2 * r, ny + 0.3 * r], fill=(190, 130, 100))
    draw.line([(nx - 0.6 * r, ny + 1.2 * r), (nx + 0.6 * r, ny + 1.2 * r)], fill=(150, 60, 60), width=int(0.25 * r))
    for s in ("left", "right"):
        _capsule(draw, at[f"{s}_shoulder"], at[f"{s}_elbow"], 1.1 * r, shirt)
        _capsule(draw, at[f"{s}_elbow"], at[f"{s}_wrist"], 0.9 * r, skin)
        x, y = at[f"{s}_wrist"]
        draw.ellipse([x - 1.1 * r, y - 1.1 * r, x + 1.1 * r, y + 1.1 * r], fill=skin)  # hand
    image = image.filter(ImageFilter.GaussianBlur(0.6 * scale))
    return image.resize((size, size), Image.Resampling.LANCZOS)


def reference_inputs(size: int = 256) -> np.ndarray:
    """The reference model inputs, uint8 ``[3, size, size, 3]``: a standing figure, a tree pose, a smaller tree pose."""
    return np.stack([np.asarray(draw_figure(pose, colour, seed, size)) for pose, colour, seed in REFERENCE_FIGURES])
