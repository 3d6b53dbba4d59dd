"""MoveNet Thunder with an int8 backbone: about twice as fast on a CPU, as accurate (see README).

Only the MobileNetV2 body runs in int8 (blocks 1-16, its last 1x1 conv and the three FPN
lateral convs): that is where nearly all the multiply-adds are. The stem (first conv,
first depthwise and its projection), the FPN top-down path, the four heads and the
keypoint decoding stay float32. Measured on the yoga images (benchmarks/run.py passes),
quantizing the stem doubles the keypoint error, quantizing the heads turns 0.5-wide logit
steps into score noise, and quantizing the decoding breaks it outright (integer argmax
indices, squared distances), while the body costs almost nothing in accuracy.

Calibration needs pictures of people, which a user's machine may not have when the model
is provisioned, so the activation ranges are measured once here (``calibrate``, run by
``scripts/calibrate_thunder_int8.py`` on the yoga images, see
:mod:`poseclass.provision.calibrate`) and shipped with the package as
``movenet_thunder_int8_ranges.json``. Provisioning re-applies them to the freshly converted
float model and quantizes: the same ranges, the same int8 model on every machine.

TensorFlow is imported inside the functions: this runs only when the model is provisioned.
The quantizer entry points used here (``Calibrator``, ``mlir_quantize``) are the ones
TensorFlow's own ``QuantizationDebugger`` uses; they are internal, so a changed TensorFlow
surfaces as a clear ``ValueError`` at provisioning, never as a silently different model.
"""

from __future__ import annotations

import hashlib
import json
import re
from importlib import resources
from typing import Any

RANGES_FILE = "movenet_thunder_int8_ranges.json"
# Op outputs computed in int8: the MobileNetV2 body and the FPN lateral 1x1 convs.
INT8_OUTPUTS = re.compile(r"model_1/model/(block_\d+_|out_relu/)|model_1/conv2d_[123]/")
# Ops that stay float wherever they are: the keypoint decoding and the input normalisation.
FLOAT_OPS = (
    "CAST", "UNPACK", "MUL", "SUB", "LOGISTIC", "RESHAPE", "ARG_MAX", "FLOOR_DIV", "PACK",
    "GATHER_ND", "SQUARED_DIFFERENCE", "SQRT", "DIV", "CONCATENATION",
)


def recipe() -> str:
    """A short fingerprint of what decides the int8 model: the shipped ranges and which ops stay float.

    Recorded beside the cached model, so a poseclass with new ranges rebuilds it instead of
    reusing one quantized the old way.
    """
    text = resources.files("poseclass.provision").joinpath(RANGES_FILE).read_text() + INT8_OUTPUTS.pattern + ",".join(FLOAT_OPS)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def model_object(model: bytes) -> Any:
    from tensorflow.lite.tools import flatbuffer_utils

    return flatbuffer_utils.convert_bytearray_to_object(bytearray(model))


def shipped_ranges() -> dict[str, list[float]]:
    """The calibration ranges that ship with poseclass."""
    return json.loads(resources.files("poseclass.provision").joinpath(RANGES_FILE).read_text())


def _with_ranges(float_model: bytes, ranges: dict[str, list[float]]) -> tuple[bytes, list[str]]:
    """``float_model`` carrying ``ranges`` as calibration stats, and its op outputs that stay float."""
    from tensorflow.lite.python import schema_py_generated as schema
    from tensorflow.lite.tools import flatbuffer_utils

    model = model_object(float_model)
    graph = model.subgraphs[0]
    names = {tensor.name.decode() for tensor in graph.tensors}
    missing = sorted(set(ranges) - names)
    if missing:
        raise ValueError(
            f"{len(missing)} calibrated tensors (e.g. {missing[0]!r}) are not in this float model: "
            "it was not converted the way the ranges were measured (another TensorFlow release?)"
        )
    for tensor in graph.tensors:
        if tensor.name.decode() in ranges:
            low, high = ranges[tensor.name.decode()]
            tensor.quantization = schema.QuantizationParametersT()
            tensor.quantization.min, tensor.quantization.max = [low], [high]
    stay_float = [
        graph.tensors[op.outputs[0]].name.decode()
        for op in graph.operators
        if not INT8_OUTPUTS.search(graph.tensors[op.outputs[0]].name.decode())
    ]
    return bytes(flatbuffer_utils.convert_object_to_bytearray(model)), stay_float


def quantize(float_model: bytes, ranges: dict[str, list[float]] | None = None) -> bytes:
    """The int8-backbone TFLite model from the float Thunder model and calibration ranges."""
    from tensorflow.lite.python.convert import mlir_quantize

    calibrated, stay_float = _with_ranges(float_model, shipped_ranges() if ranges is None else ranges)
    return mlir_quantize(calibrated, denylisted_ops=list(FLOAT_OPS), denylisted_nodes=stay_float)
