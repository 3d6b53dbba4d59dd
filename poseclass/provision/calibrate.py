"""Measuring the int8 model's activation ranges (maintainers only: the result ships with poseclass).

Run by ``scripts/calibrate_thunder_int8.py``. Kept apart from :mod:`poseclass.provision.quantize`
because it needs MoveNet itself to find body crops, while provisioning (which quantize serves)
must not depend on the runtime detector.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from poseclass.provision.quantize import model_object


def calibration_samples(images: Iterable[str | Path], detector: Any, seed: int = 0) -> Iterator[np.ndarray]:
    """Model inputs as preprocessing produces them: three per image, so every kind of pass is covered.

    The letterboxed whole image (first pass), the body crop a second pass would see, and the
    person shrunk to 60-250 px somewhere on a plain background of 500-1000 px (a far-away
    subject: without these, the int8 model loses small people). ``detector`` is a float
    :class:`~poseclass.runtime.movenet.MoveNet` that finds the body crops.
    """
    from poseclass.runtime.images import load_rgb
    from poseclass.runtime.movenet import body_crop, full_frame

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


def calibrate(float_model: bytes, samples: Iterable[np.ndarray]) -> dict[str, list[float]]:
    """Activation ranges ``{tensor name: [min, max]}`` of ``float_model`` over ``samples``.

    Each sample is one model input, int32 ``[1, N, N, 3]``.
    """
    from tensorflow.lite.python.optimize.calibrator import Calibrator

    samples = list(samples)
    calibrated = Calibrator(float_model).calibrate(lambda: ([s] for s in samples))
    ranges = {}
    for tensor in model_object(calibrated).subgraphs[0].tensors:
        quant = tensor.quantization
        if quant is not None and quant.min is not None and len(quant.min):
            ranges[tensor.name.decode()] = [float(quant.min[0]), float(quant.max[0])]
    return ranges
