"""MoveNet Thunder with an int8 backbone: about twice as fast on a CPU, as accurate (see README).

Only the MobileNetV2 body runs in int8 (blocks 1-16, its last 1x1 conv and the three FPN
lateral convs): that is where nearly all the multiply-adds are. The stem (first conv,
first depthwise and its projection), the FPN top-down path, the four heads and the
keypoint decoding stay float32. Measured on the yoga images (benchmarks/run.py passes),
quantizing the stem doubles the keypoint error, quantizing the heads turns 0.5-wide logit
steps into score noise, and quantizing the decoding breaks it outright (integer argmax
indices, squared distances), while the body costs almost nothing in accuracy.

The int8 build is done by ``ai-edge-quantizer``, Google's maintained post-training quantizer
for converted LiteRT models (the ``train`` extra), through its public API: a static int8
recipe (int8 activations, per-channel int8 weights) for the CONV_2D, DEPTHWISE_CONV_2D and
ADD ops whose output tensor name matches :data:`INT8_OUTPUTS`; every other op is left
float32, and the quantizer puts QUANTIZE/DEQUANTIZE at the borders.

Calibration needs pictures of people, which a user's machine may not have when the model
is provisioned, so the activation ranges are measured once here (``calibrate``, run by
``scripts/calibrate_thunder_int8.py`` on the yoga images, see
:mod:`poseclass.pose.build.calibrate`) and shipped with the package as
``movenet_thunder_int8_ranges.json``; the quantizer takes them as its calibration result.
The same float model, ranges and tool versions give the same bytes on every run;
:func:`recipe` fingerprints all of these for the cache, and provisioning checks the result
against reference keypoints (:mod:`poseclass.pose.build.reference`), so a build that changed
with a new tool release is never used without notice.

The quantizer is imported inside the functions: this runs only when the model is provisioned.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import re
import warnings
from importlib import metadata, resources
from typing import Any

RANGES_FILE = "movenet_thunder_int8_ranges.json"
# Op outputs computed in int8: the MobileNetV2 body and the FPN lateral 1x1 convs.
INT8_OUTPUTS = re.compile(r"model_1/model/(block_\d+_|out_relu/)|model_1/conv2d_[123]/")
# The op types quantized where INT8_OUTPUTS matches: all the body has. Any other op stays float.
INT8_OPS = ("CONV_2D", "DEPTHWISE_CONV_2D", "ADD")
# The distributions whose code decides the bytes of the int8 model: TensorFlow converts the
# float model (its TFLite converter), ai-edge-quantizer rewrites it. (ai-edge-quantizer pins
# its ai-edge-litert exactly, so its version stands for that one too.) Alternatives: the
# first one installed is recorded.
BUILD_TOOLS = (("tensorflow", "tensorflow-cpu", "tensorflow-intel", "tensorflow-macos"), ("ai-edge-quantizer",))


def tool_versions() -> dict[str, str]:
    """``{tool: version}`` of the :data:`BUILD_TOOLS` installed here (``"not installed"`` when absent).

    Read from package metadata, without importing anything (this runs on every model load).
    """
    versions = {}
    for names in BUILD_TOOLS:
        for name in names:
            try:
                versions[names[0]] = metadata.version(name)
                break
            except metadata.PackageNotFoundError:
                continue
        else:
            versions[names[0]] = "not installed"
    return versions


def recipe() -> str:
    """A short fingerprint of what decides the int8 model: ranges, quantized ops, tool versions.

    Recorded beside the cached model, so a poseclass with new ranges, or a TensorFlow or
    ai-edge-quantizer upgrade, rebuilds it instead of reusing one quantized the old way.
    """
    ranges = resources.files("poseclass.pose.build").joinpath(RANGES_FILE).read_text()
    tools = ",".join(f"{name}={version}" for name, version in tool_versions().items())
    text = "\n".join([ranges, INT8_OUTPUTS.pattern, ",".join(INT8_OPS), tools])
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def model_object(model: bytes) -> Any:
    """The flatbuffer object tree of a TFLite model (LiteRT's own schema tools)."""
    from ai_edge_litert.tools import flatbuffer_utils

    return flatbuffer_utils.convert_bytearray_to_object(bytearray(model))


def tensor_names(model: bytes) -> set[str]:
    """Names of the tensors of the main subgraph of a TFLite model."""
    return {tensor.name.decode() for tensor in model_object(model).subgraphs[0].tensors}


def int8_tensors(model: bytes) -> set[str]:
    """The activation tensors the int8 ops read or write: the ones that need a calibration range."""
    from ai_edge_litert.tools import flatbuffer_utils

    tree = model_object(model)
    graph = tree.subgraphs[0]
    needed = set()
    for op in graph.operators:
        if flatbuffer_utils.opcode_to_name(tree, op.opcodeIndex) not in INT8_OPS:
            continue
        if not INT8_OUTPUTS.search(graph.tensors[op.outputs[0]].name.decode()):
            continue
        for index in [*op.inputs, *op.outputs]:
            if index >= 0 and tree.buffers[graph.tensors[index].buffer].data is None:  # constants carry data
                needed.add(graph.tensors[index].name.decode())
    return needed


def shipped_ranges() -> dict[str, list[float]]:
    """The calibration ranges that ship with poseclass."""
    return json.loads(resources.files("poseclass.pose.build").joinpath(RANGES_FILE).read_text())


def quantize(float_model: bytes, ranges: dict[str, list[float]] | None = None) -> bytes:
    """The int8-backbone TFLite model from the float Thunder model and calibration ranges.

    Raises ``ValueError`` when the ranges do not fit the model: a range for a tensor the model
    does not have, or none for a tensor an int8 op reads or writes. Deterministic: the same
    inputs and tool versions give the same bytes.
    """
    import numpy as np

    from poseclass.quiet import native_stderr_silenced, quiet_tensorflow_logs, verbose

    ranges = shipped_ranges() if ranges is None else ranges
    unknown = sorted(set(ranges) - tensor_names(float_model))
    if unknown:
        raise ValueError(
            f"{len(unknown)} calibrated tensors (e.g. {unknown[0]!r}) are not in this float model: "
            "it was not converted the way the ranges were measured (another TensorFlow release?)"
        )
    uncovered = sorted(int8_tensors(float_model) - set(ranges))
    if uncovered:
        raise ValueError(f"{len(uncovered)} tensors of the int8 ops (e.g. {uncovered[0]!r}) have no calibration range")
    calibration = {
        name: {"min": np.array([low], np.float32), "max": np.array([high], np.float32)}
        for name, (low, high) in sorted(ranges.items())
    }
    quiet_tensorflow_logs()  # absl's Python logger, which the quantizer logs to
    # LiteRT prints from C++ when the quantizer checks the ranges with an interpreter, and warns
    # in Python about that interpreter's debugging mode; the quantizer draws a progress bar on
    # sys.stderr that its API cannot turn off. None of it is for the user's terminal.
    python_stderr = contextlib.nullcontext() if verbose() else contextlib.redirect_stderr(io.StringIO())
    with native_stderr_silenced(), python_stderr, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from ai_edge_quantizer import qtyping, quantizer

        build = quantizer.Quantizer(float_model)
        for op in INT8_OPS:
            build.add_static_config(
                INT8_OUTPUTS.pattern, qtyping.TFLOperationName(op), activation_num_bits=8, weight_num_bits=8
            )
        result = build.quantize(calibration, enable_progress_bar=False, enable_progress_report=False)
    return bytes(result.quantized_model)
