"""MoveNet MultiPose: conversion fidelity, several people in one image, the CLI's --multi."""

from __future__ import annotations

import json

import numpy as np
import pytest
from conftest import CLASSES, HELD_OUT, YOGA_TRAIN
from PIL import Image

from poseclass.images import load_rgb


@pytest.fixture(autouse=True)
def _cli_env(monkeypatch):
    """main() sets POSECLASS_QUIET/VERBOSE in os.environ; give them back after each test."""
    for name in ("POSECLASS_QUIET", "POSECLASS_VERBOSE"):
        monkeypatch.setenv(name, "")


@pytest.fixture(scope="session")
def multipose():
    from poseclass.pose.multipose import MultiPoseNet

    return MultiPoseNet(num_threads=2)


@pytest.fixture(scope="session")
def pipeline(model_dir, multipose):
    from poseclass.classify.pipeline import PosePipeline

    pipe = PosePipeline.load(model_dir)
    pipe._multipose = multipose
    return pipe


BOX_SHARE = 0.15  # a person's box covers at least this share of their picture's area


@pytest.fixture(scope="session")
def people(pipeline):
    """One photo per class (subjects the classifier trained on), each one MultiPose sees clearly on its own.

    Chosen at test time: the first photo of the class, in name order, that alone gives one
    confident person classified as its class, with a box a little over the share of the photo
    the composites ask of it (``BOX_SHARE``). The composites then test what compositing changes:
    several people, other sizes, other places.
    """
    chosen = {}
    for name in CLASSES:
        for path in sorted((YOGA_TRAIN / name).glob("*.jpg")):
            if path.name.startswith(HELD_OUT + "_"):
                continue
            photo = load_rgb(path)
            found = pipeline.predict_people(photo)
            if found and found[0].score >= 0.4 and found[0].label == name and inside(
                    (0, 0, photo.width, photo.height), found[0].box) >= 1.1 * BOX_SHARE:
                chosen[name] = photo
                break
    assert set(chosen) == set(CLASSES)
    return chosen


def composite(photos, layout, canvas):
    """Paste ``photos`` onto a grey canvas: ``layout`` is one (x, y, height) per photo; returns image and regions."""
    image = Image.new("RGB", canvas, (128, 128, 128))
    regions = []
    for photo, (x, y, height) in zip(photos, layout):
        width = round(photo.width * height / photo.height)
        image.paste(photo.resize((width, height), Image.Resampling.BICUBIC), (x, y))
        regions.append((x, y, x + width, y + height))
    return image, regions


def inside(box, region) -> float:
    """The fraction of ``box`` inside ``region``."""
    ix = max(0.0, min(box[2], region[2]) - max(box[0], region[0]))
    iy = max(0.0, min(box[3], region[3]) - max(box[1], region[1]))
    return ix * iy / max(1e-6, (box[2] - box[0]) * (box[3] - box[1]))


SCENES = {
    # 2 people side by side, one larger.
    "two": ((("tree", "chair")), ((0, 0, 600), (640, 150, 450)), (1100, 600)),
    # 3 people of three sizes in a row.
    "three": (("warrior", "tree", "chair"), ((0, 100, 500), (520, 0, 600), (1010, 250, 350)), (1400, 600)),
    # 4 people in a 2x2 grid, two sizes.
    "four": (("dog", "tree", "cobra", "chair"), ((0, 0, 480), (500, 40, 440), (20, 500, 420), (520, 480, 500)),
             (1020, 1000)),
}


@pytest.mark.parametrize("scene", list(SCENES))
def test_everyone_found_boxed_and_classified(scene, pipeline, people):
    classes, layout, canvas = SCENES[scene]
    image, regions = composite([people[c] for c in classes], layout, canvas)
    found = pipeline.predict_people(image)
    assert len(found) == len(classes), [(p.label, p.score, p.box) for p in found]
    scores = [p.score for p in found]
    assert scores == sorted(scores, reverse=True)
    for name, region in zip(classes, regions):
        # The person whose box lies inside this picture: their box is in their own picture
        # (10% slack for the box edges), covers a fair part of it, and they get their own class.
        mine = max(found, key=lambda p: inside(p.box, region))
        assert inside(mine.box, region) >= 0.9, (name, mine.box, region)
        box_area = (mine.box[2] - mine.box[0]) * (mine.box[3] - mine.box[1])
        assert box_area >= BOX_SHARE * (region[2] - region[0]) * (region[3] - region[1]), (name, mine.box, region)
        assert mine.label == name, (name, mine.predictions[:3])
        # Keypoints in image pixels, inside the person's picture.
        confident = mine.pose.scores >= 0.3
        xy = mine.pose.xy[confident]
        assert len(xy) >= 5
        assert np.all((xy >= np.array(region[:2]) - 5) & (xy <= np.array(region[2:]) + 5))


def test_keypoints_feed_the_classifier_in_the_single_pose_frame(pipeline, people):
    """A person alone: the classifier input is (y, x) / longer side, as single-pose MoveNet's Pose.as_movenet."""
    photo = people["tree"]
    canvas = Image.new("RGB", (900, 600), (128, 128, 128))
    canvas.paste(photo.resize((600, 600)), (300, 0))
    person = pipeline.multipose.detect(canvas)[0]
    tensor = person.pose.as_movenet()
    assert tensor.shape == (1, 1, 17, 3)
    np.testing.assert_allclose(tensor[0, 0, :, 0] * 900, person.pose.xy[:, 1], rtol=1e-5)
    np.testing.assert_allclose(tensor[0, 0, :, 1] * 900, person.pose.xy[:, 0], rtol=1e-5)
    # The same pose as single-pose thunder-int8 sees it (same frame), up to MultiPose's keypoint error.
    single = pipeline.movenet.detect(canvas)
    both = (single.scores >= 0.3) & (person.pose.scores >= 0.3)
    assert both.sum() >= 10
    assert np.median(np.linalg.norm(single.xy[both] - person.pose.xy[both], axis=1)) <= 15


def test_a_close_up_person_multipose_half_finds_is_read_whole(pipeline):
    """girl1_tree086 (held out): MultiPose boxes her from the hips to the feet and its keypoints say chair;
    top-down grows the crop from her hips and single-pose MoveNet reads her whole: tree, as plain predict."""
    photo = load_rgb(YOGA_TRAIN / "tree" / "girl1_tree086.jpg")
    found = pipeline.multipose.detect(photo)[0]
    assert found.box[1] > 0.3 * photo.height  # MultiPose's box starts below her waist
    people = pipeline.predict_people(photo)
    assert [p.label for p in people] == ["tree"] == [pipeline.predict(photo).label]
    assert people[0].box[1] < 0.2 * photo.height  # the box now holds her head too
    assert people[0].score == found.score


def test_person_crop_grows_a_half_found_person_to_the_whole_body():
    """Hips and one knee confident, a box from the hips down: the crop reaches as far above the hips as below."""
    from poseclass.pose.keypoints import INDEX, Pose
    from poseclass.pose.people import person_crop

    xy = np.full((17, 2), 150, np.float32)
    scores = np.zeros(17, np.float32)
    for name, point in (("left_hip", (158, 136)), ("right_hip", (126, 133)), ("left_knee", (151, 214))):
        xy[INDEX[name]], scores[INDEX[name]] = point, 0.6
    crop = person_crop(Pose(xy, scores, 300, 300), (62, 105, 172, 297))
    assert crop.y0 <= 0 and crop.y0 + crop.side >= 297  # head (about y 20) to feet
    assert crop.x0 <= 62 and crop.x0 + crop.side >= 172


@pytest.fixture(scope="session")
def held_out_photos(pipeline):
    """The first photo of each class of the held-out subject that the single-person chain gets right."""
    chosen = {}
    for name in CLASSES:
        for path in sorted((YOGA_TRAIN / name).glob(f"{HELD_OUT}_*.jpg")):
            if pipeline.predict(path).label == name:
                chosen[name] = load_rgb(path)
                break
    return chosen


@pytest.mark.parametrize("pair", [("tree", "chair"), ("warrior", "dog"), ("cobra", "tree")])
def test_two_held_out_photos_side_by_side_are_both_found_and_named(pair, pipeline, held_out_photos):
    photos = held_out_photos
    image, regions = composite([photos[c] for c in pair], ((0, 0, 300), (300, 0, 300)), (600, 300))
    found = pipeline.predict_people(image)
    for name, region in zip(pair, regions):
        mine = max(found, key=lambda p: inside(p.box, region))
        assert inside(mine.box, region) >= 0.6, (name, mine.box, region)
        assert mine.label == name, (name, mine.predictions[:3])


def test_nobody_is_an_empty_list(pipeline):
    assert pipeline.predict_people(np.full((480, 640, 3), 128, np.uint8)) == []
    noise = np.random.default_rng(0).integers(0, 256, (480, 640, 3), dtype=np.uint8)
    assert pipeline.predict_people(noise) == []


def test_max_people_and_min_person_score(pipeline, people):
    image, _ = composite([people["tree"], people["chair"]], ((0, 0, 600), (640, 150, 450)), (1100, 600))
    everyone = pipeline.predict_people(image)
    top = pipeline.predict_people(image, max_people=1)
    assert len(top) == 1 and top[0].box == everyone[0].box
    between = (everyone[0].score + everyone[1].score) / 2
    assert len(pipeline.predict_people(image, min_person_score=between)) == 1
    with pytest.raises(ValueError, match="max_people"):
        pipeline.predict_people(image, max_people=7)


def test_converted_tflite_matches_tfjs_graph(multipose, tmp_path):
    """The converted model (fixed input size) computes what the TF.js graph computes in TensorFlow."""
    import tensorflow as tf
    from test_movenet import _tfjs_reference

    from poseclass.pose.models import VARIANTS, fetch_tfjs

    reference = _tfjs_reference(fetch_tfjs(VARIANTS["multipose"], tmp_path))
    size = multipose.input_size
    photo = load_rgb(YOGA_TRAIN / "tree" / sorted(p.name for p in (YOGA_TRAIN / "tree").glob("*.jpg"))[0])
    inputs = [np.asarray(photo.resize((size, size)), np.int32)[None],
              np.random.default_rng(0).integers(0, 256, (1, size, size, 3), dtype=np.int32)]
    for x in inputs:
        multipose.interpreter.set_tensor(multipose._input_index, x)
        multipose.interpreter.invoke()
        got = multipose.interpreter.get_tensor(multipose._output_index)[0]
        want = reference(tf.constant(x)).numpy()[0]
        assert got.shape == want.shape == (6, 56)
        # The 6 rows are the top-6 candidates; compare them matched by person score.
        got, want = got[np.argsort(-got[:, 55])], want[np.argsort(-want[:, 55])]
        assert np.abs(got - want).max() <= 1e-3


def test_cli_predict_and_detect_multi(model_dir, people, tmp_path, capsys):
    from poseclass.cli import main

    image, _ = composite([people["tree"], people["chair"]], ((0, 0, 600), (640, 150, 450)), (1100, 600))
    path = tmp_path / "two.png"
    image.save(path)
    blank = tmp_path / "blank.png"
    Image.new("RGB", (320, 240), (128, 128, 128)).save(blank)
    overlay = tmp_path / "people.png"
    assert main(["predict", str(path), str(blank), "--model", str(model_dir), "--multi", "--json",
                 "--overlay", str(overlay)]) == 0
    out = json.loads(capsys.readouterr().out)
    assert [r["status"] for r in out] == ["ok", "ok"]
    assert sorted(p["predictions"][0]["label"] for p in out[0]["people"]) == ["chair", "tree"]
    assert set(out[0]["people"][0]) == {"box", "person_score", "status", "predictions", "keypoints"}
    assert out[1]["people"] == []
    drawn = Image.open(out[0]["overlay"])
    assert drawn.size == image.size and np.abs(np.asarray(drawn, int) - np.asarray(image, int)).max() > 0

    assert main(["detect", str(path), "--multi", "--max-people", "1", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert len(out[0]["people"]) == 1 and len(out[0]["people"][0]["keypoints"]) == 17

    assert main(["predict", str(path), "--model", str(model_dir), "--multi"]) == 0
    text = capsys.readouterr().out
    assert "2 people" in text and "person 1:" in text


@pytest.mark.parametrize("argv,message", [
    (["detect", "X.png", "--max-people", "2"], "--max-people is for several people: add --multi"),
    (["detect", "X.png", "--multi", "--passes", "2"], "--passes is for single-pose"),
])
def test_cli_user_errors_are_one_line(argv, message, capsys):
    from poseclass.cli import main

    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1


def test_multi_reads_people_with_the_movenet_given(model_dir, capsys):
    """--multi reads each person with the folder's single-pose MoveNet: --movenet replaces it, as for predict."""
    from poseclass.cli import main

    image = str(YOGA_TRAIN / "tree" / "girl1_tree086.jpg")
    movenet = str(model_dir / json.loads((model_dir / "manifest.json").read_text())["movenet"]["file"])
    assert main(["predict", image, "--model", str(model_dir), "--multi", "--movenet", movenet, "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert [p["predictions"][0]["label"] for p in out[0]["people"]] == ["tree"]


def test_cli_refuses_bad_people_options(capsys):
    from poseclass.cli import main

    for option in (["--max-people", "7"], ["--min-person-score", "1.5"]):
        with pytest.raises(SystemExit) as caught:
            main(["detect", "X.png", "--multi", *option])
        assert caught.value.code == 2
        assert "must be" in capsys.readouterr().err


def test_multipose_file_is_not_a_single_pose_model(multipose):
    from poseclass.errors import ModelError
    from poseclass.pose.models import ensure_model

    with pytest.raises(ModelError, match="MultiPose model is the multipose variant"):
        ensure_model("thunder", multipose.model_path)
    from poseclass.pose.movenet import MoveNet

    with pytest.raises(ValueError, match="MultiPoseNet"):
        MoveNet("multipose")
