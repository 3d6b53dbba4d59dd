"""Real MoveNet: accuracy against ground truth, conversion fidelity, crop refinement."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from conftest import POSE_TEST

from poseclass.pose.keypoints import INDEX, KEYPOINT_NAMES
from poseclass.pose.movenet import MoveNet, body_crop, full_frame

TRUTH = pd.read_csv(POSE_TEST / "pose_landmark_truth.csv").to_numpy(np.float32).reshape(2, 17, 2)


@pytest.mark.parametrize("variant", ["lightning", "thunder", "thunder_int8"])
@pytest.mark.parametrize("row,image", [(0, "image1.png"), (1, "image2.jpeg")])
def test_keypoints_within_21px_of_truth(variant, row, image, request):
    net = request.getfixturevalue(variant)
    pose = net.detect(POSE_TEST / image)
    error = np.linalg.norm(pose.xy - TRUTH[row], axis=1)
    worst = int(error.argmax())
    assert error.max() <= 21.0, f"{KEYPOINT_NAMES[worst]} is {error.max():.1f} px off"
    assert MoveNet.has_person(pose)


def test_pose_reports_original_pixels_and_movenet_frame(thunder):
    pose = thunder.detect(POSE_TEST / "image1.png")
    assert (pose.width, pose.height) == (384, 640)
    tensor = pose.as_movenet()
    assert tensor.shape == (1, 1, 17, 3)
    # (y, x, score), both coordinates divided by the longer side (640): aspect ratio kept.
    np.testing.assert_allclose(tensor[0, 0, :, 0] * 640, pose.xy[:, 1], rtol=1e-5)
    np.testing.assert_allclose(tensor[0, 0, :, 1] * 640, pose.xy[:, 0], rtol=1e-5)


def test_blank_image_is_no_person(thunder):
    pose = thunder.detect(np.full((300, 300, 3), 128, np.uint8))
    assert not MoveNet.has_person(pose)


def _tfjs_reference(model_json):
    """The TF.js graph exactly as shipped, run by TensorFlow's own fused kernels (no unfusing)."""
    import tensorflow as tf
    from google.protobuf import json_format

    from poseclass.pose.build.convert import graph_def_function, read_weights

    spec = json.loads(model_json.read_text())
    graph = tf.compat.v1.GraphDef()
    json_format.ParseDict(spec["modelTopology"], graph)
    weights = read_weights(spec["weightsManifest"], model_json.parent)
    for node in graph.node:
        node.ClearField("device")
        if node.op == "FusedDepthwiseConv2dNative":  # TF.js's name for TF's internal fused op
            node.op = "_FusedDepthwiseConv2dNative"
        if node.op == "_FusedConv2D":
            node.attr["TArgs"].list.type.append(tf.float32.as_datatype_enum)
        if node.op == "Const":
            node.attr["value"].tensor.CopyFrom(tf.make_tensor_proto(weights[node.name]))
    graph.versions.producer = tf.version.GRAPH_DEF_VERSION
    return graph_def_function(graph)


@pytest.mark.parametrize("variant", ["lightning", "thunder"])
def test_converted_tflite_matches_tfjs_graph(variant, tmp_path, request):
    import tensorflow as tf

    from poseclass.images import load_rgb
    from poseclass.pose.models import VARIANTS, fetch_tfjs

    net = request.getfixturevalue(variant)
    reference = _tfjs_reference(fetch_tfjs(VARIANTS[variant], tmp_path))
    size = net.input_size
    inputs = [np.asarray(load_rgb(POSE_TEST / "image2.jpeg").resize((size, size)), np.int32)[None]]
    inputs.append(np.random.default_rng(0).integers(0, 256, (1, size, size, 3), dtype=np.int32))
    for x in inputs:
        net.interpreter.set_tensor(net._input_index, x)
        net.interpreter.invoke()
        got = net.interpreter.get_tensor(net._output_index)
        want = reference(tf.constant(x)).numpy()
        assert got.shape == want.shape == (1, 1, 17, 3)
        assert np.abs(got - want).max() <= 1e-4


def test_body_crop_zooms_on_a_small_person_and_uses_every_keypoint():
    xy = np.zeros((17, 2), np.float32)
    scores = np.full(17, 0.9, np.float32)
    # A person standing around (500, 500) in a 1000x1000 image, 200 px tall.
    xy[:] = (500, 500)
    xy[INDEX["left_shoulder"]] = (480, 450)
    xy[INDEX["right_shoulder"]] = (520, 450)
    xy[INDEX["left_hip"]] = (490, 500)
    xy[INDEX["right_hip"]] = (510, 500)
    xy[INDEX["nose"]] = (500, 400)
    xy[INDEX["left_ankle"]] = (490, 600)
    crop = body_crop(xy, scores, 1000, 1000)
    # Half side = max(1.9 * torso 50, 1.2 * body 100) = 120, centred on the hips.
    assert crop.side == pytest.approx(240)
    assert (crop.x0, crop.y0) == pytest.approx((380, 380))
    # The sample's stale-variable bug measured the body range from the last torso joint only
    # (half side 95): a far keypoint must widen the crop.
    xy[INDEX["left_wrist"]] = (500, 250)
    assert body_crop(xy, scores, 1000, 1000).side == pytest.approx(2 * 1.2 * 250)


def test_body_crop_falls_back_to_letterbox_without_a_torso():
    xy = np.full((17, 2), 100, np.float32)
    scores = np.full(17, 0.9, np.float32)
    scores[[INDEX["left_hip"], INDEX["right_hip"]]] = 0.05
    assert body_crop(xy, scores, 400, 300) == full_frame(400, 300)
    assert full_frame(400, 300).side == 400 and full_frame(400, 300).y0 == -50


@pytest.mark.parametrize("variant", ["thunder", "thunder_int8"])
def test_small_person_gets_a_second_pass(variant, request):
    """A person in a small part of a big frame: the refinement pass runs and stays accurate."""
    from PIL import Image

    from poseclass.images import load_rgb

    net = request.getfixturevalue(variant)
    person = load_rgb(POSE_TEST / "image2.jpeg")  # 399x640
    canvas = Image.new("RGB", (1600, 1600), (120, 120, 120))
    canvas.paste(person, (900, 700))
    before = net.inferences
    pose = net.detect(canvas)
    assert net.inferences - before == 2
    error = np.linalg.norm(pose.xy - (TRUTH[1] + (900, 700)), axis=1)
    assert error.max() <= 21.0
