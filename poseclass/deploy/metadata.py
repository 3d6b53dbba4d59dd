"""Standard TFLite model metadata, written and read with the ``flatbuffers`` package alone.

The format is the one MediaPipe Tasks, the TFLite Task Library and model viewers read: a
``ModelMetadata`` flatbuffer (``metadata_schema.fbs``, file identifier ``M001``) stored in a
model buffer named ``TFLITE_METADATA``, and the associated files (labels.txt) in a zip archive
appended to the model, so the ``.tflite`` file is also a valid zip.

Why written here: the official writer (tflite-support's ``MetadataPopulator``) cannot be
installed next to current protobuf, and MediaPipe's copy ships without its compiled helper;
either would also be a heavy runtime dependency for a few small tables. The metadata tables
are built by hand with ``flatbuffers.Builder`` (slot numbers from the schema), and read back
by hand: MediaPipe's generated module for that schema is a test-only dependency here.

Why the model is rebuilt through ``ai_edge_litert.schema_py_generated``: the metadata must
sit inside the Model table (a new Buffer and an entry of ``Model.metadata``), and a flatbuffer
table cannot grow in place. Unpacking the whole model into the schema's object API and packing
it again is what the official populator does; the LiteRT wheel is already the runtime
dependency, ships that generated schema (its own ``tools.flatbuffer_utils`` uses it) and is at
least as new as the models it runs, so no field is dropped. TensorFlow's copy of the schema is
private and would pull TensorFlow into the runtime.
"""

from __future__ import annotations

import io
import struct
import zipfile
from dataclasses import dataclass

import flatbuffers
import numpy as np
from ai_edge_litert import schema_py_generated as tfl
from flatbuffers.number_types import Int8Flags
from flatbuffers.table import Table

from poseclass.files import LABELS_NAME

METADATA_NAME = "TFLITE_METADATA"
METADATA_IDENTIFIER = b"M001"
MODEL_IDENTIFIER = b"TFL3"
# The reference populator computes this as the newest schema version among the members a
# metadata buffer uses. Every member written here (tensor names and descriptions, Feature and
# Image properties, NormalizationOptions, ScoreThresholdingOptions, Stats, TENSOR_AXIS_LABELS files
# without a version)
# is in schema 1.0.0; writing a later member (e.g. AssociatedFile.version, 1.4.1) must raise it.
MIN_PARSER_VERSION = "1.0.0"

# Enum values of metadata_schema.fbs.
_FEATURE_PROPERTIES, _IMAGE_PROPERTIES = 1, 2  # union ContentProperties
_RGB = 1  # ColorSpaceType
_NORMALIZATION_OPTIONS, _SCORE_THRESHOLDING_OPTIONS = 1, 3  # union ProcessUnitOptions
_TENSOR_AXIS_LABELS = 2  # AssociatedFileType
_FILE_TYPES = {0: "UNKNOWN", 1: "DESCRIPTIONS", 2: "TENSOR_AXIS_LABELS", 3: "TENSOR_VALUE_LABELS",
               4: "TENSOR_AXIS_SCORE_CALIBRATION", 5: "VOCABULARY", 6: "SCANN_INDEX_FILE"}
# Zip entries get a fixed date so the same inputs give the same file (the reference writer
# stamps the current time, which makes every export differ).
_ZIP_DATE = (1980, 1, 1, 0, 0, 0)
# What flatbuffers' readers raise on bytes that only look like a flatbuffer.
_PARSE_ERRORS = (struct.error, IndexError, ValueError, TypeError)


@dataclass(frozen=True)
class TensorInfo:
    """What an app needs to know about one input or output tensor.

    ``image`` marks an RGB image input (MediaPipe's ImageClassifier rejects an input described
    otherwise); ``mean``/``std`` are the NormalizationOptions a client applies before feeding a
    float input (MediaPipe requires them for float32 images, and takes 1 or 3 values);
    ``min``/``max`` are the tensor's value range (Stats); ``labels_file`` names an associated
    file, given to :func:`with_metadata`, that labels the last axis (TENSOR_AXIS_LABELS);
    ``score_threshold`` is the ScoreThresholdingOptions a classifier client applies by default
    (MediaPipe's ImageClassifier drops every category scored under it).
    """

    name: str
    description: str
    image: bool = False
    mean: tuple[float, ...] | None = None
    std: tuple[float, ...] | None = None
    min: tuple[float, ...] | None = None
    max: tuple[float, ...] | None = None
    labels_file: str | None = None
    score_threshold: float | None = None

    def __post_init__(self) -> None:
        if (self.mean is None) != (self.std is None) or len(self.mean or ()) != len(self.std or ()):
            raise ValueError(f"tensor {self.name!r}: give mean and std together, with as many values each "
                             f"(got mean={self.mean}, std={self.std})")


def probabilities_info(name: str, unknown_below: float | None) -> TensorInfo:
    """A classifier's probabilities output: in [0, 1], labelled by labels.txt, and "unknown" as the score
    threshold classifier clients apply by default (None: every pose gets a category)."""
    text = "Probability of each pose class, in labels.txt order"
    if unknown_below is None:
        text += " (sums to 1)"
    else:
        text += (f"; the pose is none of the classes (unknown) when every probability is under {unknown_below:g}, "
                 "the score threshold (classifier clients then return no category)")
    return TensorInfo(name, text, min=(0.0,), max=(1.0,), labels_file=LABELS_NAME, score_threshold=unknown_below)


@dataclass(frozen=True)
class ModelInfo:
    """The model-level fields apps and model viewers show."""

    name: str
    description: str
    version: str
    author: str
    license: str | None = None


def with_metadata(model: bytes, info: ModelInfo, inputs: list[TensorInfo], outputs: list[TensorInfo],
                  files: dict[str, bytes]) -> bytes:
    """The TFLite model with a TFLITE_METADATA buffer (ModelMetadata, M001) and `files` zipped onto its end.

    ``inputs``/``outputs`` describe the main subgraph's tensors in order, as readers match them
    by position. Metadata or files the model already had are replaced, not merged, so the result
    depends only on the arguments. Raises ValueError for bytes that are not a TFLite model and
    for metadata that does not fit the model.
    """
    root = _unpack(model)
    graph = root.subgraphs[0]
    counts = tuple(0 if tensors is None else len(tensors) for tensors in (graph.inputs, graph.outputs))
    if (len(inputs), len(outputs)) != counts:
        raise ValueError(f"the model has {counts[0]} input(s) and {counts[1]} output(s), "
                         f"the metadata describes {len(inputs)} and {len(outputs)}")
    missing = [t.labels_file for t in inputs + outputs if t.labels_file and t.labels_file not in files]
    if missing:
        raise ValueError(f"labels file(s) {missing} named in the metadata but not given in files")
    for buffer in root.buffers or []:
        if buffer.offset > 1:  # stored after the flatbuffer (ai-edge-quantizer does this): the rewrite moves it
            buffer.data = np.frombuffer(model, np.uint8, buffer.size, buffer.offset)
            buffer.offset = buffer.size = 0

    buffer = tfl.BufferT()
    buffer.data = np.frombuffer(_model_metadata(info, inputs, outputs), dtype=np.uint8)
    root.buffers = root.buffers or []
    root.metadata = root.metadata or []
    entry = next((m for m in root.metadata if m.name == METADATA_NAME.encode()), None)
    if entry is None:
        entry = tfl.MetadataT()
        entry.name, entry.buffer = METADATA_NAME, len(root.buffers)
        root.metadata.append(entry)
        root.buffers.append(buffer)
    else:
        root.buffers[entry.buffer] = buffer
    builder = flatbuffers.Builder(len(model) + 1024)
    builder.Finish(root.Pack(builder), file_identifier=MODEL_IDENTIFIER)
    out = io.BytesIO(builder.Output())
    out.seek(0, io.SEEK_END)
    _append_zip(out, files)
    return out.getvalue()


def read_metadata(model: bytes) -> dict | None:
    """The model's TFLITE_METADATA as plain dicts, with the zipped files; None when it has none.

    Lets poseclass check and show what it wrote (and skip writing twice) without the
    generated metadata module, which only MediaPipe ships.
    """
    found = _metadata_buffer(model)
    if found is None:
        return None
    if len(found) < 8 or not flatbuffers.util.BufferHasIdentifier(found, 0, METADATA_IDENTIFIER):
        raise ValueError(f"the model's {METADATA_NAME} buffer is not ModelMetadata (no M001 identifier)")
    # ModelMetadata: name 0, description 1, version 2, subgraph_metadata 3, author 4, license 5, min_parser_version 7
    try:
        root = Table(found, flatbuffers.encode.Get(flatbuffers.packer.uoffset, found, 0))
        subgraphs = _tables(root, 3)  # SubGraphMetadata: input_tensor_metadata 2, output_tensor_metadata 3
        found_metadata = {
            "name": _string(root, 0),
            "description": _string(root, 1),
            "version": _string(root, 2),
            "author": _string(root, 4),
            "license": _string(root, 5),
            "min_parser_version": _string(root, 7),
            "inputs": [_read_tensor(t) for t in _tables(subgraphs[0], 2)] if subgraphs else [],
            "outputs": [_read_tensor(t) for t in _tables(subgraphs[0], 3)] if subgraphs else [],
        }
    except _PARSE_ERRORS as error:
        raise ValueError(f"the model's {METADATA_NAME} buffer does not parse ({error})") from error
    return {**found_metadata, "files": associated_files(model)}


def has_metadata(model: bytes) -> bool:
    """Whether the model has a TFLITE_METADATA buffer: found in place, nothing parsed or unzipped."""
    return _metadata_buffer(model) is not None


def associated_files(model: bytes) -> dict[str, bytes]:
    """The files zipped onto the end of the model, by name (empty when there are none)."""
    if not zipfile.is_zipfile(io.BytesIO(model)):  # no end-of-archive record: no files
        return {}
    try:
        with zipfile.ZipFile(io.BytesIO(model)) as archive:
            return {name: archive.read(name) for name in archive.namelist()}
    except (zipfile.BadZipFile, EOFError, NotImplementedError) as error:
        raise ValueError(f"the files zipped onto the model are damaged ({error})") from error


def _check_model(model: bytes) -> None:
    """ValueError, saying why, unless ``model`` starts like a TFLite flatbuffer."""
    if len(model) < 8 or not tfl.Model.ModelBufferHasIdentifier(model, 0):
        raise ValueError(f"not a TFLite model: no {MODEL_IDENTIFIER.decode()} file identifier "
                         f"in the first 8 bytes ({bytes(model[:8])!r})")


def _unpack(model: bytes) -> tfl.ModelT:
    """The model in the schema's object API, or ValueError when the bytes are not a TFLite model."""
    _check_model(model)
    if len(model) >= 2**31:
        raise ValueError("the model is over 2 GB, more than one flatbuffer can hold once its weights move inside")
    try:
        root = tfl.ModelT.InitFromObj(tfl.Model.GetRootAs(model, 0))
    except _PARSE_ERRORS as error:
        raise ValueError(f"not a TFLite model: its flatbuffer does not parse ({error})") from error
    if not root.subgraphs:
        raise ValueError("not a TFLite model: it has no subgraph")
    return root


def _metadata_buffer(model: bytes) -> bytes | None:
    """The bytes of the TFLITE_METADATA buffer, read in place (no unpacking of the weights)."""
    _check_model(model)
    try:
        root = tfl.Model.GetRootAs(model, 0)
        for i in range(root.MetadataLength()):
            entry = root.Metadata(i)
            if entry.Name() == METADATA_NAME.encode():
                return root.Buffers(entry.Buffer()).DataAsNumpy().tobytes()
    except _PARSE_ERRORS as error:
        raise ValueError(f"not a TFLite model: its flatbuffer does not parse ({error})") from error
    return None


# Writing. Fields are given by slot number, the field's position in its table in the schema.

def _table(b: flatbuffers.Builder, refs: dict[int, int], small: dict[int, int] | None = None) -> int:
    """A table with offset fields ``refs`` and one-byte enum fields ``small``, by slot."""
    small = small or {}
    b.StartObject(max([*refs, *small], default=-1) + 1)
    for slot, offset in refs.items():
        b.PrependUOffsetTRelativeSlot(slot, offset, 0)
    for slot, value in small.items():
        b.PrependUint8Slot(slot, value, 0)
    return b.EndObject()


def _vector(b: flatbuffers.Builder, offsets: list[int]) -> int:
    b.StartVector(4, len(offsets), 4)
    for offset in reversed(offsets):
        b.PrependUOffsetTRelative(offset)
    return b.EndVector()


def _floats(b: flatbuffers.Builder, values: tuple[float, ...]) -> int:
    return b.CreateNumpyVector(np.asarray(values, dtype="<f4"))


def _tensor(b: flatbuffers.Builder, t: TensorInfo) -> int:
    """TensorMetadata: name 0, description 1, content 3, process_units 4, stats 5, associated_files 6."""
    fields = {0: b.CreateString(t.name), 1: b.CreateString(t.description)}
    if t.image:  # ImageProperties: color_space 0
        properties, kind = _table(b, {}, {0: _RGB}), _IMAGE_PROPERTIES
    else:  # FeatureProperties has no fields
        properties, kind = _table(b, {}), _FEATURE_PROPERTIES
    fields[3] = _table(b, {1: properties}, {0: kind})  # Content: content_properties_type 0, content_properties 1
    units = []  # ProcessUnit: options_type 0, options 1
    if t.mean is not None and t.std is not None:
        normalization = _table(b, {0: _floats(b, t.mean), 1: _floats(b, t.std)})  # NormalizationOptions: mean 0, std 1
        units.append(_table(b, {1: normalization}, {0: _NORMALIZATION_OPTIONS}))
    if t.score_threshold is not None:
        b.StartObject(1)  # ScoreThresholdingOptions: global_score_threshold 0 (float)
        b.PrependFloat32Slot(0, t.score_threshold, 0.0)
        units.append(_table(b, {1: b.EndObject()}, {0: _SCORE_THRESHOLDING_OPTIONS}))
    if units:
        fields[4] = _vector(b, units)
    stats = {slot: _floats(b, values) for slot, values in ((0, t.max), (1, t.min)) if values is not None}
    if stats:
        fields[5] = _table(b, stats)  # Stats: max 0, min 1
    if t.labels_file:
        name = b.CreateString(t.labels_file)
        fields[6] = _vector(b, [_table(b, {0: name}, {2: _TENSOR_AXIS_LABELS})])  # AssociatedFile: name 0, type 2
    return _table(b, fields)


def _model_metadata(info: ModelInfo, inputs: list[TensorInfo], outputs: list[TensorInfo]) -> bytes:
    """The ModelMetadata flatbuffer: name 0, description 1, version 2, subgraph_metadata 3,
    author 4, license 5, min_parser_version 7."""
    b = flatbuffers.Builder(1024)
    tensors = [_vector(b, [_tensor(b, t) for t in group]) for group in (inputs, outputs)]
    subgraph = _table(b, {2: tensors[0], 3: tensors[1]})  # SubGraphMetadata: input 2, output 3
    fields = {0: b.CreateString(info.name), 1: b.CreateString(info.description), 2: b.CreateString(info.version),
              3: _vector(b, [subgraph]), 4: b.CreateString(info.author), 7: b.CreateString(MIN_PARSER_VERSION)}
    if info.license is not None:
        fields[5] = b.CreateString(info.license)
    b.Finish(_table(b, fields), file_identifier=METADATA_IDENTIFIER)
    return bytes(b.Output())


def _append_zip(out: io.BytesIO, files: dict[str, bytes]) -> None:
    """Write ``files`` as a zip after the model in ``out``, stored uncompressed.

    One stream, as the reference writer does, so the archive's offsets count the same way. It
    opens the model for appending ("a"), which first parses the model's tail as a zip; "w" at
    the end of the stream writes the same bytes and never mistakes weights for an archive.
    """
    if not files:
        return
    with zipfile.ZipFile(out, "w") as archive:
        for name, data in files.items():
            entry = zipfile.ZipInfo(name, _ZIP_DATE)
            entry.external_attr = 0o644 << 16
            archive.writestr(entry, data, zipfile.ZIP_STORED)


# Reading, with flatbuffers' Table: a field's vtable entry is at 4 + 2 * slot.

def _string(t: Table, slot: int) -> str | None:
    offset = t.Offset(4 + 2 * slot)
    return t.String(offset + t.Pos).decode() if offset else None


def _byte(t: Table, slot: int) -> int:
    offset = t.Offset(4 + 2 * slot)
    return t.Get(Int8Flags, offset + t.Pos) if offset else 0


def _tables(t: Table, slot: int) -> list[Table]:
    offset = t.Offset(4 + 2 * slot)
    if not offset:
        return []
    start = t.Vector(offset)
    return [Table(t.Bytes, t.Indirect(start + 4 * i)) for i in range(t.VectorLen(offset))]


def _read_tensor(t: Table) -> dict:
    """A TensorMetadata as name, description, its associated files (name and type) and, when it has one,
    its score threshold (``ScoreThresholdingOptions``)."""
    files = [{"name": _string(f, 0), "type": _FILE_TYPES.get(_byte(f, 2))} for f in _tables(t, 6)]  # name 0, type 2
    threshold = None
    for unit in _tables(t, 4):  # ProcessUnit: options_type 0, options 1
        offset = unit.Offset(6)
        if _byte(unit, 0) == _SCORE_THRESHOLDING_OPTIONS and offset:
            options = Table(unit.Bytes, unit.Indirect(offset + unit.Pos))
            slot = options.Offset(4)  # global_score_threshold 0
            threshold = options.Get(flatbuffers.number_types.Float32Flags, slot + options.Pos) if slot else 0.0
    tensor = {"name": _string(t, 0), "description": _string(t, 1), "associated_files": files}
    return tensor if threshold is None else {**tensor, "score_threshold": threshold}
