"""Repetitions (issue 25): the held and cycle counters on synthetic probabilities, then on clips built at test time.

The clips are girl1's frames (the subject the ``model_dir`` classifier never saw): standing (``tree``)
between squats (``chair``), with a dip planted inside each squat (1, 2 and 3 frames of ``warrior``
at 10 frames a second: 0.1-0.3 s), as the bottom of a real squat reads as another class for a moment.
"""

from __future__ import annotations

import csv
import json

import pytest
from test_video import frames_of, run_cli, write_clip

from poseclass.video.filters import CycleCounter, FrameClock, RepCounter
from poseclass.video.timeline import FrameResult, PersonTimeline, VideoOptions, csv_header

# --- pure logic ---------------------------------------------------------------------------------


def feed(counter: RepCounter | CycleCounter, stretches: list[tuple[dict[str, float] | None, float]],
         fps: float = 30) -> list[tuple[float, str, int]]:
    """Push ``(probabilities, seconds)`` stretches at ``fps``; (time, state, count) after each frame."""
    trace, i = [], 0
    for probabilities, seconds in stretches:
        for _ in range(round(seconds * fps)):
            counter.update(probabilities, i / fps)
            trace.append((i / fps, counter.state, counter.count))
            i += 1
    return trace


def chair(p: float) -> dict[str, float]:
    return {"chair": p, "tree": 1 - p}


def test_a_dip_shorter_than_exit_s_is_not_a_second_repetition():
    squat = [(chair(0.9), 1.0), (chair(0.1), 0.3), (chair(0.9), 1.0)]  # a 0.3 s dip at the bottom
    counter = RepCounter("chair")
    feed(counter, [(chair(0.0), 0.5), *squat, (chair(0.0), 1.0)] * 3)
    assert counter.count == 3
    longer = RepCounter("chair")
    feed(longer, [(chair(0.9), 1.0), (chair(0.1), 0.6), (chair(0.9), 1.0), (chair(0.0), 1.0)])
    assert longer.count == 2, "a dip that outlasts exit_s ends the repetition: this is why --from exists"


def test_a_flicker_shorter_than_enter_s_is_no_repetition():
    counter = RepCounter("chair")
    trace = feed(counter, [(chair(0.0), 0.3), (chair(0.95), 0.1)] * 10 + [(chair(0.0), 1.0)])
    assert counter.count == 0 and "inside" not in {state for _, state, _ in trace}
    feed(counter, [(chair(0.95), 0.3), (chair(0.0), 1.0)])
    assert counter.count == 1


def test_states_say_where_a_repetition_is():
    counter = RepCounter("chair")
    trace = feed(counter, [(chair(0.0), 0.2), (chair(0.8), 0.5), (chair(0.5), 0.2), (chair(0.2), 0.7)], fps=10)
    states = [state for _, state, _ in trace]
    assert states == ["outside"] * 2 + ["entering"] + ["inside"] * 6 + ["leaving"] * 4 + ["outside"] * 3
    assert [count for _, _, count in trace] == [0] * 13 + [1] * 3  # counted once the exit has held 0.5 s


@pytest.mark.parametrize("make", [lambda: RepCounter("chair"), lambda: CycleCounter("chair", "tree")])
def test_the_same_movement_counts_the_same_at_24_and_60_frames_a_second(make):
    dip = {"chair": 0.2, "tree": 0.2}  # the bottom reads as a third class for 0.25 s
    movement = [(chair(0.0), 0.5), (chair(0.9), 0.75), (dip, 0.25), (chair(0.9), 0.5)] * 4 + [(chair(0.0), 1)]
    results = []
    for fps in (24, 60):  # whole frames in every stretch at both rates
        counter = make()
        trace = feed(counter, movement, fps)
        results.append((counter.count, [t for (t, _, m), (_, _, n) in zip(trace[1:], trace) if m > n]))
    (n24, when24), (n60, when60) = results
    assert n24 == n60 == 4
    assert all(abs(a - b) <= 1 / 24 + 1e-9 for a, b in zip(when24, when60)), (when24, when60)


def test_nobody_is_p_zero_for_the_held_rule():
    counter = RepCounter("chair")
    feed(counter, [(chair(0.9), 1.0), (None, 0.3), (chair(0.9), 1.0), (None, 0.6)])
    assert counter.count == 1, "a 0.3 s gap is a dip; 0.6 s of nobody ends the repetition"


def test_no_holds_is_plain_hysteresis():
    counter = RepCounter("squat", enter=0.6, exit=0.4, enter_s=0, exit_s=0)
    feed(counter, [({"squat": p}, 0.1) for p in [0.5, 0.55, 0.45, 0.58, 0.42] * 4], fps=10)  # hovering
    assert counter.count == 0
    done = [counter.update({"squat": p}, 3 + k / 10) for k, p in enumerate((0.7, 0.5, 0.45, 0.3))]
    assert done == [False, False, False, True] and counter.count == 1
    with pytest.raises(ValueError):
        RepCounter("squat", enter=0.4, exit=0.6)
    with pytest.raises(ValueError):
        RepCounter("squat", exit_s=-1)


def test_a_repetition_open_at_the_end_counts_only_when_flushed_or_the_person_left():
    for finish, expected in ((lambda c: c.finish(), 0), (lambda c: c.finish(flush=True), 1), (lambda c: c.leave(), 1)):
        counter = RepCounter("chair")
        feed(counter, [(chair(0.0), 0.5), (chair(0.9), 1.0)])
        finish(counter)
        assert counter.count == expected and counter.state == "outside"


UP, DOWN, ELSE = {"tree": 0.9, "chair": 0.05}, {"tree": 0.05, "chair": 0.8}, {"tree": 0.1, "chair": 0.1}


def test_cycles_count_up_down_up_each_held():
    counter = CycleCounter("chair", "tree")
    trace = feed(counter, [(DOWN, 1.0)] + [(UP, 0.8), (DOWN, 1.0)] * 3 + [(UP, 0.8)])
    assert counter.count == 3, "the DOWN before the first UP is not a repetition"
    states = list(dict.fromkeys(state for _, state, _ in trace))
    assert states == ["waiting", "up", "leaving", "down", "returning"]
    brief = CycleCounter("chair", "tree")
    feed(brief, [(UP, 0.5), (DOWN, 0.3), (UP, 0.5), (DOWN, 1.0), (UP, 0.1), (DOWN, 1.0), (UP, 0.5)])
    assert brief.count == 1, "an excursion shorter than exit_s, and a return shorter than enter_s, are not cycles"


def test_a_named_down_need_only_be_reached_and_any_counts_every_excursion():
    reached = [(UP, 0.5), (ELSE, 0.5), (DOWN, 0.1), (ELSE, 0.5), (UP, 0.5)]  # chair for one frame at the bottom
    elsewhere = [(ELSE, 1.0), (UP, 0.5)]  # away from standing, but never chair
    named, anything = CycleCounter("chair", "tree"), CycleCounter(None, "tree")
    for counter in (named, anything):
        feed(counter, reached + elsewhere)
    assert (named.count, anything.count) == (1, 2) and anything.label == "any"


def test_nobody_confirms_nothing_in_a_cycle():
    counter = CycleCounter(None, "tree")
    feed(counter, [(UP, 0.5), (None, 1.0), (UP, 0.5), (ELSE, 0.3), (None, 0.5), (ELSE, 0.3), (UP, 0.5)])
    assert counter.count == 0, "a cut or a missed detection is not a move away, and breaks one under way"
    feed(counter, [(ELSE, 1.0), (None, 0.5)])
    assert counter.state == "down" and not counter.leave() and counter.count == 0


def test_options_build_the_counters_and_refuse_what_cannot_work():
    labels = ["chair", "tree", "warrior"]
    assert [type(c) for c in VideoOptions(count=("chair", "warrior")).counters()] == [RepCounter, RepCounter]
    cycles = VideoOptions(count=("chair", "any"), count_from="tree").counters()
    assert [(c.down, c.up, c.label) for c in cycles] == [("chair", "tree", "chair"), (None, "tree", "any")]
    assert VideoOptions(count=("any",)).missing(labels) == ("count", "any")
    assert VideoOptions(count=("chair",), count_from="squat").missing(labels) == ("from", "squat")
    with pytest.raises(ValueError, match="two poses"):
        VideoOptions(count=("tree",), count_from="tree").check(labels)


def test_frame_rows_end_with_each_counters_count_and_state():
    import numpy as np

    from poseclass.pose.keypoints import Pose

    pose = Pose(np.zeros((17, 2), np.float32), np.zeros(17, np.float32), 10, 10)
    result = FrameResult(0, 0.0, "ok", ["chair", "tree"], np.array([0.7, 0.3]), pose, counts={"chair": 2},
                         rep_states={"chair": "leaving"})
    header = csv_header(["chair", "tree"], ("chair",))
    assert header[:6] == ["frame", "time_s", "status", "label", "p_chair", "p_tree"]
    assert header[-2:] == ["reps_chair", "rep_state_chair"] and len(result.csv_row()) == len(header)
    assert result.csv_row()[-2:] == [2, "leaving"]
    assert result.to_dict()["rep_states"] == {"chair": "leaving"} and result.rep_captions() == ["chair: 2 reps (leaving)"]
    assert FrameClock().duration == 0.0


def test_an_unknown_pose_makes_no_progress():
    """The model unsure (status unknown, no label): the counters skip the frame, no progress."""
    import numpy as np

    from poseclass.pose.keypoints import Pose

    class Unsure:  # a classifier that calls every pose unknown: top probability under 0.5
        labels, unknown_below = ["chair", "tree", "warrior"], 0.5

        def predict_proba(self, keypoints: np.ndarray) -> np.ndarray:
            return np.array([[0.45, 0.3, 0.25]])

        def is_unknown(self, probabilities: np.ndarray) -> bool:
            return bool(np.max(probabilities) < self.unknown_below)

    pose = Pose(np.full((17, 2), 50, np.float32), np.ones(17, np.float32), 100, 100)
    for options in (VideoOptions(count=("chair",)), VideoOptions(count=("any",), count_from="tree")):
        person, clock = PersonTimeline(Unsure(), options), FrameClock()
        results = [person.update(i, pose, i / 10, clock.tick(i / 10)) for i in range(30)]
        assert {r.status for r in results} == {"unknown"} and person.counts() == dict.fromkeys(options.count, 0)
        still = "waiting" if options.count_from else "outside"
        assert {state for r in results for state in r.rep_states.values()} == {still}


def test_counters_read_shares_and_skip_unknown_stretches():
    """Probabilities leave out the "unknown" mass: 0.5 of 0.65 is mostly chair. An unknown stretch (1 s)
    inside a repetition neither ends it nor starts another: one repetition."""
    import numpy as np

    from poseclass.pose.keypoints import Pose

    answers = iter([[0.05, 0.6, 0.05]] * 5 + [[0.5, 0.1, 0.05]] * 10 + [[0.05, 0.1, 0.1]] * 10
                   + [[0.5, 0.1, 0.05]] * 10 + [[0.05, 0.6, 0.05]] * 10)

    class Model:
        labels, unknown_below = ["chair", "tree", "warrior"], 0.3

        def predict_proba(self, keypoints: np.ndarray) -> np.ndarray:
            return np.array([next(answers)])

        def is_unknown(self, probabilities: np.ndarray) -> bool:
            return bool(np.max(probabilities) < self.unknown_below)

    pose = Pose(np.full((17, 2), 50, np.float32), np.ones(17, np.float32), 100, 100)
    person, clock = PersonTimeline(Model(), VideoOptions(count=("chair",), alpha=1.0)), FrameClock()
    results = [person.update(i, pose, i / 10, clock.tick(i / 10)) for i in range(45)]
    assert [r.status for r in results].count("unknown") == 10
    assert person.counts() == {"chair": 1}


# --- real clips ---------------------------------------------------------------------------------

REPS, STAND, HALF = 3, 8, 5  # frames at 10 a second: 0.8 s standing, 0.5 s of chair each side of the dip


@pytest.fixture(scope="module")
def squats(tmp_path_factory):
    """tree, then per squat: chair, a dip of 1, 2 or 3 warrior frames, chair, tree. The clip and its true count."""
    tree, chair_, warrior = frames_of("tree"), frames_of("chair"), frames_of("warrior")
    files = tree[:STAND]
    for k in range(REPS):
        files += chair_[2 * k * HALF:(2 * k + 1) * HALF] + warrior[:k + 1] + chair_[(2 * k + 1) * HALF:(2 * k + 2) * HALF]
        files += tree[(k + 1) * STAND:(k + 2) * STAND]
    return write_clip(tmp_path_factory.mktemp("reps") / "squats.mp4", files)


@pytest.fixture(scope="module")
def tracked(model_dir, squats):
    """Each frame's time, tracked pose and whether someone was found: MoveNet once, replayed per rule."""
    from poseclass.classify.pipeline import PosePipeline
    from poseclass.images import as_rgb
    from poseclass.pose.movenet import MoveNet
    from poseclass.video.io import read_video
    from poseclass.video.tracking import PoseTracker

    pipeline = PosePipeline.load(model_dir)
    tracker = PoseTracker(pipeline.movenet)
    poses = [(t, pose, MoveNet.has_person(pose)) for t, pose in
             ((t, tracker.track(as_rgb(frame))) for frame, t in read_video(squats))]
    return pipeline, poses


def replay(tracked, **options: object) -> dict[str, int]:
    """The counts of the clip's frames through a person's timeline (smoothing, counters) with these options."""
    pipeline, poses = tracked
    person, clock = PersonTimeline(pipeline.classifier, VideoOptions(**options)), FrameClock()
    for i, (t, pose, present) in enumerate(poses):
        person.update(i, pose, t, clock.tick(t), present)
    return person.counts()


def test_planted_dips_are_not_counted_twice(tracked):
    assert replay(tracked, count=("chair",)) == {"chair": REPS}
    assert replay(tracked, count=("chair",), enter_s=0, exit_s=0)["chair"] > REPS, "the dips are real dips"


def test_cycles_from_standing_count_each_squat(tracked):
    assert replay(tracked, count=("chair",), count_from="tree") == {"chair": REPS}
    assert replay(tracked, count=("any",), count_from="tree") == {"any": REPS}


def test_cli_rows_show_the_counter_state(model_dir, squats, tmp_path, monkeypatch, capsys):
    annotated = tmp_path / "annotated.mp4"
    code, out, err = run_cli(monkeypatch, capsys, "predict", str(squats), "--model", str(model_dir), "--json",
                             "--count", "chair", "--from", "tree", "--annotate", str(annotated))
    assert code == 0, err
    lines = [json.loads(line) for line in out.splitlines()]
    rows, summary = lines[:-1], lines[-1]
    assert summary["counts"] == {"chair": REPS}
    assert [r["counts"]["chair"] for r in rows] == sorted(r["counts"]["chair"] for r in rows)
    states = list(dict.fromkeys(r["rep_states"]["chair"] for r in rows))
    assert states[:2] == ["waiting", "up"] and "down" in states
    assert annotated.stat().st_size > 0

    out_csv = tmp_path / "frames.csv"
    code, out, err = run_cli(monkeypatch, capsys, "predict", str(squats), "--model", str(model_dir),
                             "--count", "chair", "--out", str(out_csv))
    assert code == 0, err
    assert f"repetitions: chair {REPS}" in out
    with open(out_csv, newline="") as handle:
        table = list(csv.reader(handle))
    assert table[0][:4] == ["frame", "time_s", "status", "label"] and table[0][-2:] == ["reps_chair", "rep_state_chair"]
    assert table[-1][-2] == str(REPS) and {row[-1] for row in table[1:]} >= {"outside", "inside"}
    assert len(table) - 1 == len(rows) == summary["frames"]


def test_cli_refuses_from_without_a_class(model_dir, squats, monkeypatch, capsys):
    for argv, message in (
        (["--count", "chair", "--from", "standing"], "--from standing: the model's classes are chair"),
        (["--from", "tree"], "--from tree says where repetitions start: add --count CLASS"),
        (["--count", "any"], "--count any: the model's classes are chair"),
        (["--count", "tree", "--from", "tree"], "a cycle needs two poses"),
    ):
        code, _, err = run_cli(monkeypatch, capsys, "predict", str(squats), "--model", str(model_dir), *argv)
        assert code == 2 and message in err and err.count("\n") == 1, (argv, err)
