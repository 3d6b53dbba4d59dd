"""Convert Google's TF.js MoveNet graph models to TFLite with plain TensorFlow.

The TF.js graph format is a GraphDef written as protobuf-JSON (``modelTopology``) whose
Const nodes carry no data: the weights sit in a ``.bin`` file, in ``weightsManifest``
order, float32 tensors stored as float16. TF.js also uses two fused ops that the TFLite
converter does not take (``_FusedConv2D`` is TensorFlow-internal,
``FusedDepthwiseConv2dNative`` exists only in TF.js), so they are unfused here into the
plain ops they stand for. The result uses builtin TFLite ops only and computes exactly
what the TF.js graph computes.

TensorFlow is imported inside the functions: this module is only needed the first time a
model is provisioned, never on the inference path.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from poseclass.quiet import import_tensorflow, native_stderr_silenced, working

_FUSED_TO_PLAIN = {"_FusedConv2D": "Conv2D", "FusedDepthwiseConv2dNative": "DepthwiseConv2dNative"}
_PLAIN_ATTRS = {
    "Conv2D": ("T", "strides", "padding", "data_format", "dilations", "explicit_paddings", "use_cudnn_on_gpu"),
    "DepthwiseConv2dNative": ("T", "strides", "padding", "data_format", "dilations", "explicit_paddings"),
}
_ACTIVATIONS = {"Relu", "Relu6"}


def read_weights(manifest: list[dict[str, Any]], weights_dir: Path) -> dict[str, np.ndarray]:
    """Decode the ``.bin`` shards of a TF.js manifest into named numpy arrays.

    Weights are laid out back to back in manifest order across the concatenated shards;
    an entry with ``quantization.dtype == "float16"`` takes 2 bytes per value and is
    widened to its ``original_dtype``.
    """
    arrays: dict[str, np.ndarray] = {}
    for group in manifest:
        buffer = b"".join((weights_dir / p).read_bytes() for p in group["paths"])
        offset = 0
        for entry in group["weights"]:
            stored = np.dtype(entry.get("quantization", {}).get("dtype", entry["dtype"]))
            shape = [int(s) for s in entry["shape"]]
            count = int(np.prod(shape)) if shape else 1
            size = count * stored.itemsize
            if offset + size > len(buffer):
                raise ValueError(f"weights file too short for {entry['name']!r}: truncated download?")
            values = np.frombuffer(buffer, dtype=stored, count=count, offset=offset)
            arrays[entry["name"]] = values.astype(entry["dtype"]).reshape(shape)
            offset += size
        if offset != len(buffer):
            raise ValueError(f"weights file has {len(buffer) - offset} bytes the manifest does not describe")
    return arrays


def _unfuse(node: Any, graph_def: Any) -> list[Any]:
    """Split one fused conv node into Conv2D/DepthwiseConv2dNative + BiasAdd (+ activation).

    The last node of the chain keeps the fused node's name, so every consumer still finds it.
    """
    fused_ops = [s.decode() for s in node.attr["fused_ops"].list.s]
    if not fused_ops or fused_ops[0] != "BiasAdd" or len(fused_ops) > 2 or not set(fused_ops[1:]) <= _ACTIVATIONS:
        raise ValueError(f"unsupported fused ops {fused_ops} in node {node.name!r}")
    plain_op = _FUSED_TO_PLAIN[node.op]
    conv = graph_def.node.add()
    conv.name, conv.op = f"{node.name}/conv", plain_op
    conv.input.extend(node.input[:2])
    for key in _PLAIN_ATTRS[plain_op]:
        if key in node.attr:
            conv.attr[key].CopyFrom(node.attr[key])
    chain = [conv]
    bias = graph_def.node.add()
    bias.name, bias.op = f"{node.name}/bias_add", "BiasAdd"
    bias.input.extend([conv.name, node.input[2]])
    bias.attr["T"].CopyFrom(node.attr["T"])
    bias.attr["data_format"].CopyFrom(node.attr["data_format"])
    chain.append(bias)
    if len(fused_ops) == 2:
        act = graph_def.node.add()
        act.name, act.op = f"{node.name}/act", fused_ops[1]
        act.input.append(bias.name)
        act.attr["T"].CopyFrom(node.attr["T"])
        chain.append(act)
    # The chain's last node takes the fused node's name.
    chain[-1].name = node.name
    if len(chain) > 1:
        chain[-1].input[0] = chain[-2].name
    return chain


def tfjs_to_graph_def(model_json: Path, input_size: int | None = None) -> Any:
    """Build a runnable, plain-op TensorFlow GraphDef from a TF.js graph model.

    ``input_size`` fixes a dynamic ``[1, H, W, 3]`` input (MultiPose) to ``[1, size, size, 3]``,
    so the converter can fold the shape arithmetic into constants.
    """
    import tensorflow as tf
    from google.protobuf import json_format

    spec = json.loads(Path(model_json).read_text())
    source = tf.compat.v1.GraphDef()
    json_format.ParseDict(spec["modelTopology"], source, ignore_unknown_fields=True)
    weights = read_weights(spec["weightsManifest"], Path(model_json).parent)

    graph_def = tf.compat.v1.GraphDef()
    for node in source.node:
        node.ClearField("device")
        if node.op in _FUSED_TO_PLAIN:
            _unfuse(node, graph_def)
            continue
        if node.op == "Placeholder" and input_size is not None:
            dims = node.attr["shape"].shape.dim
            dims[1].size = dims[2].size = int(input_size)
        if node.op == "Const":
            if node.name not in weights:
                raise ValueError(f"Const node {node.name!r} has no weights in the manifest")
            node.attr["value"].tensor.CopyFrom(tf.make_tensor_proto(weights[node.name]))
        graph_def.node.add().CopyFrom(node)
    graph_def.versions.producer = tf.version.GRAPH_DEF_VERSION
    return graph_def


def graph_def_function(graph_def: Any, input_name: str = "input:0", output_name: str = "Identity:0") -> Any:
    """Wrap a GraphDef as a TF concrete function ``input -> output``."""
    import tensorflow as tf

    def _import() -> None:
        tf.compat.v1.import_graph_def(graph_def, name="")

    wrapped = tf.compat.v1.wrap_function(_import, [])
    graph = wrapped.graph
    return wrapped.prune(graph.get_tensor_by_name(input_name), graph.get_tensor_by_name(output_name))


def frozen_to_tflite(function: Any) -> bytes:
    """A concrete TensorFlow function as TFLite (builtin ops only), its variables frozen to constants first.

    A converter given live variables emits VAR_HANDLE ops that LiteRT leaves uninitialised
    (all-NaN outputs). Used for the classifier and the fused model; the converter's logs are
    kept out of the terminal.
    """
    tf = import_tensorflow()
    from tensorflow.python.framework.convert_to_constants import convert_variables_to_constants_v2

    with native_stderr_silenced():
        converter = tf.lite.TFLiteConverter.from_concrete_functions([convert_variables_to_constants_v2(function)])
        converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS]
        return converter.convert()


def tfjs_to_tflite(model_json: Path, input_size: int | None = None) -> bytes:
    """Convert a TF.js MoveNet graph model to TFLite flatbuffer bytes (builtin ops only).

    ``input_size``: for a graph with a dynamic input size (MultiPose), the fixed size to build for.

    The converter's MLIR and TensorFlow logs are kept out of the terminal; a line shows that
    the (tens of seconds long) conversion is under way.
    """
    tf = import_tensorflow()
    with working(f"converting {model_json.stem} to TFLite"), native_stderr_silenced():
        function = graph_def_function(tfjs_to_graph_def(model_json, input_size))
        converter = tf.lite.TFLiteConverter.from_concrete_functions([function])
        converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS]
        return converter.convert()
