"""Video with several people: the tracker's assignment logic on synthetic people, then a real clip built at test
time in which two CGI people walk past each other, through PeopleVideoClassifier and ``predict VIDEO --multi``.

In the clip, A (guy2, large, at the top) goes left to right doing chair, tree, chair, tree; B (girl2, smaller,
lower, pasted in front) goes right to left holding tree. They cross mid-clip, when B covers A's legs. Both
subjects are ones the ``model_dir`` classifier trained on, so what is tested is who is who, not generalisation.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest
from conftest import YOGA_TRAIN
from PIL import Image
from test_multipose import composite, inside
from test_video import BLANK, run_cli, write_clip

from poseclass.pose.keypoints import Pose
from poseclass.pose.multipose import Person
from poseclass.video.tracking import PeopleTracker, iou, oks

FPS = 10
BLOCK = 8  # frames per pose of A: chair, tree, chair, tree
A_POSES = ["chair"] * BLOCK + ["tree"] * BLOCK + ["chair"] * BLOCK + ["tree"] * BLOCK
FRAMES = len(A_POSES)
CANVAS = (640, 360)
A_HEIGHT, B_HEIGHT, B_TOP = 260, 200, 160


# --- the tracker, on synthetic people ---------------------------------------------------------------------


def person(box: tuple[float, float, float, float], shift: tuple[float, float] = (0, 0), score: float = 0.9,
           seed: int = 0) -> Person:
    """A person in ``box`` with 17 keypoints spread over it (``seed`` picks where), moved by ``shift``;
    ``score`` is every keypoint's confidence (0: none confident, so only the box can match)."""
    x0, y0, x1, y1 = box
    spread = np.random.default_rng(seed).uniform(0, 1, (17, 2))
    xy = (np.array([x0, y0]) + spread * [x1 - x0, y1 - y0] + shift).astype(np.float32)
    return Person(Pose(xy, np.full(17, score, np.float32), 640, 360), box, 0.5)


def test_iou_and_oks():
    assert iou((0, 0, 10, 10), (0, 0, 10, 10)) == 1.0
    assert iou((0, 0, 10, 10), (5, 0, 15, 10)) == pytest.approx(50 / 150)
    assert iou((0, 0, 10, 10), (10, 0, 20, 10)) == 0.0
    a = person((0, 0, 100, 200))
    assert oks(a.pose, a.pose) == pytest.approx(1.0)
    assert oks(person((0, 0, 100, 200), shift=(5, 0)).pose, a.pose) > 0.8  # a small move: still alike
    assert oks(person((0, 0, 100, 200), seed=1).pose, a.pose) < 0.2  # another pose in the same place
    assert oks(person((0, 0, 100, 200), score=0.1).pose, a.pose) is None  # too few confident keypoints


def test_ids_follow_people_new_people_get_new_ids():
    tracker = PeopleTracker()
    left, right = (0, 0, 100, 200), (300, 0, 400, 200)
    assert tracker.update([person(left, seed=1), person(right, seed=2)], 0.0) == ([1, 2], [])
    # next frame: listed in the other order (MultiPose sorts by score), each moved a little
    moved = [person(right, (8, 0), seed=2), person(left, (8, 0), seed=1)]
    assert tracker.update(moved, 0.1) == ([2, 1], [])
    newcomer = person((500, 100, 600, 300), seed=3)
    assert tracker.update([newcomer, person(left, seed=1)], 0.2) == ([3, 1], [])  # 2 unseen, still alive
    assert tracker.update([], 0.3) == ([], [])


def test_keypoints_tell_apart_people_whose_boxes_overlap_alike():
    """At a crossing both tracks' boxes overlap the detections about equally: the keypoints decide."""
    tracker = PeopleTracker()
    box = (100, 0, 200, 200)
    tracker.update([person(box, seed=1), person((110, 0, 210, 200), seed=2)], 0.0)
    ids, _ = tracker.update([person((105, 0, 205, 200), seed=2), person((105, 0, 205, 200), seed=1)], 0.1)
    assert ids == [2, 1]


def test_a_walking_person_missed_for_frames_is_found_where_they_should_be():
    """Missed for 3 frames (hidden by someone passing in front), then 60 px on: found by their velocity."""
    tracker = PeopleTracker()
    for k in range(4):
        assert tracker.update([person((100 + 15 * k, 0, 160 + 15 * k, 200), seed=1)], k * 0.1) == ([1], [])
    assert iou((100 + 15 * 3, 0, 160 + 15 * 3, 200), (100 + 15 * 7, 0, 160 + 15 * 7, 200)) == 0  # where last seen
    assert tracker.update([person((100 + 15 * 7, 0, 160 + 15 * 7, 200), seed=1)], 0.7) == ([1], [])
    still = PeopleTracker()  # without the walk before, the same jump is someone else
    still.update([person((145, 0, 205, 200), seed=1)], 0.3)
    assert still.update([person((205, 0, 265, 200), seed=1)], 0.7) == ([2], [])


def test_best_pairs_are_linked_first():
    """Detection 0 fits track 2 better than track 1, but detection 1 is track 2 exactly: taking the pairs in
    detection order would swap them (TF.js's order); the most similar pair first does not."""
    tracker = PeopleTracker()
    tracker.update([person((0, 0, 100, 100), score=0), person((50, 0, 150, 100), score=0)], 0.0)
    ids, _ = tracker.update([person((40, 0, 140, 100), score=0), person((50, 0, 150, 100), score=0)], 0.1)
    assert iou((40, 0, 140, 100), (50, 0, 150, 100)) > iou((40, 0, 140, 100), (0, 0, 100, 100)) > 0.15
    assert ids == [1, 2]


def test_too_little_similarity_is_a_new_person():
    tracker = PeopleTracker(min_similarity=0.15)
    tracker.update([person((0, 0, 100, 100), score=0)], 0.0)
    assert iou((0, 0, 100, 100), (90, 0, 190, 100)) < 0.15
    assert tracker.update([person((90, 0, 190, 100), score=0)], 0.1) == ([2], [])


def test_tracks_age_out_and_ids_are_never_reused():
    tracker = PeopleTracker(max_age_s=1.0)
    a, b = person((0, 0, 100, 200), seed=1), person((300, 0, 400, 200), seed=2)
    tracker.update([a, b], 0.0)
    assert tracker.update([a], 0.5) == ([1], [])
    assert tracker.update([a], 1.0) == ([1], [])  # b unseen exactly max_age: kept
    assert tracker.update([a], 1.05) == ([1], [2])  # b unseen longer: dropped
    assert tracker.update([a, b], 1.1) == ([1, 3], [])  # b back in the same place: a new id, 2 is not reused
    assert tracker.update([b], 2.2) == ([4], [1, 3])  # 3 was seen 1.1 s ago: gone too
    assert [t.id for t in tracker.tracks] == [4]


def test_live_tracks_are_bounded():
    tracker = PeopleTracker(max_tracks=3)
    for k in range(5):  # a new person in a new place each frame
        ids, dropped = tracker.update([person((100 * k, 0, 100 * k + 50, 50), seed=k)], k * 0.1)
        assert ids == [k + 1] and dropped == ([k - 2] if k >= 3 else [])
    assert sorted(t.id for t in tracker.tracks) == [3, 4, 5]
    crowd = [person((100 * k, 300, 100 * k + 50, 350), seed=10 + k) for k in range(5)]
    ids, dropped = tracker.update(crowd, 1.0)  # more people in one frame than max_tracks: all of them stay
    assert ids == [6, 7, 8, 9, 10] and sorted(dropped) == [3, 4, 5]
    assert sorted(t.id for t in tracker.tracks) == ids
    for bad in ({"max_age_s": -1}, {"min_similarity": 1.5}, {"max_tracks": 0}):
        with pytest.raises(ValueError):
            PeopleTracker(**bad)


# --- a real clip: two people crossing ---------------------------------------------------------------------


def _strip(path: Path, height: int) -> Image.Image:
    """The middle of a 300x300 CGI frame (the person, little background), so two people can pass close by."""
    return Image.open(path).convert("RGB").crop((70, 0, 230, 300)).resize((round(160 * height / 300), height))


def crossing_frames() -> tuple[list[Image.Image], list[tuple[tuple[int, ...], tuple[int, ...]]]]:
    """The clip's frames and, per frame, where A and B were pasted (x0, y0, x1, y1)."""
    pools = {name: sorted((YOGA_TRAIN / name).glob(f"guy2_{name}*.jpg")) for name in ("chair", "tree")}
    b_frames = sorted((YOGA_TRAIN / "tree").glob("girl2_tree*.jpg"))
    used = {name: 0 for name in pools}
    frames, regions = [], []
    for i, name in enumerate(A_POSES):
        a, b = _strip(pools[name][used[name]], A_HEIGHT), _strip(b_frames[i], B_HEIGHT)
        used[name] += 1
        xa = round(10 + (CANVAS[0] - 20 - a.width) * i / (FRAMES - 1))
        xb = round(CANVAS[0] - 10 - b.width - (CANVAS[0] - 20 - b.width) * i / (FRAMES - 1))
        image, where = composite([a, b], [(xa, 0, A_HEIGHT), (xb, B_TOP, B_HEIGHT)], CANVAS)  # B in front
        frames.append(image)
        regions.append(tuple(where))
    return frames, regions


@pytest.fixture(scope="module")
def crossing(tmp_path_factory) -> tuple[Path, list]:
    """The clip (H.264, 640x360, 10 fps) and where A and B are in each frame."""
    folder = tmp_path_factory.mktemp("crossing")
    frames, regions = crossing_frames()
    files = []
    for i, image in enumerate(frames):
        files.append(folder / f"{i:03d}.png")
        image.save(files[-1])
    return write_clip(folder / "crossing.mp4", files, fps=FPS), regions


@pytest.fixture(scope="module")
def pipeline(model_dir):
    from poseclass.classify.pipeline import PosePipeline

    return PosePipeline.load(model_dir)


def who(box: tuple[float, ...], regions: tuple) -> int:
    """0 for A, 1 for B: whose pasted picture holds most of ``box``."""
    return int(np.argmax([inside(box, region) for region in regions]))


def check_identities(rows: list[tuple[int, int, tuple[float, ...], str]], regions: list) -> dict[int, int]:
    """``rows``: (frame, id, box, label). Asserts the two main ids are A and B on >= 90% of their frames and
    cover >= 90% of the detections; returns which person (0: A, 1: B) each main id is."""
    ids = [row[1] for row in rows]
    main = sorted(set(ids), key=ids.count, reverse=True)[:2]
    assert sum(ids.count(i) for i in main) >= 0.9 * len(rows), ids
    assert len(rows) >= 0.9 * 2 * FRAMES, len(rows)  # MultiPose saw both people on almost every frame
    identity = {}
    for track in main:
        truth = [who(box, regions[frame]) for frame, i, box, _ in rows if i == track]
        identity[track] = max(set(truth), key=truth.count)
        assert truth.count(identity[track]) >= 0.9 * len(truth), (track, truth)
    assert sorted(identity.values()) == [0, 1], identity
    for track, name in identity.items():
        labels = [(frame, label) for frame, i, _, label in rows if i == track]
        right = [label == (A_POSES[frame] if name == 0 else "tree") for frame, label in labels]
        assert np.mean(right) >= 0.85, (track, labels)
    return identity


def test_identities_hold_while_two_people_cross(pipeline, crossing):
    from poseclass.video.io import read_video
    from poseclass.video.people import PeopleVideoClassifier

    clip, regions = crossing
    clf = PeopleVideoClassifier(pipeline, count=["chair"])
    rows = []
    for frame in clf.run(read_video(clip)):
        assert [r.person for r in frame] == sorted(r.person for r in frame)
        # a person half hidden behind the other may be "unknown" (None below, so counted wrong)
        assert all(r.status in ("ok", "unknown") and r.index == frame[0].index for r in frame)
        rows += [(r.index, r.person, r.box, r.label) for r in frame]
    identity = check_identities(rows, regions)
    assert sum(label is None for *_, label in rows) <= 0.05 * len(rows)

    summary = clf.summary()
    assert summary["frames"] == FRAMES and summary["duration_s"] == pytest.approx(FRAMES / FPS)
    people = {p["person"]: p for p in summary["people"]}
    a, b = (next(i for i, name in identity.items() if name == k) for k in (0, 1))
    assert people[a]["counts"] == {"chair": 2} and people[b]["counts"] == {"chair": 0}
    assert [s["label"] for s in people[a]["segments"]] == ["chair", "tree", "chair", "tree"]
    assert [s["label"] for s in people[b]["segments"]] == ["tree"]
    assert people[a]["first_s"] == 0.0 and people[a]["last_s"] == pytest.approx((FRAMES - 1) / FPS)


def test_a_person_gone_longer_than_max_age_is_summarised_and_forgotten(pipeline):
    """Frames pushed directly (no video file): A and B, then B alone where B was until A's track ages out."""
    from poseclass.video.people import PeopleVideoClassifier

    frames, regions = crossing_frames()
    b_pictures = sorted((YOGA_TRAIN / "tree").glob("girl2_tree*.jpg"))
    clf = PeopleVideoClassifier(pipeline, count=["chair"], max_age_s=0.5)
    seen = [clf.push(image, i / FPS) for i, image in enumerate(frames[:5])]  # A holds chair: a repetition begins
    assert [len(people) for people in seen] == [2] * 5
    a = next(r.person for r in seen[-1] if r.label == "chair")
    b = next(r.person for r in seen[-1] if r.person != a)
    for i in range(5, 11):
        only_b = Image.new("RGB", CANVAS, (128, 128, 128))
        only_b.paste(_strip(b_pictures[i], B_HEIGHT), regions[4][1][:2])
        assert [r.person for r in clf.push(only_b, i / FPS)] == [b]
        assert (a in clf.people) == (i <= 9)  # unseen 0.5 s (frame 9) is kept, longer is dropped
    gone = next(p for p in clf.summary()["people"] if p["person"] == a)
    assert gone["frames"] == 5 and gone["last_s"] == pytest.approx(0.4)
    assert gone["counts"] == {"chair": 1}  # leaving ended the repetition, as a frame with nobody does
    blank = np.full((*CANVAS[::-1], 3), 128, np.uint8)
    assert clf.push(blank, 1.1) == []  # nobody: no rows
    flash = Image.new("RGB", CANVAS, (128, 128, 128))  # someone seen for one frame where A was, then nobody
    flash.paste(_strip(b_pictures[0], B_HEIGHT), regions[0][0][:2])
    assert len(clf.push(flash, 1.2)) == 1
    for t in (1.4, 1.6, 1.8):
        clf.push(blank, t)
    summary = clf.summary()
    assert summary["brief_people"] == 1, "no segment, no repetition: counted, not kept"
    assert [p["person"] for p in summary["people"]] == sorted([a, b]) and not clf.people


def test_cli_rows_and_summary_are_per_person(model_dir, crossing, tmp_path, monkeypatch, capsys):
    import av

    clip, regions = crossing
    annotated = tmp_path / "people.mp4"
    code, out, err = run_cli(monkeypatch, capsys, "predict", str(clip), "--model", str(model_dir), "--multi",
                             "--json", "--count", "chair", "--annotate", str(annotated))
    assert code == 0, err
    lines = [json.loads(line) for line in out.splitlines()]
    rows, summary = lines[:-1], lines[-1]
    assert set(rows[0]) == {"frame", "time_s", "person", "status", "label", "probabilities", "counts", "rep_states",
                            "box", "person_score", "keypoints"}
    identity = check_identities([(r["frame"], r["person"], tuple(r["box"].values()), r["label"]) for r in rows],
                                regions)
    assert summary["video"] == str(clip) and summary["frames"] == FRAMES
    counts = {p["person"]: p["counts"]["chair"] for p in summary["people"]}
    assert sorted(counts[i] for i in identity) == [0, 2]
    with av.open(str(annotated)) as container:
        assert sum(1 for _ in container.decode(video=0)) == FRAMES

    out_csv = tmp_path / "rows.csv"
    code, out, err = run_cli(monkeypatch, capsys, "predict", str(clip), "--model", str(model_dir), "--multi",
                             "--out", str(out_csv), "--count", "chair", "--max-people", "2")
    assert code == 0, err
    with open(out_csv, newline="") as handle:
        table = list(csv.reader(handle))
    assert table[0][:5] == ["frame", "time_s", "person", "status", "label"]
    assert table[0][10:15] == ["x0", "y0", "x1", "y1", "person_score"] and table[0][15] == "nose_x"
    assert table[0][-2:] == ["reps_chair", "rep_state_chair"]
    assert len(table) - 1 == len(rows) and all(len(row) == len(table[0]) for row in table)
    assert out.startswith(f"{clip}: {FRAMES} frames, {FRAMES / FPS:.1f} s, ")
    for track in identity:
        assert f"person {track}: " in out
    assert out.count("repetitions: chair 2") == 1


def test_cli_multi_bad_inputs_are_one_line(model_dir, crossing, tmp_path, monkeypatch, capsys):
    clip = str(crossing[0])
    for argv, message in (
        (["--multi", "--overlay", "x.png"], "--overlay is for images; for a video, --annotate"),
        (["--max-people", "2"], "--max-people is for several people: add --multi"),
        (["--multi", "--count", "squat"], "--count squat: the model's classes are chair"),
    ):
        code, _, err = run_cli(monkeypatch, capsys, "predict", clip, "--model", str(model_dir), *argv)
        assert code == 2 and message in err and err.count("\n") == 1, (argv, err)

    blank = write_clip(tmp_path / "blank.mp4", [BLANK] * 5, size=(160, 120))
    code, out, err = run_cli(monkeypatch, capsys, "predict", str(blank), "--model", str(model_dir), "--multi")
    assert code == 1 and err.count("error:") == 1 and "Traceback" not in err  # and the progress bar
    assert err.endswith("no person found in any of its 5 frames\n")
    assert out.startswith(f"{blank}: 5 frames, 0.5 s, 0 people")

    notes = tmp_path / "notes.mp4"
    notes.write_bytes(b"\x00\x00\x00\x18ftypqt  " + bytes(range(256)) * 4)
    code, out, err = run_cli(monkeypatch, capsys, "predict", str(notes), "--model", str(model_dir), "--multi",
                             "--json")
    assert code == 1 and err.count("\n") == 1 and "Traceback" not in err
    summary = json.loads(out)
    assert summary.pop("error").startswith(f"{notes}: cannot read it as an image or a video")
    assert summary == {"video": str(notes), "frames": 0, "duration_s": 0.0, "people": [], "brief_people": 0}
