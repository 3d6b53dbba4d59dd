"""Research prototype (issue 25): repetition counters run on `poseclass predict --out frames.csv` output.

Pure Python + numpy/pandas on the per-frame CSVs in frames/ (their p_<class> columns are the
smoothed probabilities, EMA alpha 0.6 per frame; a frame with status != ok has no probabilities).
No package code is imported or changed.

Counters
- ``today``: a re-implementation of poseclass.runtime.smoothing.RepCounter (enter at p >= enter,
  counted when p <= exit; a frame with nobody counts as leaving). Checked against the JSON counts.
- ``held``: a repetition is an entry into the class that holds and an exit that holds:
  outside -> inside once p >= enter has lasted T_in seconds (the entry is dated to the first frame
  of that run); inside -> outside (and one repetition counted) once p <= exit has lasted T_out
  seconds. A dip below exit shorter than T_out is not an exit, so it does not split a repetition;
  a rise above enter shorter than T_in is not an entry, so a flicker does not make one.
  Frames with nobody count as p = 0 (they can end a repetition only if they last T_out).
  ``flush``: a repetition still inside when the video ends is counted (the person did it; the
  video just stops before they stand up).
- ``cycle`` (two-state, `--count DOWN --from UP`): one repetition per UP -> DOWN -> UP, each state
  confirmed by the same held rule (p_state >= enter for T_in). Counted when UP is confirmed again
  after a DOWN that followed an UP; with flush also a final DOWN after an UP.

Scoring against rep_times.csv: counted vs true per clip, plus a one-to-one match of counted
repetitions (their [entry, exit] interval) to true ones ([start_s, end_s], overlap needed) giving
TP / FP / FN (overlap >= half the shorter interval), so that a right count made of one false and one missed repetition shows up.

Usage: counter_proto.py [--grid] [--plots]   (run from this folder)
"""
from __future__ import annotations

import argparse
import itertools
import json
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
FRAMES = HERE / "frames"
MIN_OVERLAP = 0.5


# ---------------------------------------------------------------------------------------- data
def load_frames(clip: str) -> pd.DataFrame:
    df = pd.read_csv(FRAMES / (Path(clip).stem + ".csv"), usecols=lambda c: c in ("time_s", "status", "label") or c.startswith("p_"))
    return df


def load_truth() -> tuple[pd.DataFrame, pd.DataFrame]:
    reps = pd.read_csv(HERE / "reps.csv")
    times = pd.read_csv(HERE / "rep_times.csv")
    return reps, times


def series(df: pd.DataFrame, cls: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """time_s, p (NaN where nobody), and each frame's duration (to the next frame; last = median)."""
    t = df["time_s"].to_numpy(float)
    p = df[f"p_{cls}"].to_numpy(float)
    p = np.where(df["status"].to_numpy() == "ok", p, np.nan)
    dt = np.diff(t, append=np.nan)
    med = float(np.nanmedian(dt)) if len(t) > 1 else 1 / 30
    dt[-1] = med
    return t, p, dt


# ------------------------------------------------------------------------------------ counters
def count_today(t, p, enter=0.6, exit=0.4):
    """poseclass's RepCounter today: list of (entry_t, exit_t)."""
    reps, inside, t_in = [], False, None
    for ti, pi in zip(t, p):
        if not inside:
            if not np.isnan(pi) and pi >= enter:
                inside, t_in = True, ti
        elif np.isnan(pi) or pi <= exit:
            inside = False
            reps.append((t_in, ti))
    return reps


def count_held(t, p, dt, enter=0.6, exit=0.4, t_in=0.2, t_out=0.3, flush=True):
    """Held-entry / held-exit counter: list of (entry_t, exit_t).

    A run's length is the summed duration of its frames (so T = 0 means one frame, as today)."""
    p = np.nan_to_num(p, nan=0.0)
    reps = []
    inside = False
    run_start, run_len = None, 0.0   # current candidate run (entry run when outside, exit run when inside)
    entry_t = None
    for ti, pi, di in zip(t, p, dt):
        if not inside:
            if pi >= enter:
                if run_start is None:
                    run_start, run_len = ti, 0.0
                run_len += di
                if run_len >= t_in - 1e-9:
                    inside, entry_t = True, run_start
                    run_start, run_len = None, 0.0
            else:
                run_start, run_len = None, 0.0
        else:
            if pi <= exit:
                if run_start is None:
                    run_start, run_len = ti, 0.0
                run_len += di
                if run_len >= t_out - 1e-9:
                    reps.append((entry_t, run_start))
                    inside = False
                    run_start, run_len = None, 0.0
            else:
                run_start, run_len = None, 0.0
    if inside and flush:
        reps.append((entry_t, float(t[-1] + dt[-1])))
    return reps


def held_states(t, probs: dict[str, np.ndarray], dt, enter=0.6, t_in=0.2):
    """Confirmed-state timeline for several classes: list of (state, since_t); a state is confirmed when
    its p >= enter has lasted t_in (dated to the start of that run). Frames with nobody break runs."""
    out = []
    runs = {k: (None, 0.0) for k in probs}
    current = None
    for i, (ti, di) in enumerate(zip(t, dt)):
        for k, p in probs.items():
            pi = p[i]
            start, length = runs[k]
            if not np.isnan(pi) and pi >= enter:
                if start is None:
                    start, length = ti, 0.0
                length += di
                runs[k] = (start, length)
                if length >= t_in - 1e-9 and current != k:
                    current = k
                    out.append((k, start))
            else:
                runs[k] = (None, 0.0)
    return out


def count_cycle(t, p_down, p_up, dt, enter=0.6, t_in=0.2, flush=True):
    """Two-state counter: one repetition per UP -> DOWN -> UP. list of (down_entry_t, up_again_t)."""
    states = held_states(t, {"down": p_down, "up": p_up}, dt, enter, t_in)
    reps, seen_up, down_t = [], False, None
    for s, since in states:
        if s == "up":
            if down_t is not None:
                reps.append((down_t, since))
                down_t = None
            seen_up = True
        elif s == "down" and seen_up:
            down_t = since
    if flush and down_t is not None:
        reps.append((down_t, float(t[-1] + dt[-1])))
    return reps


def count_two_state(t, p_up, dt, p_down=None, up_enter=0.6, down_enter=0.6, t_up=0.2, t_down=0.5,
                    touch=None, p_touch=None, flush=False):
    """UP -> DOWN -> UP, each state held: UP is confirmed when p_up >= up_enter has lasted t_up, DOWN
    (only after an UP) when p_down >= down_enter has lasted t_down; one repetition is counted when UP
    is confirmed again. p_down None means "anything but UP": p_down = 1 - p_up. touch: the repetition
    also needs p_touch (e.g. the named class) >= touch in at least one frame of the excursion.
    Frames with nobody break every run (they confirm nothing). list of (down_t, up_again_t)."""
    if p_down is None:
        p_down = 1 - p_up
    probs = {"up": p_up, "down": p_down}
    enters = {"up": up_enter, "down": down_enter}
    holds = {"up": t_up, "down": t_down}
    runs = {k: None for k in probs}          # (start_t, length_s)
    reps, state, down_t, down_i = [], None, None, None
    for i, (ti, di) in enumerate(zip(t, dt)):
        for k in ("up", "down"):
            pi = probs[k][i]
            if not np.isnan(pi) and pi >= enters[k]:
                start, length = runs[k] or (ti, 0.0)
                runs[k] = (start, length + di)
            else:
                runs[k] = None
        for k in ("up", "down"):
            if runs[k] is None or runs[k][1] < holds[k] - 1e-9 or state == k:
                continue
            if k == "down" and state is None:
                continue                       # a DOWN before any UP is not a repetition
            if k == "down":
                state, down_t, down_i = "down", runs[k][0], i
            else:
                if state == "down":
                    ok = True
                    if touch is not None:
                        j0 = int(np.searchsorted(t, down_t))
                        seg = p_touch[j0:i + 1]
                        ok = bool(np.nanmax(seg) >= touch) if np.isfinite(seg).any() else False
                    if ok:
                        reps.append((down_t, runs[k][0]))
                state = "up"
    if flush and state == "down":
        reps.append((down_t, float(t[-1] + dt[-1])))
    return reps


# ------------------------------------------------------------------------------------- scoring
def match(counted, truth):
    """One-to-one match of counted (a, b) to true (start, end) intervals by overlap (greedy, largest
    overlap first); a pair needs an overlap of at least MIN_OVERLAP of the shorter of the two
    intervals (so a short chair bump inside a squat matches it, but raising the arms just before
    the first squat, mostly outside it, does not pass for that squat).
    Returns TP, FP, FN."""
    pairs = []
    for i, (a, b) in enumerate(counted):
        for j, (s, e) in enumerate(truth):
            ov = min(b, e) - max(a, s)
            if ov > 0 and ov >= MIN_OVERLAP * min(b - a, e - s):
                pairs.append((ov, i, j))
    pairs.sort(reverse=True)
    used_i, used_j = set(), set()
    for ov, i, j in pairs:
        if i not in used_i and j not in used_j:
            used_i.add(i); used_j.add(j)
    tp = len(used_i)
    return tp, len(counted) - tp, len(truth) - tp


def evaluate(counter, clips, truth_times, squat_only=True):
    """counter(df) -> reps. Per clip: counted, true, TP, FP, FN."""
    rows = []
    for clip, ex in clips:
        df = load_frames(clip)
        reps = counter(df)
        tr = truth_times[truth_times["clip"] == clip][["start_s", "end_s"]].to_numpy().tolist()
        if ex != "squat":
            tr = []            # the chair counter should count nothing on other exercises
        tp, fp, fn = match(reps, tr)
        rows.append(dict(clip=clip, exercise=ex, true=len(tr), counted=len(reps), tp=tp, fp=fp, fn=fn))
    return pd.DataFrame(rows)


def summary(res: pd.DataFrame) -> dict:
    sq = res[res.exercise == "squat"]
    other = res[res.exercise != "squat"]
    return dict(
        squat_exact=int((sq["counted"] == sq["true"]).sum()), squat_clips=len(sq),
        squat_abs_err=int((sq["counted"] - sq["true"]).abs().sum()),
        tp=int(sq.tp.sum()), fp=int(sq.fp.sum()), fn=int(sq.fn.sum()),
        other_fp=int(other.counted.sum()),
    )


# ---------------------------------------------------------------------------------------- main
def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--grid", action="store_true", help="score the (enter, exit, T_in, T_out) grid")
    ap.add_argument("--plots", action="store_true", help="p_chair / p_tree plots per clip into plots/")
    ap.add_argument("--table", action="store_true", help="markdown table: today / held / two-state per clip")
    ap.add_argument("--dips", action="store_true", help="dips of p_chair inside true reps vs gaps between them")
    ap.add_argument("--enter", type=float, default=0.6)
    ap.add_argument("--exit", type=float, default=0.4)
    ap.add_argument("--t-in", type=float, default=0.2)
    ap.add_argument("--t-out", type=float, default=0.5)
    a = ap.parse_args()

    reps_df, times = load_truth()
    clips = list(zip(reps_df["clip"], reps_df["exercise"]))

    # today's counter, re-implemented, must agree with poseclass's JSON summary
    def today(df):
        t, p, _ = series(df, "chair")
        return count_today(t, p)
    res_today = evaluate(today, clips, times)
    official = {}
    for clip, _ in clips:
        js = FRAMES / (Path(clip).stem + ".json")
        official[clip] = json.loads(js.read_text().strip().splitlines()[-1])["counts"].get("chair", 0)
    res_today["poseclass_json"] = res_today["clip"].map(official)
    assert (res_today.counted == res_today.poseclass_json).all(), res_today
    print("== today (enter 0.6, exit 0.4, no hold) ==")
    print(res_today.to_string(index=False)); print(summary(res_today))

    def held(df, **kw):
        t, p, dt = series(df, "chair")
        return count_held(t, p, dt, **kw)

    kw = dict(enter=a.enter, exit=a.exit, t_in=a.t_in, t_out=a.t_out)
    res = evaluate(lambda df: held(df, **kw), clips, times)
    print(f"== held {kw} ==")
    print(res.to_string(index=False)); print(summary(res))

    def score_grid(name, make, grid):
        rows = []
        for params in grid:
            r = evaluate(make(**params), clips, times)
            s = summary(r)
            s.update(params)
            s["err"] = s["fp"] + s["fn"] + s["other_fp"]
            s["per_clip"] = " ".join(str(c) for c in r["counted"])
            rows.append(s)
        g = pd.DataFrame(rows).sort_values(["err", "fn", "squat_abs_err"])
        g.to_csv(HERE / f"grid_{name}.csv", index=False)
        print(f"== grid {name}: best 15 of {len(g)} by err = FP + FN (squats) + counts on other exercises ==")
        print(g.head(15).to_string(index=False))
        return g

    if a.grid:
        # 1. held counter on p_chair (--count chair)
        grid = [dict(enter=e, exit=x, t_in=ti, t_out=to, flush=f) for e, x, ti, to, f in itertools.product(
            [0.5, 0.6, 0.7, 0.8, 0.9], [0.1, 0.2, 0.3, 0.4, 0.5], [0, 0.1, 0.2, 0.3, 0.5],
            [0, 0.1, 0.2, 0.3, 0.5, 0.8, 1.0], [True, False]) if x < e]
        score_grid("held_chair", lambda **kw: (lambda df: held(df, **kw)), grid)

        # 2. two-state, down = chair, up = tree (--count chair --from tree)
        def make_cycle(enter, t_in, flush):
            def f(df):
                t, p, dt = series(df, "chair")
                _, pu, _ = series(df, "tree")
                return count_cycle(t, p, pu, dt, enter=enter, t_in=t_in, flush=flush)
            return f
        grid = [dict(enter=e, t_in=ti, flush=f) for e, ti, f in itertools.product(
            [0.5, 0.6, 0.7, 0.8], [0, 0.1, 0.2, 0.3, 0.5], [True, False])]
        score_grid("cycle_chair_from_tree", make_cycle, grid)

        # 3. two-state, down = anything but tree (an excursion away from standing): the held counter
        #    on q = 1 - p_tree (leave: p_tree <= 1 - enter held T_in; back: p_tree >= 1 - exit held T_out)
        def make_away(enter, exit, t_in, t_out, flush):
            def f(df):
                t, pu, dt = series(df, "tree")
                return count_held(t, 1 - pu, dt, enter=enter, exit=exit, t_in=t_in, t_out=t_out, flush=flush)
            return f
        grid = [dict(enter=e, exit=x, t_in=ti, t_out=to, flush=f) for e, x, ti, to, f in itertools.product(
            [0.5, 0.6, 0.7, 0.8, 0.9], [0.1, 0.2, 0.3, 0.4, 0.5], [0, 0.1, 0.2, 0.3, 0.5],
            [0, 0.1, 0.2, 0.3, 0.5, 0.8], [True, False]) if x < e]
        score_grid("away_from_tree", make_away, grid)

        # 4. two-state with a confirmed UP first: UP = tree, DOWN = anything but tree (optionally
        #    the excursion must touch chair): --count chair --from tree as "leave tree, come back"
        def make_two(up_enter, down_enter, t_up, t_down, touch):
            def f(df):
                t, pu, dt = series(df, "tree")
                _, pc, _ = series(df, "chair")
                return count_two_state(t, pu, dt, up_enter=up_enter, down_enter=down_enter, t_up=t_up,
                                       t_down=t_down, touch=touch, p_touch=pc)
            return f
        grid = [dict(up_enter=u, down_enter=d, t_up=tu, t_down=td, touch=th) for u, d, tu, td, th in itertools.product(
            [0.5, 0.6, 0.7, 0.8], [0.5, 0.6, 0.7, 0.8, 0.9], [0, 0.1, 0.2, 0.3, 0.5],
            [0, 0.1, 0.2, 0.3, 0.5, 0.8], [None, 0.5])]
        score_grid("two_state_tree", make_two, grid)

    two_kw = dict(up_enter=0.6, down_enter=0.6, t_up=0.2, t_down=0.5)

    def two(df):
        t, pu, dt = series(df, "tree")
        return count_two_state(t, pu, dt, **two_kw)

    if a.table:
        r0 = evaluate(today, clips, times)
        r1 = evaluate(lambda df: held(df, **kw), clips, times)
        r2 = evaluate(two, clips, times)
        def cell(r, i):
            row = r.iloc[i]
            return f"{row['counted']} ({row['tp']}/{row['fp']}/{row['fn']})" if row["exercise"] == "squat" else f"{row['counted']}"
        print(f"| clip | true reps | today | held {kw} | two-state tree {two_kw} |")
        print("|---|---|---|---|---|")
        for i, (clip, ex) in enumerate(clips):
            tr = int(reps_df[reps_df["clip"] == clip]["true_reps"].iloc[0])
            tr_s = str(tr) if ex == "squat" else f"{tr} {ex} (0 squats)"
            print(f"| {clip} | {tr_s} | {cell(r0, i)} | {cell(r1, i)} | {cell(r2, i)} |")
        for name, r in (("today", r0), ("held", r1), ("two-state", r2)):
            print(name, summary(r))

    if a.dips:
        # For each squat clip: inside each true rep, the longest run with p_chair <= exit between its
        # first and last frame with p_chair >= enter (a dip a single-class counter must bridge); between
        # reps, the run with p_chair <= exit (a gap it must not bridge); and the tree runs.
        print("clip: longest inner dip per rep (s) | gap between reps (s)")
        for clip, ex in clips:
            if ex != "squat":
                continue
            t, p, dt = series(load_frames(clip), "chair")
            p0 = np.nan_to_num(p, nan=0.0)
            tr = times[times["clip"] == clip][["start_s", "end_s"]].to_numpy()
            def longest_low(i0, i1):
                best = cur = 0.0
                for j in range(i0, i1):
                    cur = cur + dt[j] if p0[j] <= a.exit else 0.0
                    best = max(best, cur)
                return best
            dips, gaps = [], []
            for k, (s_, e_) in enumerate(tr):
                idx = np.where((t >= s_) & (t <= e_) & (p0 >= a.enter))[0]
                dips.append(longest_low(idx[0], idx[-1] + 1) if len(idx) else float("nan"))
                if k + 1 < len(tr):
                    i0, i1 = np.searchsorted(t, e_ - 0.5), np.searchsorted(t, tr[k + 1][0] + 0.5)
                    gaps.append(longest_low(i0, i1))
            print(f"{clip}: dips {' '.join(f'{d:.2f}' for d in dips)} | gaps {' '.join(f'{g:.2f}' for g in gaps)}")

    if a.plots:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        out = HERE / "plots"; out.mkdir(exist_ok=True)
        for clip, ex in clips:
            df = load_frames(clip)
            t, p, dt = series(df, "chair")
            _, pt, _ = series(df, "tree")
            fig, ax = plt.subplots(figsize=(14, 2.6))
            for s, e in times[times["clip"] == clip][["start_s", "end_s"]].to_numpy():
                ax.axvspan(s, e, color="orange", alpha=0.25)
            for c in [k for k in df.columns if k.startswith("p_")]:
                _, pc, _ = series(df, c[2:])
                ax.plot(t, pc, lw=1 if c not in ("p_chair",) else 1.6, label=c[2:])
            ax.axhline(0.6, color="k", lw=0.5, ls="--"); ax.axhline(0.4, color="k", lw=0.5, ls=":")
            for a_, b_ in count_today(t, p):
                ax.plot([a_, b_], [1.04, 1.04], color="red", lw=3)
            for a_, b_ in held(df, **kw):
                ax.plot([a_, b_], [1.09, 1.09], color="green", lw=3)
            for a_, b_ in two(df):
                ax.plot([a_, b_], [1.14, 1.14], color="blue", lw=3)
            ax.set_ylim(-0.02, 1.18); ax.set_xlim(0, t[-1]); ax.legend(loc="lower right", fontsize=7, ncol=5)
            ax.set_title(f"{clip} ({ex}): orange = true reps; red = today's counted; green = held; blue = two-state (tree)", fontsize=9)
            fig.tight_layout(); fig.savefig(out / (Path(clip).stem + ".png"), dpi=80); plt.close(fig)


if __name__ == "__main__":
    main()
