"""The fused image → probabilities model against the two-file chain, on a subject never trained on.

    .venv/bin/python benchmarks/fused.py [MODEL_DIR]

Without MODEL_DIR a model is trained as tests/conftest.py's ``trained`` fixture does: every
subject but girl1, validation split by subject. Every girl1 image then goes through

* the two-file chain, ``PosePipeline.predict`` (the folder's MoveNet, crop refinement as trained);
* the same chain held to one MoveNet pass, which separates the cost of dropping refinement
  from the cost of the float graph;
* that one-pass chain on the float MoveNet graph the fused model holds (when the folder's is int8),
  which separates the cost of float weights from the cost of fusing;
* the fused model on LiteRT, fed the letterboxed square an app would make (timed with it).

Prints a Markdown table: accuracy, top-class agreement with the chain, ms per image (all in
one loop, image by image, so they share the machine's state). Data: ../shared/datasets (or
$POSECLASS_DATASETS).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from run import (  # benchmarks/run.py, beside this file: data paths, the table with the CPU's int8 line
    SUBJECT,
    TRAIN,
    table,
)

HELD_OUT = "girl1"


def train_without_held_out(out: Path) -> Path:
    """Train and export a model on every subject but ``HELD_OUT`` (the conftest ``trained`` recipe)."""
    from poseclass.training.classifier import PoseClassifier
    from poseclass.training.dataset import load_splits

    yoga = load_splits(TRAIN, progress=False)["train"]
    subjects = np.array(yoga.groups(SUBJECT))
    train_data, val_data = yoga.subset(subjects != HELD_OUT).split(0.2, SUBJECT, seed=0)
    return PoseClassifier.create(train_data, val_data, verbose=0).export(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("model_dir", nargs="?", type=Path, help="an exported model folder (default: train one)")
    args = parser.parse_args()

    from poseclass.classify.folder import TFLITE_NAME, ModelFolder
    from poseclass.classify.pipeline import PosePipeline
    from poseclass.deploy.fused import build_fused, graph_variant, input_size, letterbox
    from poseclass.images import load_rgb
    from poseclass.pose import litert
    from poseclass.pose.models import ensure_model

    with tempfile.TemporaryDirectory() as work:
        model_dir = args.model_dir or train_without_held_out(Path(work) / "model")
        start = time.perf_counter()
        fused_bytes = build_fused(model_dir)
        build_s = time.perf_counter() - start
        fused_path = Path(work) / "fused.tflite"
        fused_path.write_bytes(fused_bytes)

        folder = ModelFolder.open(model_dir)
        variant = folder.variant
        chain_files = (TFLITE_NAME, folder.manifest["movenet"]["file"])
        chain_bytes = sum((Path(model_dir) / name).stat().st_size for name in chain_files)
        chain = PosePipeline.load(model_dir)
        one_pass = PosePipeline.load(model_dir, passes=1)
        graph = graph_variant(variant)
        float_pass = PosePipeline.load(model_dir, ensure_model(graph), passes=1) if graph != variant else None
        fused = litert.interpreter(fused_path)  # same thread count as the chain's MoveNet
        size = input_size(model_dir)
        image_index = fused.get_input_details()[0]["index"]
        probabilities_index = fused.get_output_details()[0]["index"]

        def run_fused(picture: object) -> str:
            fused.set_tensor(image_index, letterbox(picture, size)[None])
            fused.invoke()
            return chain.labels[int(fused.get_tensor(probabilities_index)[0].argmax())]

        files = sorted(TRAIN.glob(f"*/{HELD_OUT}_*"))
        warm = load_rgb(files[0])
        runs = {"chain": lambda p: chain.predict(p).label, "one_pass": lambda p: one_pass.predict(p).label}
        if float_pass is not None:
            runs["float_pass"] = lambda p: float_pass.predict(p).label
        runs["fused"] = run_fused
        for run in runs.values():
            run(warm)
        answers: dict[str, list[str | None]] = {name: [] for name in runs}
        times: dict[str, list[float]] = {name: [] for name in runs}
        inferences = chain.movenet.inferences
        for path in files:
            picture = load_rgb(path)
            for name, run in runs.items():
                start = time.perf_counter()
                answers[name].append(run(picture))
                times[name].append((time.perf_counter() - start) * 1000)
        refined = chain.movenet.inferences - inferences - len(files)  # images given a second, zoomed-in pass

    truth = [path.parent.name for path in files]
    passes = folder.detector_settings["passes"]
    described = {
        "chain": f"two-file chain (`poseclass predict`): MoveNet {variant}, up to {passes} passes",
        "one_pass": f"two-file chain, MoveNet {variant}, 1 pass",
        "float_pass": f"two-file chain, MoveNet {graph} (float), 1 pass",
        "fused": f"fused file: MoveNet {graph} float graph, 1 pass (letterbox included)",
    }
    rows = []
    for name, got in answers.items():
        accuracy = float(np.mean([g == t for g, t in zip(got, truth)]))
        agreement = float(np.mean([g == c for g, c in zip(got, answers["chain"])]))
        rows.append([described[name], f"{accuracy:.1%}", f"{agreement:.1%}", f"{statistics.median(times[name]):.1f}"])
    table(f"Fused model vs two-file chain: {len(files)} images of {HELD_OUT}, never trained on",
          ["model", "accuracy", "top class = chain's", "ms / image (median)"], rows)
    print(f"\nfused file {len(fused_bytes) / 1e6:.1f} MB (two-file chain {chain_bytes / 1e6:.1f} MB); "
          f"built in {build_s:.0f} s; the chain refined the crop on {refined} of {len(files)} images and "
          f"found nobody on {sum(label is None for label in answers['chain'])}")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
