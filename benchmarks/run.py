"""poseclass benchmarks: one command, tables on stdout.

    .venv/bin/python benchmarks/run.py                 # everything (about 10 minutes here)
    .venv/bin/python benchmarks/run.py preprocess      # one section: preprocess, passes, predict, dask

Data: ../shared/datasets (or $POSECLASS_DATASETS). Speed lives here, not in the tests.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from poseclass.pose.models import SINGLE_POSE_VARIANTS as VARIANTS  # MultiPose: benchmarks/multipose.py

ROOT = Path(__file__).resolve().parents[1]
DATASETS = Path(os.environ.get("POSECLASS_DATASETS", ROOT.parent / "shared" / "datasets"))
TRAIN = DATASETS / "yoga_poses" / "train"
SUBJECT = r"^[a-z]+\d*"  # CGI file-name prefix naming the person photographed (girl1, guy2, ...)
POSE_TEST = DATASETS / "pose_test_data"
CORES = os.cpu_count() or 1


def cpu_int8() -> str:
    """The CPU's int8 dot-product support, which decides whether int8 models run faster than float."""
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return "unknown (no /proc/cpuinfo)"
    flags = set(next((line.split(":", 1)[1].split() for line in text.splitlines()
                      if line.startswith(("flags", "Features"))), []))
    model = next((line.split(":", 1)[1].strip() for line in text.splitlines() if line.startswith("model name")), "?")
    found = [name for flag, name in (("avx512_vnni", "AVX512-VNNI"), ("avx_vnni", "AVX-VNNI"),
                                     ("amx_int8", "AMX-INT8"), ("asimddp", "Arm dot-product")) if flag in flags]
    return f"{model}: int8 dot-product instructions: {', '.join(found) if found else 'none (int8 no faster than float)'}"


def table(title: str, header: list[str], rows: list[list[object]]) -> None:
    """Print a plain-text table (also valid Markdown), with the CPU's int8 capability beside it."""
    cells = [header] + [[f"{c:.3g}" if isinstance(c, (float, np.floating)) else str(c) for c in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(header))]
    print(f"\n## {title}\n")
    for n, row in enumerate(cells):
        print("| " + " | ".join(c.ljust(w) for c, w in zip(row, widths)) + " |")
        if n == 0:
            print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    print(f"\nCPU: {cpu_int8()}; {CORES} cores")
    sys.stdout.flush()


def images() -> list[Path]:
    return sorted(TRAIN.glob("*/*.jpg"))


def tutorial_way(limit: int) -> float:
    """The public tutorial's pipeline: TF decoding, 3 Thunder passes per image, one process (img/s)."""
    import tensorflow as tf
    from PIL import Image

    from poseclass.pose.movenet import MoveNet, body_crop, full_frame

    net = MoveNet("thunder")
    files = images()[:limit]
    start = time.perf_counter()
    for path in files:
        pixels = tf.io.decode_jpeg(tf.io.read_file(str(path))).numpy()
        image = Image.fromarray(pixels)
        crop = full_frame(*image.size)
        for _ in range(3):
            xy, scores = net._infer(image, crop)
            crop = body_crop(xy, scores, *image.size)
    return len(files) / (time.perf_counter() - start)


def bench_preprocess() -> None:
    from poseclass.data.preprocess import preprocess
    from poseclass.pose.movenet import MoveNet

    limit = 200
    baseline = tutorial_way(limit)
    rows = [[f"tutorial way (TF decode, 3 Thunder passes), first {limit}", 1, limit, "", baseline, 1.0, ""]]
    n = len(images())
    for variant in VARIANTS:
        for workers in sorted({1, CORES}):
            with tempfile.TemporaryDirectory() as out:
                start = time.perf_counter()
                result = preprocess(TRAIN, out, variant=variant, workers=workers, progress=False)
                seconds = time.perf_counter() - start
            rows.append([f"poseclass preprocess, {variant}", workers, n, round(seconds, 1), n / seconds,
                         n / seconds / baseline, len(result.skipped)])
    table(f"Preprocess throughput on {TRAIN} ({n} images, {CORES} cores)",
          ["pipeline", "workers", "images", "wall s", "images/s", "x tutorial", "skipped"], rows)

    rows = []
    for variant in VARIANTS:
        net = MoveNet(variant)
        path = POSE_TEST / "image2.jpeg"
        net.detect(path)
        times = []
        for _ in range(30):
            start = time.perf_counter()
            net.detect(path)
            times.append((time.perf_counter() - start) * 1000)
        rows.append([variant, net.input_size, statistics.median(times), min(times)])
    table("Single-image detect latency (warm, decode + MoveNet, image2.jpeg 399x640)",
          ["variant", "input px", "median ms", "min ms"], rows)


def _mean_gap(poses: list, references: list, scale: float) -> float:
    """Mean distance between two sets of poses over the reference's confident keypoints, in % of ``scale``."""
    gaps = []
    for pose, ref in zip(poses, references):
        keep = ref.scores > 0.3
        if keep.any():
            gaps.append(np.linalg.norm(pose.xy - ref.xy, axis=1)[keep].mean())
    return float(np.mean(gaps)) / scale * 100


def bench_passes() -> None:
    """Accuracy vs cost of the crop-refinement policy (how the default was chosen)."""
    import pandas as pd
    from PIL import Image

    from poseclass.images import load_rgb
    from poseclass.pose.keypoints import Pose
    from poseclass.pose.movenet import MoveNet

    truth = pd.read_csv(POSE_TEST / "pose_landmark_truth.csv").to_numpy(np.float32).reshape(2, 17, 2)
    files = images()[::4]
    # Small people: 60 yoga images shrunk to 100x100 and pasted at (500, 300) into a 900x900 grey frame.
    # Their reference is the 3-pass Thunder answer on the full-size image, mapped into that frame.
    originals = [load_rgb(p) for p in files[:60]]
    small = []
    for im in originals:
        canvas = Image.new("RGB", (900, 900), (120, 120, 120))
        canvas.paste(im.resize((100, 100), Image.Resampling.LANCZOS), (500, 300))
        small.append(canvas)
    tutorial = MoveNet("thunder", passes=3, refine_below=10.0)
    small_ref = [Pose(p.xy / 3 + (500, 300), p.scores, 900, 900) for p in (tutorial.detect(im) for im in originals)]
    reference = [tutorial.detect(p) for p in files]
    policies = [("1 pass", 1, 0.0), ("2 passes if crop < 0.5", 2, 0.5), ("2 passes if crop < 0.7 (default)", 2, 0.7),
                ("2 passes if crop < 0.9", 2, 0.9), ("3 passes always (tutorial)", 3, 10.0)]
    rows = []
    for variant in VARIANTS:
        for label, passes, below in reversed(policies):
            net = MoveNet(variant, passes=passes, refine_below=below)
            truth_err = np.stack([np.linalg.norm(net.detect(POSE_TEST / f).xy - truth[i], axis=1)
                                  for i, f in enumerate(["image1.png", "image2.jpeg"])])
            net.inferences = 0
            start = time.perf_counter()
            poses = [net.detect(p) for p in files]
            per_image_ms = (time.perf_counter() - start) / len(files) * 1000
            inferences = net.inferences / len(files)
            small_err = _mean_gap([net.detect(c) for c in small], small_ref, 100)
            rows.append([variant, label, truth_err.max(), truth_err.mean(), inferences, per_image_ms, _mean_gap(poses, reference, 300), small_err])
    table("Crop refinement: accuracy vs cost (yoga: every 4th train image, 300 px; small: 60 of them at 100 px in 900 px)",
          ["variant", "policy", "truth: max px err", "truth: mean px err", "passes/img", "ms/img", "yoga: gap to tutorial, % side",
           "small person: error, % of person"], rows)


def _timed(args: list[str], env: dict[str, str] | None = None) -> float:
    start = time.perf_counter()
    done = subprocess.run(args, capture_output=True, text=True, env=env)
    if done.returncode != 0:
        raise RuntimeError(done.stderr[-2000:])
    return time.perf_counter() - start


def bench_predict_and_train() -> None:
    """Cold `poseclass predict` (new process each run) and `poseclass train` with an empty and a warm cache."""
    poseclass = str(Path(sys.executable).with_name("poseclass"))
    image = str(POSE_TEST / "image3.jpeg")
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "POSECLASS_HOME": str(Path(tmp) / "home")}
        # The empty cache must not re-convert MoveNet: copy the provisioned models in.
        from poseclass.pose.models import cached_path

        (Path(tmp) / "home" / "models").mkdir(parents=True)
        for variant in VARIANTS:
            source = cached_path(variant)
            for suffix in ("", ".json"):
                (Path(tmp) / "home" / "models" / (source.name + suffix)).write_bytes(Path(str(source) + suffix).read_bytes())
        model = str(Path(tmp) / "model")
        cold = _timed([poseclass, "train", str(TRAIN), "--out", model, "--json"], env)
        warm = _timed([poseclass, "train", str(TRAIN), "--out", model, "--json"], env)
        rows.append(["poseclass train (1,000 images), empty keypoint cache", cold])
        rows.append(["poseclass train (1,000 images), warm keypoint cache", warm])
        times = [_timed([poseclass, "predict", image, "--model", model], env) for _ in range(7)]
        rows.append(["cold `poseclass predict image3.jpeg` (median of 7)", statistics.median(times)])
        imports = [_timed([sys.executable, "-c", "import tensorflow"]) for _ in range(3)]
        rows.append(["for scale: `python -c 'import tensorflow'` (median of 3)", statistics.median(imports)])
    table("Train and cold predict wall time", ["what", "seconds"], rows)


def bench_dask() -> None:
    """The local process pool against a Dask LocalCluster with as many worker processes, same images, same cores."""
    import logging

    from distributed import Client, LocalCluster

    from poseclass.data.preprocess import preprocess

    n = len(images())
    rows = []
    with tempfile.TemporaryDirectory() as out:
        start = time.perf_counter()
        preprocess(TRAIN, Path(out) / "local", workers=CORES, progress=False)
        local = n / (time.perf_counter() - start)
        rows.append([f"local process pool, {CORES} workers", n, local, 1.0, CORES / local * 1000])
        start = time.perf_counter()
        with LocalCluster(n_workers=CORES, threads_per_worker=1, processes=True, dashboard_address=None,
                          silence_logs=logging.ERROR) as cluster, Client(cluster) as client:
            startup = time.perf_counter() - start
            start = time.perf_counter()
            preprocess(TRAIN, Path(out) / "dask", progress=False, executor=client)
            dask = n / (time.perf_counter() - start)
        same = all((Path(out) / "local" / f).read_bytes() == (Path(out) / "dask" / f).read_bytes()
                   for f in ("all.csv", "skipped.csv", "labels.txt"))
        rows.append([f"Dask LocalCluster, {CORES} workers (started in {startup:.1f} s, not counted)", n, dask,
                     dask / local, CORES / dask * 1000])
    table(f"Scale-out: preprocess on Dask vs the local pool (default variant; CSVs identical: {same})",
          ["engine", "images", "images/s", "x local", "core-ms per image"], rows)


SECTIONS = {"preprocess": bench_preprocess, "passes": bench_passes, "predict": bench_predict_and_train,
            "dask": bench_dask}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("sections", nargs="*", choices=[[], *SECTIONS], help="default: all")
    chosen = parser.parse_args().sections or list(SECTIONS)
    for name in chosen:
        SECTIONS[name]()


if __name__ == "__main__":
    main()
