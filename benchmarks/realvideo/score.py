"""Score per-frame predictions against the hand-marked stretches of the realvideo set.

usage: score.py [--stretches stretches.csv] [--pred predictions/] [--json out.json]

For every stretch of stretches.csv (clip,start_s,end_s,pose,taught,note) it takes the rows of
PRED/<clip stem>.csv (written by `poseclass predict CLIP --out ...`) whose time_s lies in
[start_s, end_s]. Taught stretches: share of frames whose `label` is the stretch's pose (a frame
with no pose, status != ok, counts as wrong). Untaught stretches: which taught labels the
classifier gives instead and how confident it is (top probability).
Prints per stretch, per pose, and overall (frame-weighted and mean over stretches)."""
import argparse, json, os
import pandas as pd

ap = argparse.ArgumentParser()
here = os.path.dirname(os.path.abspath(__file__))
ap.add_argument("--stretches", default=os.path.join(here, "stretches.csv"))
ap.add_argument("--pred", default=os.path.join(here, "predictions"))
ap.add_argument("--json", default=None)
a = ap.parse_args()

st = pd.read_csv(a.stretches)
rows, cache = [], {}
for s in st.itertuples():
    stem = os.path.splitext(s.clip)[0]
    if stem not in cache:
        p = os.path.join(a.pred, stem + ".csv")
        cache[stem] = pd.read_csv(p) if os.path.exists(p) else None
    f = cache[stem]
    if f is None:
        print(f"no predictions for {s.clip}"); continue
    w = f[(f.time_s >= s.start_s - 1e-6) & (f.time_s <= s.end_s + 1e-6)]
    ok = w[w.status == "ok"]
    pcols = [c for c in f.columns if c.startswith("p_")]
    top = ok[pcols].max(axis=1) if len(ok) else pd.Series(dtype=float)
    labels = ok.label.value_counts()
    r = dict(clip=s.clip, start_s=s.start_s, end_s=s.end_s, pose=s.pose, taught=s.taught,
             frames=len(w), no_pose=int((w.status != "ok").sum()),
             right=int((ok.label == s.pose).sum()) if s.taught == "yes" else None,
             top_labels=", ".join(f"{k} {v/len(w):.0%}" for k, v in labels.head(3).items()),
             mean_top_p=float(top.mean()) if len(top) else float("nan"),
             share_top_p_over_0_9=float((top > 0.9).mean()) if len(top) else float("nan"))
    if s.taught == "yes":
        r["share_right"] = r["right"] / len(w) if len(w) else float("nan")
    rows.append(r)
R = pd.DataFrame(rows)
pd.set_option("display.width", 250); pd.set_option("display.max_colwidth", 60); pd.set_option("display.max_rows", 200)
T = R[R.taught == "yes"].copy(); U = R[R.taught == "no"].copy()
print("== taught stretches (share of frames right)")
print(T[["clip", "start_s", "end_s", "pose", "frames", "no_pose", "share_right", "top_labels"]].to_string(index=False, float_format=lambda x: f"{x:.2f}"))
per_pose = T.groupby("pose").agg(stretches=("frames", "size"), frames=("frames", "sum"), right=("right", "sum"))
per_pose["share_right"] = per_pose.right / per_pose.frames
print("\n== per taught pose (frame-weighted)"); print(per_pose.to_string(float_format=lambda x: f"{x:.3f}"))
overall = dict(frames=int(T.frames.sum()), right=int(T.right.sum()),
               share_right_frames=float(T.right.sum() / T.frames.sum()),
               mean_share_right_stretches=float(T.share_right.mean()),
               mean_share_right_poses=float(per_pose.share_right.mean()),
               no_pose_frames=int(T.no_pose.sum()))
print("\n== overall (taught):", json.dumps(overall))
print("\n== untaught stretches (what the classifier says instead)")
print(U[["clip", "start_s", "end_s", "pose", "frames", "top_labels", "mean_top_p", "share_top_p_over_0_9"]].to_string(index=False, float_format=lambda x: f"{x:.2f}"))
if len(U):
    print("untaught frames with top probability > 0.9: "
          f"{(U.share_top_p_over_0_9 * U.frames).sum() / U.frames.sum():.1%} of {int(U.frames.sum())}")
if a.json:
    json.dump(dict(overall=overall, per_pose=per_pose.reset_index().to_dict("records"),
                   stretches=R.to_dict("records")), open(a.json, "w"), indent=1, default=str)
