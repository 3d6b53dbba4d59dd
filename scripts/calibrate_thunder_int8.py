"""Measure what ships for the int8 build: poseclass/provision/movenet_thunder_int8_ranges.json
(activation ranges) and poseclass/provision/movenet_thunder_reference.npz (reference inputs and
float Thunder's keypoints for them, which every int8 build is checked against).

For maintainers: run it again only when the converter or the quantized layers change, then
rerun `benchmarks/run.py passes` to check the accuracy table.

    .venv/bin/python scripts/calibrate_thunder_int8.py

Calibration images: every 10th image of ../shared/datasets/yoga_poses/train, starting at the
second (100 images, none of them among the images the benchmarks score), three model inputs
each (see poseclass.pose.build.calibrate.calibration_samples). The reference inputs are drawn
(poseclass.pose.build.calibrate.reference_inputs): no dataset picture ships with poseclass.
"""

from __future__ import annotations

import io
import json
import os
import tempfile
from pathlib import Path

import numpy as np

from poseclass.pose.build.calibrate import calibrate, calibration_samples, reference_inputs
from poseclass.pose.build.convert import tfjs_to_tflite
from poseclass.pose.build.quantize import RANGES_FILE, quantize
from poseclass.pose.build.reference import REFERENCE_FILE, check, model_keypoints
from poseclass.pose.models import VARIANTS, fetch_tfjs
from poseclass.pose.movenet import MoveNet

ROOT = Path(__file__).resolve().parents[1]
DATASETS = Path(os.environ.get("POSECLASS_DATASETS", ROOT.parent / "shared" / "datasets"))
PACKAGE = ROOT / "poseclass" / "provision"


def main() -> None:
    images = sorted((DATASETS / "yoga_poses" / "train").glob("*/*.jpg"))[1::10]
    with tempfile.TemporaryDirectory() as work:
        float_model = tfjs_to_tflite(fetch_tfjs(VARIANTS["thunder"], Path(work)))
        float_path = Path(work) / "thunder.tflite"
        float_path.write_bytes(float_model)
        inputs = reference_inputs()
        keypoints = model_keypoints(float_path, inputs).astype(np.float32)
        ranges = calibrate(float_model, calibration_samples(images, MoveNet("thunder", model_path=float_path)))
        (PACKAGE / RANGES_FILE).write_text(json.dumps(ranges, indent=1, sort_keys=True) + "\n")
        buffer = io.BytesIO()
        np.savez_compressed(buffer, inputs=inputs, keypoints=keypoints)
        (PACKAGE / REFERENCE_FILE).write_bytes(buffer.getvalue())
        int8_path = Path(work) / "thunder-int8.tflite"
        int8_path.write_bytes(quantize(float_model, ranges))
        measured = check(int8_path)
    print(f"{len(ranges)} tensor ranges from {len(images)} images -> {PACKAGE / RANGES_FILE}")
    print(f"{len(inputs)} reference inputs and float Thunder keypoints -> {PACKAGE / REFERENCE_FILE}")
    print("the int8 build against them: " + "; ".join(f"{k:.2%} of the side, scores {s:.3f}" for k, s in measured))


if __name__ == "__main__":
    main()
