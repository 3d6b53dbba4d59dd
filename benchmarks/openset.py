"""Open-set quality of "unknown" (issue 22): classes left out of training must come out unknown.

    .venv/bin/python benchmarks/openset.py --yoga10 data/yoga10 [--seeds 0,1]

* **yoga10**: 2 of the 10 classes left out in turn (5 disjoint pairs), a model trained on the other 8
  of train/ (its "unknown" threshold learned as ``poseclass train`` learns it); known: the test images
  of the 8; unknown: every image of the 2 left out.
* **CGI** (the example images): 1 of the 5 classes left out in turn, girl1 held out as the new person,
  the other subjects as groups (as ``train --group-pattern`` gives them); known: girl1's images of the 4; unknown: every
  image of the class left out.

AUROC of the top probability (1: every unknown pose below every known one), the share of known poses
named right and not unknown, and the share of the left-out classes' poses answered unknown.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from run import ROOT, table  # noqa: E402  (benchmarks/run.py: the table with the CPU's int8 line)

SUBJECT = r"^[a-z]+\d*"


def scores(x, y, num_classes, known_x, known_y, unknown_x, seed, groups=None) -> tuple[float, float, float]:
    """(AUROC, known right and kept, unknown rejected) of a model trained on ``x, y`` (known classes only)."""
    from sklearn.metrics import roc_auc_score

    from poseclass.training import classifier as C

    model, _, _, rule = C.train(x, y, num_classes, C.TrainConfig(seed=seed), verbose=0, groups=groups)
    below = rule["unknown_below"]
    known_p = np.asarray(model(known_x.reshape(-1, 1, 17, 3), training=False))
    unknown_top = np.asarray(model(unknown_x.reshape(-1, 1, 17, 3), training=False)).max(axis=1)
    tops = np.concatenate([known_p.max(axis=1), unknown_top])
    auroc = roc_auc_score(np.r_[np.zeros(len(known_p)), np.ones(len(unknown_top))], -tops)
    kept = ((known_p.argmax(axis=1) == known_y) & (known_p.max(axis=1) >= below)).mean()
    return float(auroc), float(kept), float((unknown_top < below).mean())


def remap(y: np.ndarray, left_out: set[int]) -> np.ndarray:
    """Class indices of the known classes, renumbered 0..k-1 in order."""
    known = [c for c in range(int(y.max()) + 1) if c not in left_out]
    lookup = {c: i for i, c in enumerate(known)}
    return np.array([lookup.get(int(c), -1) for c in y])


def yoga10(root: Path, seed: int) -> list[list[object]]:
    from poseclass.training.dataset import load_splits

    splits = load_splits(root, progress=False)
    train, test = splits["train"], splits["test"]
    labels, train_x, test_x = train.labels, train.features(), test.features()
    pairs = [(i, i + 5) for i in range(5)]  # disjoint pairs, each across the sorted list
    rows = []
    for pair in pairs:
        out = set(pair)
        keep_tr, keep_te = ~np.isin(train.y, pair), ~np.isin(test.y, pair)
        unknown_x = np.concatenate([train_x[~keep_tr], test_x[~keep_te]])
        result = scores(train_x[keep_tr], remap(train.y, out)[keep_tr], len(labels) - len(out),
                        test_x[keep_te], remap(test.y, out)[keep_te], unknown_x, seed)
        rows.append(["yoga10", " + ".join(labels[c] for c in pair), seed, *result])
    return rows


def cgi(root: Path, seed: int) -> list[list[object]]:
    from poseclass.training.dataset import load_splits

    data = load_splits(root, progress=False)["train"]
    groups = np.array(data.groups(SUBJECT))
    x, y, labels = data.features(), np.asarray(data.y), data.labels
    rows = []
    for c in range(len(labels)):
        train = (groups != "girl1") & (y != c)
        known = (groups == "girl1") & (y != c)
        result = scores(x[train], remap(y, {c})[train], len(labels) - 1,
                        x[known], remap(y, {c})[known], x[y == c], seed, groups[train])
        rows.append(["CGI (girl1 held out)", labels[c], seed, *result])
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--yoga10", default=str(ROOT / "data" / "yoga10"), help="yoga10 staged (train/ and test/)")
    parser.add_argument("--cgi", default=str(ROOT.parent / "shared" / "datasets" / "yoga_poses" / "train"))
    parser.add_argument("--seeds", default="0", help="comma-separated seeds (default 0)")
    args = parser.parse_args()
    rows = []
    for seed in (int(s) for s in args.seeds.split(",")):
        if Path(args.yoga10).exists():
            rows += yoga10(Path(args.yoga10), seed)
        rows += cgi(Path(args.cgi), seed)
    for name in dict.fromkeys(r[0] for r in rows):
        mine = [r for r in rows if r[0] == name]
        rows.append([name, "mean", "", *np.mean([r[3:] for r in mine], axis=0)])
    shown = [[*r[:3], f"{r[3]:.3f}", f"{r[4]:.1%}", f"{r[5]:.1%}"] for r in rows]
    table("Open set: classes left out of training", ["data", "left out", "seed", "AUROC",
                                                     "known right and kept", "left-out called unknown"], shown)


if __name__ == "__main__":
    main()
