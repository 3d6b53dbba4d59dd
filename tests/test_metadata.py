"""TFLite metadata from poseclass.deploy.metadata, checked by readers that are not ours.

Google's generated schema modules (shipped in the mediapipe wheel) read the flatbuffers,
MediaPipe's MetadataDisplayer renders the metadata as JSON, LiteRT runs the models and
MediaPipe's ImageClassifier names classes from the zipped labels. The models are small real
TensorFlow models converted to TFLite here.
"""

from __future__ import annotations

import io
import json
import sys
import types
import zipfile
from pathlib import Path

import numpy as np
import pytest
from mediapipe.tasks.metadata import metadata_schema_py_generated as metadata_fb
from mediapipe.tasks.metadata import schema_py_generated as model_fb

from poseclass.deploy.metadata import ModelInfo, TensorInfo, associated_files, read_metadata, with_metadata

LABELS = b"chair\nwarrior two\ntree\n"
INFO = ModelInfo("test classifier", "Three poses from keypoints.", "1.2.3", "poseclass tests", license="Apache-2.0")
KEYPOINTS = TensorInfo("movenet_keypoints", "MoveNet output, float32 [1, 1, 17, 3]")
PROBABILITIES = TensorInfo("probabilities", "One probability per pose", min=(0.0,), max=(1.0,),
                           labels_file="labels.txt")


def convert(function, spec) -> bytes:
    """``function`` on inputs of ``spec`` as a TFLite model, converted by TensorFlow's converter."""
    import tensorflow as tf

    module = tf.Module()
    module.f = tf.function(function, input_signature=[spec])
    converter = tf.lite.TFLiteConverter.from_concrete_functions([module.f.get_concrete_function()], module)
    return converter.convert()


@pytest.fixture(scope="module")
def classifier() -> bytes:
    """A keypoints -> softmax classifier like the exported one: Keras, frozen, converted."""
    import tensorflow as tf

    tf.keras.utils.set_random_seed(0)
    model = tf.keras.Sequential([tf.keras.Input((1, 17, 3), batch_size=1), tf.keras.layers.Flatten(),
                                 tf.keras.layers.Dense(16, activation="relu"),
                                 tf.keras.layers.Dense(3, activation="softmax")])
    return tf.lite.TFLiteConverter.from_keras_model(model).convert()


@pytest.fixture(scope="module")
def labelled(classifier: bytes) -> bytes:
    return with_metadata(classifier, INFO, [KEYPOINTS], [PROBABILITIES], {"labels.txt": LABELS})


def image_classifier(dtype: str) -> bytes:
    """An RGB image -> [red, green, blue] probabilities model: the dominant colour wins.

    A float32 input is expected in [-1, 1] (mean 127.5, std 127.5), a uint8 input raw.
    """
    import tensorflow as tf

    def f(image):
        pixels = tf.cast(image, tf.float32)
        pixels = pixels * 127.5 + 127.5 if dtype == "float32" else pixels
        return tf.nn.softmax(tf.reduce_mean(pixels, axis=[1, 2]) / 8.0)

    return convert(f, tf.TensorSpec([1, 16, 16, 3], dtype))


def image_metadata(model: bytes, dtype: str) -> bytes:
    """The metadata MediaPipe's ImageClassifier reads, labels red, "warrior two" (green), blue."""
    if dtype == "float32":
        image = TensorInfo("image", "RGB picture", image=True, mean=(127.5,), std=(127.5,), min=(-1.0,), max=(1.0,))
    else:
        image = TensorInfo("image", "RGB picture", image=True, mean=(0.0,), std=(1.0,), min=(0.0,), max=(255.0,))
    return with_metadata(model, INFO, [image], [PROBABILITIES], {"labels.txt": b"red\nwarrior two\nblue\n"})


def model_metadata_entries(model: bytes) -> dict[str, int]:
    """The Model's metadata entries (name -> buffer index), read with Google's generated TFLite schema."""
    root = model_fb.Model.GetRootAs(model, 0)
    return {root.Metadata(i).Name().decode(): root.Metadata(i).Buffer() for i in range(root.MetadataLength())}


def buffer_count(model: bytes) -> int:
    return model_fb.Model.GetRootAs(model, 0).BuffersLength()


def google_metadata(model: bytes) -> metadata_fb.ModelMetadataT:
    """TFLITE_METADATA unpacked by Google's generated metadata schema module, after its identifier check."""
    index = model_metadata_entries(model)["TFLITE_METADATA"]
    buffer = model_fb.Model.GetRootAs(model, 0).Buffers(index).DataAsNumpy().tobytes()
    assert metadata_fb.ModelMetadata.ModelMetadataBufferHasIdentifier(buffer, 0)  # "M001"
    return metadata_fb.ModelMetadataT.InitFromObj(metadata_fb.ModelMetadata.GetRootAs(buffer, 0))


def litert_outputs(model: bytes, inputs: list[np.ndarray]) -> list[np.ndarray]:
    from ai_edge_litert.interpreter import Interpreter

    interpreter = Interpreter(model_content=model)
    interpreter.allocate_tensors()
    results = []
    for x in inputs:
        interpreter.set_tensor(interpreter.get_input_details()[0]["index"], x)
        interpreter.invoke()
        results.append(interpreter.get_tensor(interpreter.get_output_details()[0]["index"]).copy())
    return results


@pytest.fixture
def mediapipe_metadata(monkeypatch: pytest.MonkeyPatch) -> types.ModuleType:
    """MediaPipe's metadata module (MetadataDisplayer). It imports the populator's compiled helper,
    which the wheel lacks and which the displayer never calls: an empty stand-in lets it import."""
    helper = ["mediapipe", "tasks", "cc", "metadata", "python", "_pywrap_metadata_version"]
    for depth in range(3, len(helper) + 1):
        name = ".".join(helper[:depth])
        monkeypatch.setitem(sys.modules, name, types.ModuleType(name))
    monkeypatch.delitem(sys.modules, "mediapipe.tasks.python.metadata.metadata", raising=False)
    from mediapipe.tasks.python.metadata import metadata

    return metadata


def test_google_schema_reads_the_metadata(classifier: bytes, labelled: bytes) -> None:
    entries = model_metadata_entries(labelled)
    # The converter's own entries survive the rewrite, and the metadata is one new buffer.
    assert set(entries) == set(model_metadata_entries(classifier)) | {"TFLITE_METADATA"}
    assert buffer_count(labelled) == buffer_count(classifier) + 1
    meta = google_metadata(labelled)
    assert (meta.name, meta.description, meta.version, meta.author, meta.license) == (
        b"test classifier", b"Three poses from keypoints.", b"1.2.3", b"poseclass tests", b"Apache-2.0")
    assert meta.minParserVersion == b"1.0.0"
    assert meta.associatedFiles is None
    [subgraph] = meta.subgraphMetadata
    [keypoints], [probabilities] = subgraph.inputTensorMetadata, subgraph.outputTensorMetadata
    assert (keypoints.name, keypoints.description) == (b"movenet_keypoints", b"MoveNet output, float32 [1, 1, 17, 3]")
    assert keypoints.content.contentPropertiesType == metadata_fb.ContentProperties.FeatureProperties
    assert keypoints.associatedFiles is None and keypoints.stats is None and keypoints.processUnits is None
    assert (probabilities.name, probabilities.description) == (b"probabilities", b"One probability per pose")
    assert list(probabilities.stats.min) == [0.0] and list(probabilities.stats.max) == [1.0]
    [labels] = probabilities.associatedFiles
    assert labels.name == b"labels.txt"
    assert labels.type == metadata_fb.AssociatedFileType.TENSOR_AXIS_LABELS


def test_mediapipe_displayer_shows_the_metadata_and_the_file(labelled: bytes, mediapipe_metadata) -> None:
    displayer = mediapipe_metadata.MetadataDisplayer.with_model_buffer(labelled)
    feature = {"content_properties_type": "FeatureProperties", "content_properties": {}}
    assert json.loads(displayer.get_metadata_json()) == {
        "name": "test classifier", "description": "Three poses from keypoints.", "version": "1.2.3",
        "author": "poseclass tests", "license": "Apache-2.0", "min_parser_version": "1.0.0",
        "subgraph_metadata": [{
            "input_tensor_metadata": [{"name": "movenet_keypoints", "content": feature,
                                       "description": "MoveNet output, float32 [1, 1, 17, 3]"}],
            "output_tensor_metadata": [{"name": "probabilities", "description": "One probability per pose",
                                        "content": feature, "stats": {"max": [1.0], "min": [0.0]},
                                        "associated_files": [{"name": "labels.txt", "type": "TENSOR_AXIS_LABELS"}]}],
        }],
    }
    assert displayer.get_packed_associated_file_list() == ["labels.txt"]
    assert displayer.get_associated_file_buffer("labels.txt") == LABELS


def test_labels_come_out_of_the_zip(classifier: bytes, labelled: bytes) -> None:
    with zipfile.ZipFile(io.BytesIO(labelled)) as archive:
        assert archive.namelist() == ["labels.txt"]
        assert archive.getinfo("labels.txt").compress_type == zipfile.ZIP_STORED
        assert archive.read("labels.txt").decode().splitlines() == ["chair", "warrior two", "tree"]
        start = archive.getinfo("labels.txt").header_offset
    # The archive follows the whole model flatbuffer, which ends where the zip starts.
    assert labelled[start:start + 4] == b"PK\x03\x04" and start >= len(classifier)
    assert model_fb.Model.ModelBufferHasIdentifier(labelled[:start], 0)
    assert associated_files(labelled) == {"labels.txt": LABELS}
    assert associated_files(classifier) == {}


def test_read_metadata_round_trips(classifier: bytes, labelled: bytes) -> None:
    assert read_metadata(labelled) == {
        "name": "test classifier", "description": "Three poses from keypoints.", "version": "1.2.3",
        "author": "poseclass tests", "license": "Apache-2.0", "min_parser_version": "1.0.0",
        "inputs": [{"name": "movenet_keypoints", "description": "MoveNet output, float32 [1, 1, 17, 3]",
                    "associated_files": []}],
        "outputs": [{"name": "probabilities", "description": "One probability per pose",
                     "associated_files": [{"name": "labels.txt", "type": "TENSOR_AXIS_LABELS"}]}],
        "files": {"labels.txt": LABELS},
    }
    assert read_metadata(classifier) is None


def test_litert_outputs_are_bit_identical(classifier: bytes, labelled: bytes) -> None:
    rng = np.random.default_rng(0)
    inputs = [rng.random((1, 1, 17, 3), dtype=np.float32) for _ in range(5)]
    before, after = litert_outputs(classifier, inputs), litert_outputs(labelled, inputs)
    assert all(np.array_equal(a, b) for a, b in zip(before, after))
    assert not np.array_equal(before[0], before[1])  # the inputs do reach the output
    assert np.allclose([p.sum() for p in after], 1.0, atol=1e-5)


def test_writing_again_replaces_and_is_deterministic(classifier: bytes, labelled: bytes) -> None:
    assert with_metadata(classifier, INFO, [KEYPOINTS], [PROBABILITIES], {"labels.txt": LABELS}) == labelled
    renamed = ModelInfo("renamed", "Other labels.", "2.0.0", "someone")
    again = with_metadata(labelled, renamed, [KEYPOINTS], [PROBABILITIES], {"labels.txt": b"a\nb\nc\n"})
    assert list(model_metadata_entries(again)).count("TFLITE_METADATA") == 1
    assert buffer_count(again) == buffer_count(labelled)
    assert (google_metadata(again).name, google_metadata(again).license) == (b"renamed", None)
    assert associated_files(again) == {"labels.txt": b"a\nb\nc\n"}  # the old archive is gone, not merged


@pytest.mark.parametrize("dtype", ["uint8", "float32"])
def test_mediapipe_image_classifier_names_classes_from_the_metadata(dtype: str) -> None:
    import mediapipe as mp
    from mediapipe.tasks.python import BaseOptions, vision

    bare = image_classifier(dtype)
    model = image_metadata(bare, dtype)
    [image] = google_metadata(model).subgraphMetadata[0].inputTensorMetadata
    assert image.content.contentPropertiesType == metadata_fb.ContentProperties.ImageProperties
    assert image.content.contentProperties.colorSpace == metadata_fb.ColorSpaceType.RGB
    [unit] = image.processUnits
    assert unit.optionsType == metadata_fb.ProcessUnitOptions.NormalizationOptions
    expected = ([127.5], [127.5]) if dtype == "float32" else ([0.0], [1.0])
    assert (list(unit.options.mean), list(unit.options.std)) == expected

    def classify(model: bytes, rgb: tuple[int, int, int]):
        picture = mp.Image(image_format=mp.ImageFormat.SRGB, data=np.full((32, 32, 3), rgb, np.uint8))
        options = vision.ImageClassifierOptions(base_options=BaseOptions(model_asset_buffer=model))
        with vision.ImageClassifier.create_from_options(options) as classifier:
            return classifier.classify(picture).classifications[0].categories[0]

    # MediaPipe applies the normalization (a float32 model without it is refused) and reads the labels.
    assert [classify(model, rgb).category_name for rgb in [(250, 10, 10), (10, 250, 10), (10, 10, 250)]] == [
        "red", "warrior two", "blue"]
    assert classify(model, (10, 250, 10)).score > 0.9
    if dtype == "uint8":  # without metadata the classes have no names
        assert classify(bare, (10, 250, 10)).category_name is None


def test_weights_stored_after_the_flatbuffer_move_inside(thunder_int8) -> None:
    """ai-edge-quantizer writes thunder-int8's weights after the flatbuffer (Buffer.offset): they must survive."""
    model = Path(thunder_int8.model_path).read_bytes()
    root = model_fb.Model.GetRootAs(model, 0)
    assert any(root.Buffers(i).Offset() > 1 for i in range(root.BuffersLength()))
    pixels = TensorInfo("input", "RGB pixels, int32 [1, 256, 256, 3]", min=(0.0,), max=(255.0,))
    labelled = with_metadata(model, INFO, [pixels], [TensorInfo("keypoints", "17 keypoints")], {})
    out = model_fb.Model.GetRootAs(labelled, 0)
    assert not any(out.Buffers(i).Offset() > 1 for i in range(out.BuffersLength()))
    rng = np.random.default_rng(1)
    inputs = [rng.integers(0, 256, (1, 256, 256, 3), dtype=np.int32) for _ in range(2)]
    before, after = litert_outputs(model, inputs), litert_outputs(labelled, inputs)
    assert all(np.array_equal(a, b) for a, b in zip(before, after))
    assert read_metadata(labelled)["files"] == {}


@pytest.mark.parametrize("data", [b"", b"hello, not a model", b"\x10\x00\x00\x00TFL3" + b"\xff" * 32,
                                  b"\x89PNG\r\n\x1a\n" + b"\x00" * 64])
def test_bytes_that_are_not_a_tflite_model_are_refused(data: bytes) -> None:
    with pytest.raises(ValueError, match="not a TFLite model"):
        with_metadata(data, INFO, [KEYPOINTS], [PROBABILITIES], {"labels.txt": LABELS})
    with pytest.raises(ValueError, match="not a TFLite model"):
        read_metadata(data)


def test_metadata_that_does_not_fit_is_refused(classifier: bytes) -> None:
    with pytest.raises(ValueError, match=r"1 input\(s\) and 1 output\(s\), the metadata describes 1 and 2"):
        with_metadata(classifier, INFO, [KEYPOINTS], [PROBABILITIES, PROBABILITIES], {"labels.txt": LABELS})
    with pytest.raises(ValueError, match="labels.txt"):
        with_metadata(classifier, INFO, [KEYPOINTS], [PROBABILITIES], {})
    with pytest.raises(ValueError, match="mean and std together"):
        TensorInfo("image", "RGB", image=True, mean=(127.5,))
