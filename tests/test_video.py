"""Video: smoothing logic on synthetic data, then real clips built at test time from the yoga animation frames.

The training images are consecutive frames of animations (``girl1_tree086.jpg``, ``girl1_tree087.jpg``, ...):
one subject and class is a short clip. girl1 is the subject the ``model_dir`` classifier never saw.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from conftest import HELD_OUT, YOGA_TRAIN
from PIL import Image

from poseclass.video.filters import OneEuro, Segmenter, Smoother

av = pytest.importorskip("av")

FPS = 10
BLANK = None  # a grey frame with nobody in it


def frames_of(name: str, subject: str = HELD_OUT) -> list[Path]:
    return sorted((YOGA_TRAIN / name).glob(f"{subject}_{name}*.jpg"))


def write_clip(path: Path, files: list[Path | None], fps: int = FPS, faststart: bool = False,
               size: tuple[int, int] | None = None) -> Path:
    """An H.264 video of the given frames (None: a grey frame), at the images' size (300x300) unless given;
    a larger size centres each image on grey, so the person fills less of the frame."""
    size = size or Image.open(next(f for f in files if f is not None)).size
    options = {"movflags": "faststart"} if faststart else {}
    with av.open(str(path), "w", options=options) as container:
        stream = container.add_stream("libx264", rate=fps)
        stream.width, stream.height, stream.pix_fmt = *size, "yuv420p"
        for i, file in enumerate(files):
            image = Image.new("RGB", size, (128, 128, 128))
            if file:
                picture = Image.open(file).convert("RGB")
                image.paste(picture, ((size[0] - picture.width) // 2, (size[1] - picture.height) // 2))
            frame = av.VideoFrame.from_image(image)
            frame.pts = i
            container.mux(stream.encode(frame))
        container.mux(stream.encode())
    return path


def alternating(n: int, per_block: int) -> tuple[list[Path], list[str]]:
    """chair, tree, chair, tree, ... (n of each), consecutive frames of girl1; the files and the true labels."""
    pools = {name: frames_of(name) for name in ("chair", "tree")}
    files, truth = [], []
    for k in range(n):
        for name, pool in pools.items():
            block = pool[k * per_block:(k + 1) * per_block]
            assert len(block) == per_block, f"not enough {name} frames of {HELD_OUT}"
            files += block
            truth += [name] * per_block
    return files, truth


def run_cli(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture, *argv: str) -> tuple[int, str, str]:
    from poseclass.cli import main

    for name in ("POSECLASS_QUIET", "POSECLASS_VERBOSE"):  # main() sets these; restore them afterwards
        monkeypatch.setenv(name, "")
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


# --- pure logic ---------------------------------------------------------------------------------


def test_smoother_is_an_ema_that_forgets_at_no_person():
    smoother = Smoother(alpha=0.25)
    assert np.allclose(smoother.update([1.0, 0.0]), [1.0, 0.0])  # the first frame passes through
    for k in range(1, 6):
        assert np.allclose(smoother.update([0.0, 1.0]), [0.75**k, 1 - 0.75**k])
    assert smoother.update(None) is None
    assert np.allclose(smoother.update([0.2, 0.8]), [0.2, 0.8])  # no memory of the person before the gap
    with pytest.raises(ValueError):
        Smoother(alpha=0)


def test_one_euro_removes_jitter_when_still_and_follows_fast_moves():
    rng = np.random.default_rng(0)
    times = np.arange(90) / 30.0
    still = 0.5 + rng.normal(0, 0.005, size=(90, 17, 2))
    jitter = []
    for beta in (0.0, 300.0):  # beta 0: a plain low-pass at min_cutoff; TF.js's 300 lets more through
        f = OneEuro(beta=beta)
        jitter.append(np.array([f(x, t) for x, t in zip(still, times)])[30:].std())
    assert jitter[0] < 0.5 * still[30:].std() and jitter[0] < jitter[1] < still[30:].std()
    f.reset()
    ramp = np.linspace(0, 1, 30)[:, None, None] * np.ones((30, 17, 2))  # across the whole frame in one second
    out = np.array([f(x, t) for x, t in zip(ramp, times[:30])])
    assert np.abs(out - ramp).max() < 0.05  # fast motion: the cut-off rises, so it lags little
    assert np.array_equal(f(ramp[0], times[29]), out[-1])  # a repeated timestamp changes nothing


def test_one_euro_is_scaled_by_real_time():
    """The same jump smooths less when more time has passed since the last sample."""
    results = []
    for dt in (1 / 60, 1 / 10):
        f = OneEuro(beta=0.0)
        f(np.zeros(1), 0.0)
        results.append(float(f(np.ones(1), dt)[0]))
    assert 0 < results[0] < results[1] < 1


def test_segmenter_ignores_short_flickers():
    seg = Segmenter(min_duration=0.5)
    labels = ["tree"] * 10 + ["chair"] + ["tree"] * 10 + ["chair"] * 10 + [None] * 10
    for i, label in enumerate(labels):
        seg.update(label, i / FPS, (i + 1) / FPS)
    assert [(s.label, s.start_s, s.end_s) for s in seg.so_far()] == [("tree", 0.0, 2.1), ("chair", 2.1, 3.1)]


# --- real clips ---------------------------------------------------------------------------------


def test_alternating_clip_segments_counts_and_accuracy(model_dir, tmp_path, monkeypatch, capsys):
    from poseclass.classify.pipeline import PosePipeline

    n, per_block = 3, 10
    files, truth = alternating(n, per_block)
    clip = write_clip(tmp_path / "alternating.mp4", files)
    annotated = tmp_path / "annotated.mp4"
    code, out, err = run_cli(monkeypatch, capsys, "predict", str(clip), "--model", str(model_dir), "--json",
                             "--count", "chair", "--annotate", str(annotated))
    assert code == 0, err
    lines = [json.loads(line) for line in out.splitlines()]
    rows, summary = lines[:-1], lines[-1]
    assert [r["frame"] for r in rows] == list(range(len(files)))
    assert np.allclose([r["time_s"] for r in rows], np.arange(len(files)) / FPS)
    assert all(r["status"] == "ok" and len(r["keypoints"]) == 17 for r in rows)

    assert summary["counts"] == {"chair": n}
    assert [s["label"] for s in summary["segments"]] == ["chair", "tree"] * n
    true_starts = np.arange(2 * n) * per_block / FPS
    assert np.abs(np.array([s["start_s"] for s in summary["segments"]]) - true_starts).max() <= 2 / FPS
    assert summary["segments"][-1]["end_s"] == pytest.approx(len(files) / FPS)

    pipeline = PosePipeline.load(model_dir)
    per_image = np.mean([pipeline.predict(f).label == t for f, t in zip(files, truth)])
    smoothed = np.mean([r["label"] == t for r, t in zip(rows, truth)])
    assert smoothed >= per_image, (smoothed, per_image)

    with av.open(str(annotated)) as container:
        assert sum(1 for _ in container.decode(video=0)) == len(files)


def test_blank_frames_reset_tracking_and_classification_resumes(model_dir, tmp_path):
    from poseclass.classify.pipeline import PosePipeline
    from poseclass.video.io import read_video
    from poseclass.video.person import VideoClassifier

    before, blank, after = frames_of("chair")[:12], [BLANK] * 6, frames_of("tree")[:12]
    clip = write_clip(tmp_path / "gap.mp4", before + blank + after, size=(600, 400))
    pipeline = PosePipeline.load(model_dir)
    clf = VideoClassifier(pipeline)
    net = pipeline.movenet
    inferences, crops, results = [], [], []
    for image, t in read_video(clip):
        start = net.inferences
        results.append(clf.push(image, t))
        inferences.append(net.inferences - start)
        crops.append(clf.tracker.crop)

    statuses = [r.status for r in results]
    assert statuses == ["ok"] * len(before) + ["no_pose"] * len(blank) + ["ok"] * len(after)
    # steady state: one MoveNet inference per frame, on a crop around the body, smaller than the frame
    assert inferences[1:len(before)] == [1] * (len(before) - 1)
    assert all(c is not None and c.side < 400 for c in crops[:len(before)])
    # the first blank frame tries the crop, then the whole frame; later blanks only the whole frame
    first_blank, after_blank = len(before), len(before) + len(blank)
    assert inferences[first_blank] == 2 and inferences[first_blank + 1:after_blank] == [1] * (len(blank) - 1)
    assert all(c is None for c in crops[len(before):len(before) + len(blank)])
    assert all(r.probabilities is None and r.label is None for r in results[len(before):len(before) + len(blank)])
    labels_after = [r.label for r in results[len(before) + len(blank):]]
    assert labels_after[2:] == ["tree"] * (len(after) - 2)
    assert [s["label"] for s in clf.summary()["segments"]] == ["chair", "tree"]
    assert clf.summary()["counts"] == {}


@pytest.mark.parametrize("suffix", [".mkv", ".mp4"])
def test_truncated_video_keeps_partial_results_and_fails(model_dir, tmp_path, monkeypatch, capsys, suffix):
    files = frames_of("tree")[:30]
    whole = write_clip(tmp_path / f"whole{suffix}", files, faststart=True)
    cut = tmp_path / f"cut{suffix}"
    data = whole.read_bytes()
    cut.write_bytes(data[: len(data) * 6 // 10])
    out_csv = tmp_path / "frames.csv"
    code, out, err = run_cli(monkeypatch, capsys, "predict", str(cut), "--model", str(model_dir), "--json",
                             "--out", str(out_csv))
    assert code == 1
    summary = json.loads(out.strip())  # with --out, stdout has only the summary
    assert 0 < summary["frames"] < len(files)
    assert "truncated" in summary["error"] and str(cut) in summary["error"]
    assert [s["label"] for s in summary["segments"]] == ["tree"]
    rows = out_csv.read_text().splitlines()
    assert rows[0].startswith("frame,time_s,status,label,p_chair") and len(rows) == summary["frames"] + 1
    assert err.count("\n") == 1 and "Traceback" not in err


def test_bad_inputs_get_one_line_answers(model_dir, tmp_path, monkeypatch, capsys):
    text = "not a picture at all\n" * 20
    (tmp_path / "notes.mp4").write_text(text)
    (tmp_path / "notes.jpg").write_text(text)
    _, as_video, _ = run_cli(monkeypatch, capsys, "predict", str(tmp_path / "notes.mp4"), "--model", str(model_dir))
    _, as_image, _ = run_cli(monkeypatch, capsys, "predict", str(tmp_path / "notes.jpg"), "--model", str(model_dir))
    assert as_video.replace("notes.mp4", "X") == as_image.replace("notes.jpg", "X")
    assert "cannot read it as an image" in as_video

    fake = tmp_path / "fake.mov"
    fake.write_bytes(b"\x00\x00\x00\x18ftypqt  " + bytes(range(256)) * 4)  # a video's header, then garbage
    code, out, err = run_cli(monkeypatch, capsys, "predict", str(fake), "--model", str(model_dir))
    assert code == 1 and err.strip().count("\n") == 0 and "cannot read it as an image or a video" in err

    empty = tmp_path / "empty.mp4"
    with av.open(str(empty), "w") as container:
        stream = container.add_stream("libx264", rate=FPS)
        stream.width, stream.height = 64, 64
    code, out, err = run_cli(monkeypatch, capsys, "predict", str(empty), "--model", str(model_dir), "--json")
    assert code == 1 and "Traceback" not in err and err.strip().count("\n") == 0

    blank_only = write_clip(tmp_path / "blank.mp4", [BLANK] * 9, size=(160, 120))
    code, out, err = run_cli(monkeypatch, capsys, "predict", str(blank_only), "--model", str(model_dir))
    assert code == 1 and "no person found in any of its 9 frames" in err
    assert "9 frames" in out


def test_video_without_pyav_is_one_line(model_dir, tmp_path, monkeypatch, capsys):
    import poseclass.extras as extras

    clip = write_clip(tmp_path / "clip.mp4", frames_of("tree")[:2])
    real = extras._installed
    monkeypatch.setattr(extras, "_installed", lambda name: name != "av" and real(name))
    code, out, err = run_cli(monkeypatch, capsys, "predict", str(clip), "--model", str(model_dir))
    assert code == 2 and err.strip().count("\n") == 0
    assert "video input needs av" in err and "pip install 'poseclass[video]'" in err


def test_camera_reads_a_frame_source(model_dir, tmp_path, monkeypatch, capsys):
    """--camera N through a fake source: the same outputs as a file (no camera on this machine)."""
    from poseclass.video import io as video

    files = frames_of("chair")[:8] + frames_of("tree")[:8]

    class FakeCamera:
        name, total, fps, error = "camera 3", None, 15.0, None

        def __iter__(self):
            for i, f in enumerate(files):
                yield Image.open(f).convert("RGB"), 100.0 + i / 15  # a camera's clock does not start at 0

    opened = []
    monkeypatch.setattr(video, "open_camera", lambda index: opened.append(index) or FakeCamera())
    out_csv, annotated = tmp_path / "cam.csv", tmp_path / "cam.mp4"
    code, out, err = run_cli(monkeypatch, capsys, "predict", "--camera", "3", "--model", str(model_dir),
                             "--out", str(out_csv), "--annotate", str(annotated), "--count", "chair")
    assert code == 0, err
    assert opened == [3]
    assert out.startswith(f"camera 3: {len(files)} frames, {len(files) / 15:.1f} s")
    assert "chair" in out and "repetitions: chair 1" in out
    assert len(out_csv.read_text().splitlines()) == len(files) + 1
    with av.open(str(annotated)) as container:
        assert sum(1 for _ in container.decode(video=0)) == len(files)


def test_video_flags_are_checked(model_dir, tmp_path, monkeypatch, capsys):
    image = str(YOGA_TRAIN / "tree" / frames_of("tree")[0].name)
    code, _, err = run_cli(monkeypatch, capsys, "predict", image, "--model", str(model_dir), "--count", "tree")
    assert code == 2 and "--count is for videos" in err
    clip = str(write_clip(tmp_path / "clip.mp4", frames_of("tree")[:2]))
    code, _, err = run_cli(monkeypatch, capsys, "predict", clip, "--model", str(model_dir), "--count", "squat")
    assert code == 2 and "--count squat: the model's classes are chair" in err
    code, _, err = run_cli(monkeypatch, capsys, "predict", clip, "--model", str(model_dir), "--enter", "0.3")
    assert code == 2 and "--exit (0.4) must be below --enter (0.3)" in err


def test_help_states_the_real_defaults():
    from poseclass.cli import build_parser
    from poseclass.video import filters as smoothing

    predict = build_parser()._subparsers._group_actions[0].choices["predict"]
    text = " ".join(predict.format_help().split())
    for value in (smoothing.ENTER_PROBABILITY, smoothing.EXIT_PROBABILITY, smoothing.SMOOTHING_ALPHA,
                  smoothing.MIN_SEGMENT_S, smoothing.ENTER_HOLD_S, smoothing.EXIT_HOLD_S):
        assert f"(default {value})" in text


# --- second sweep (issue 20) ----------------------------------------------------------------------------


def test_unwritable_annotate_is_refused_before_any_frame(model_dir, tmp_path, monkeypatch, capsys):
    clip = write_clip(tmp_path / "clip.mp4", frames_of("tree")[:10])
    out_csv = tmp_path / "frames.csv"
    code, out, err = run_cli(monkeypatch, capsys, "predict", str(clip), "--model", str(model_dir),
                             "--out", str(out_csv), "--annotate", str(tmp_path / "missing" / "out.mp4"))
    assert code == 2 and err.count("\n") == 1
    assert str(tmp_path / "missing" / "out.mp4") in err and "--annotate" in err
    assert not out_csv.exists(), "no partial --out file"


def test_a_video_cut_before_its_index_is_called_damaged(model_dir, tmp_path, monkeypatch, capsys):
    whole = write_clip(tmp_path / "whole.mp4", frames_of("tree")[:30])  # index (moov) at the end
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])
    code, out, err = run_cli(monkeypatch, capsys, "predict", str(cut), "--model", str(model_dir))
    assert code == 1 and err.count("\n") == 1
    assert "damaged or truncated" in err and str(cut) in err and "cannot read it as an image" not in err


def test_a_missing_camera_is_one_line_with_the_verb_and_status_2(model_dir, monkeypatch, capsys):
    code, out, err = run_cli(monkeypatch, capsys, "predict", "--camera", "97", "--model", str(model_dir))
    assert code == 2 and err.startswith("poseclass predict: error: camera 97") and err.count("\n") == 1


def test_counts_read_as_people_say_them():
    from poseclass.video.filters import repetitions

    assert [repetitions(n) for n in (0, 1, 2)] == ["0 reps", "1 rep", "2 reps"]
