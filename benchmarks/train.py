"""Issue 21: how long ``poseclass train`` takes, by phase, against the TFLite tutorial's training cell.

    .venv/bin/python benchmarks/train.py                  # the table (about 2-4 minutes on 2 cores)
    .venv/bin/python benchmarks/train.py --repeats 3      # medians of 3 runs of each

Data: the 1,000 CGI images of ``yoga_poses/`` (train/ only, so 20 % is held out for validation:
800 training poses, 200 validation), keypoints from the preprocess cache (warmed first, not
timed). Every measurement runs in a fresh Python process, one at a time, in this order per
repeat:

* ``poseclass train DATA --out MODEL -q`` as a user runs it (end to end, wall clock);
* the same in-process, timed by phase (import, load keypoints, fit, export, score (and the
  rest), deploy = metadata + fused model, pictures: drawn in a thread during deploy, so their
  time overlaps deploy's and is not part of the sum), with today's recipe (numpy trainer, fused model joined
  from the cached MoveNet part) and the one before issue 21 (Keras ``fit`` for 400 epochs without
  arm swap or view, fused model converted in one piece; "unknown" on in both);
* the public TFLite tutorial's training cell (``model.compile`` + ``model.fit``): Dense 128
  relu6, Dropout 0.5, Dense 64 relu6, Dropout 0.5, softmax, the tutorial's landmark embedding
  layer, Adam, batch 16, 578 training and 103 validation rows (CGI keypoints), 61 epochs, the
  best-checkpoint callback; ``verbose=0``. Its imports are timed apart and not counted.

Ratios are to the tutorial cell of the same repeat. Peak memory is each process's max RSS.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from run import DATASETS, table  # benchmarks/run.py, beside this file

DATA = DATASETS / "yoga_poses"
HERE = Path(__file__).resolve()
PHASES = ("import", "load", "fit", "export", "score", "deploy", "pictures")


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def phases(out: str, trainer: str, fused: str) -> dict[str, float]:
    """``poseclass.training.train.train`` in this process, each phase timed."""
    os.environ["POSECLASS_FUSED"] = fused
    times = dict.fromkeys(PHASES, 0.0)
    start = time.perf_counter()
    from poseclass.data import pictures
    from poseclass.training import classifier
    from poseclass.training import train as train_module

    times["import"] = time.perf_counter() - start

    def timed(owner: object, name: str, phase: str) -> None:
        original = getattr(owner, name)

        def wrapper(*args: object, **kwargs: object) -> object:
            t = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                times[phase] += time.perf_counter() - t

        setattr(owner, name, wrapper)

    timed(train_module, "load_splits", "load")
    timed(train_module, "write_deploy", "deploy")
    for name in ("plot_history", "plot_confusion", "plot_gallery"):
        timed(pictures, name, "pictures")
    create, export = classifier.PoseClassifier.create, classifier.PoseClassifier.export

    def timed_create(*args: object, **kwargs: object) -> object:
        t = time.perf_counter()
        clf = create(*args, **kwargs)
        times["fit"] += time.perf_counter() - t
        return clf

    classifier.PoseClassifier.create = timed_create
    timed(classifier.PoseClassifier, "export", "export")
    t = time.perf_counter()
    # before issue 21: Keras fit, 400 epochs, without the numpy trainer's arm swap and view (issue 22);
    # "unknown" stays on in both runs (its fold models use the numpy trainer either way)
    before = {"arm_swap": 0.0, "view": 0.0, "epochs": 400} if trainer == "keras" else {}
    result = train_module.train(DATA, out, progress=False, trainer=trainer, **before)
    total = time.perf_counter() - t
    classifier.PoseClassifier.create, classifier.PoseClassifier.export = create, export
    # pictures are drawn in a thread while deploy runs: their time overlaps, and is not subtracted
    times["score"] = total - sum(times[p] for p in PHASES if p not in ("import", "pictures", "score"))
    times["total"] = time.perf_counter() - start
    times["validation_accuracy"] = result.metrics["validation"]["accuracy"]
    return times


def tutorial() -> dict[str, float]:
    """The tutorial's training cell on CGI keypoints: seconds for compile + fit (imports apart)."""
    start = time.perf_counter()
    import keras
    import numpy as np
    from keras import ops

    from poseclass.training.dataset import load_splits

    imported = time.perf_counter() - start
    data = load_splits(DATA, progress=False)["train"]
    x = data.features().reshape(len(data), 51)
    y = keras.utils.to_categorical(data.y, len(data.labels))
    order = np.random.default_rng(0).permutation(len(x))
    train_idx, val_idx = order[:578], order[578:681]

    class Embedding(keras.layers.Layer):
        """The tutorial's landmarks_to_embedding: hips-centred, scaled by max(2.5 torso, norm), flattened."""

        def call(self, inputs):
            landmarks = ops.reshape(inputs, (-1, 17, 3))[:, :, :2]
            center = (landmarks[:, 11] + landmarks[:, 12]) / 2
            landmarks = landmarks - center[:, None, :]
            torso = ops.sqrt(ops.sum(ops.square((landmarks[:, 5] + landmarks[:, 6]) / 2), axis=-1)) * 2.5
            # the tutorial's tf.linalg.norm without an axis: one number for the whole batch
            spread = ops.max(ops.sqrt(ops.sum(ops.square(landmarks), axis=(0, 2))))
            size = ops.maximum(torso, spread)
            return ops.reshape(landmarks / size[:, None, None], (-1, 34))

    inputs = keras.Input(shape=(51,))
    layer = Embedding()(inputs)
    layer = keras.layers.Dense(128, activation="relu6")(layer)
    layer = keras.layers.Dropout(0.5)(layer)
    layer = keras.layers.Dense(64, activation="relu6")(layer)
    layer = keras.layers.Dropout(0.5)(layer)
    outputs = keras.layers.Dense(len(data.labels), activation="softmax")(layer)
    model = keras.Model(inputs, outputs)
    with tempfile.TemporaryDirectory() as work:
        t = time.perf_counter()
        model.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
        checkpoint = keras.callbacks.ModelCheckpoint(str(Path(work) / "weights.best.weights.h5"),
                                                     monitor="val_accuracy", save_best_only=True, mode="max",
                                                     save_weights_only=True)
        model.fit(x[train_idx], y[train_idx], epochs=61, batch_size=16, validation_data=(x[val_idx], y[val_idx]),
                  callbacks=[checkpoint], verbose=0)
        cell = time.perf_counter() - t
    return {"cell": cell, "import": imported}


def child(args: list[str]) -> dict[str, float]:
    """Run this file in a fresh process; its JSON answer (with its peak memory)."""
    done = subprocess.run([sys.executable, str(HERE), "--child", *args], check=False, capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": str(HERE.parents[1])})
    if done.returncode:
        raise RuntimeError(done.stderr[-2000:])
    return json.loads(done.stdout.strip().splitlines()[-1])


def cli(out: str) -> dict[str, float]:
    """``poseclass train`` end to end, as a user runs it (wall clock from outside, peak memory from inside)."""
    t = time.perf_counter()
    result = child(["cli", out])
    return {**result, "total": time.perf_counter() - t}


def run_cli(out: str) -> dict[str, float]:
    """In the child: ``python -m poseclass train DATA --out OUT -q``."""
    import runpy

    sys.argv = ["poseclass", "train", str(DATA), "--out", out, "-q"]
    try:
        runpy.run_module("poseclass", run_name="__main__")
    except SystemExit as stop:
        if stop.code:
            raise
    return {}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        kind, *rest = args.child
        result = tutorial() if kind == "tutorial" else run_cli(*rest) if kind == "cli" else phases(*rest)
        print(f"\n{json.dumps({**result, 'peak_mb': peak_mb()})}")
        return

    with tempfile.TemporaryDirectory() as work:
        child(["phases", f"{work}/warm", "numpy", "join"])  # keypoint cache and the MoveNet part, not timed
        runs: dict[str, list[dict[str, float]]] = {"tutorial": [], "cli": [], "after": [], "before": []}
        for repeat in range(args.repeats):
            runs["tutorial"].append(child(["tutorial"]))
            runs["cli"].append(cli(f"{work}/cli{repeat}"))
            runs["after"].append(child(["phases", f"{work}/after{repeat}", "numpy", "join"]))
            runs["before"].append(child(["phases", f"{work}/before{repeat}", "keras", "convert"]))

    def median(kind: str, key: str) -> float:
        return statistics.median(r.get(key, 0.0) for r in runs[kind])

    cell = median("tutorial", "cell")
    rows = []
    for kind, label in (("before", "before issue 21: Keras fit, fused model converted whole"),
                        ("after", "numpy trainer, fused model joined to the cached MoveNet part")):
        rows.append([label, *(median(kind, p) for p in PHASES), median(kind, "total"),
                     median(kind, "total") / cell, median(kind, "peak_mb")])
    rows.append(["`poseclass train DATA --out MODEL -q` (end to end, after)", *["" for _ in PHASES],
                 median("cli", "total"), median("cli", "total") / cell, median("cli", "peak_mb")])
    rows.append(["tutorial training cell (compile + fit, 61 epochs)", *["" for _ in PHASES], cell, 1.0,
                 median("tutorial", "peak_mb")])
    table(f"poseclass train on {DATA.name} (800 train + 200 validation poses; 800 epochs, before: 400), seconds; "
          f"median of {args.repeats}",
          ["run", *PHASES, "total", "x tutorial cell", "peak MB"], rows)
    print(f"\ntutorial imports (not counted): {median('tutorial', 'import'):.2f} s; validation accuracy "
          f"before {median('before', 'validation_accuracy'):.3f}, after {median('after', 'validation_accuracy'):.3f}; "
          f"load average {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
