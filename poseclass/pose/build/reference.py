"""Checking a freshly built MoveNet against reference keypoints before it is cached.

The int8 build is a rewrite of a converted model by two tools (TensorFlow's converter,
ai-edge-quantizer) that change between releases. Its bytes are fingerprinted
(:func:`poseclass.pose.build.quantize.recipe`), but a hash cannot say whether a new build is
still right, so provisioning runs it on reference inputs that ship with poseclass and
compares its keypoints with float Thunder's, recorded when the ranges were measured:
a tolerance, not a hash. A build that fails is discarded, never cached.

``movenet_thunder_reference.npz`` holds ``inputs`` (uint8 ``[3, 256, 256, 3]``: a standing
figure, a tree pose, a smaller tree pose, drawn by :func:`poseclass.pose.build.calibrate.reference_inputs`)
and ``keypoints`` (float32 ``[3, 17, 3]``: float Thunder's output for them, ``(y, x, score)``).

Tolerances, from measurement (per input; keypoint gap as a fraction of the side / mean score gap):
int8 builds as shipped, or with the ranges TensorFlow's calibrator measured, at most 0.4 % / 0.07;
ranges twice too wide 1.2 % / 0.05; the stem, FPN and heads quantized too 0.8 % / 0.14; ranges
halved or shuffled between tensors, or one weight tensor corrupted, 18-72 % / 0.48-0.79.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import numpy as np

REFERENCE_FILE = "movenet_thunder_reference.npz"
CONFIDENT = 0.3  # keypoints compared: those float Thunder gives at least this score
KEYPOINT_TOLERANCE = 0.02  # mean distance from the reference keypoints, as a fraction of the input side
SCORE_TOLERANCE = 0.15  # mean absolute difference from the reference scores


def reference() -> tuple[np.ndarray, np.ndarray]:
    """The shipped reference: model inputs uint8 ``[N, S, S, 3]`` and float Thunder's output ``[N, 17, 3]``."""
    with resources.files("poseclass.pose.build").joinpath(REFERENCE_FILE).open("rb") as handle:
        data = np.load(handle, allow_pickle=False)
        return data["inputs"], data["keypoints"]


def model_keypoints(model: str | Path, inputs: np.ndarray) -> np.ndarray:
    """MoveNet's raw output ``[N, 17, 3]`` (``y, x, score``) for each model input in ``inputs``."""
    from poseclass.pose.litert import interpreter as make_interpreter

    interpreter = make_interpreter(model)
    detail = interpreter.get_input_details()[0]
    output = interpreter.get_output_details()[0]["index"]
    results = []
    for sample in inputs:
        interpreter.set_tensor(detail["index"], sample[None].astype(detail["dtype"]))
        interpreter.invoke()
        results.append(interpreter.get_tensor(output)[0, 0].copy())
    return np.stack(results)


def gaps(got: np.ndarray, want: np.ndarray) -> list[tuple[float, float]]:
    """Per input: mean keypoint distance (fraction of the side) over the confident reference keypoints, and mean score gap."""
    result = []
    for mine, ref in zip(got, want):
        keep = ref[:, 2] >= CONFIDENT
        distance = np.linalg.norm(mine[:, :2] - ref[:, :2], axis=1)
        result.append((float(distance[keep].mean()), float(np.abs(mine[:, 2] - ref[:, 2]).mean())))
    return result


def check(model: str | Path, what: str = "the int8 build") -> list[tuple[float, float]]:
    """Raise :class:`~poseclass.pose.models.ModelError` unless ``model`` reproduces the reference keypoints.

    Returns the per-input gaps (see :func:`gaps`) when it does.
    """
    from poseclass.errors import ModelError

    inputs, want = reference()
    measured = gaps(model_keypoints(model, inputs), want)
    for number, (keypoint_gap, score_gap) in enumerate(measured, 1):
        if not (keypoint_gap <= KEYPOINT_TOLERANCE and score_gap <= SCORE_TOLERANCE):  # NaN fails too
            from poseclass.pose.build.quantize import tool_versions

            tools = ", ".join(f"{name} {version}" for name, version in tool_versions().items())
            raise ModelError(
                f"{what} does not reproduce MoveNet Thunder: on reference input {number} its keypoints are "
                f"{keypoint_gap:.1%} of the side from float Thunder's (limit {KEYPOINT_TOLERANCE:.0%}) and its "
                f"scores {score_gap:.2f} apart (limit {SCORE_TOLERANCE}); built with {tools}; not cached"
            )
    return measured
