"""Measure the activation ranges that ship as poseclass/movenet_thunder_int8_ranges.json.

For maintainers: run it again only when the converter or the quantized layers change, then
rerun `benchmarks/run.py passes` to check the accuracy table.

    .venv/bin/python scripts/calibrate_thunder_int8.py

Calibration images: every 10th image of ../shared/datasets/yoga_poses/train, starting at the
second (100 images, none of them among the images the benchmarks score), three model inputs
each (see poseclass.provision.calibrate.calibration_samples).
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

from poseclass.provision.calibrate import calibrate, calibration_samples
from poseclass.provision.convert import tfjs_to_tflite
from poseclass.provision.quantize import RANGES_FILE
from poseclass.provision.registry import VARIANTS, fetch_tfjs
from poseclass.runtime.movenet import MoveNet

ROOT = Path(__file__).resolve().parents[1]
DATASETS = Path(os.environ.get("POSECLASS_DATASETS", ROOT.parent / "shared" / "datasets"))


def main() -> None:
    images = sorted((DATASETS / "yoga_poses" / "train").glob("*/*.jpg"))[1::10]
    with tempfile.TemporaryDirectory() as work:
        float_model = tfjs_to_tflite(fetch_tfjs(VARIANTS["thunder"], Path(work)))
    ranges = calibrate(float_model, calibration_samples(images, MoveNet("thunder")))
    target = ROOT / "poseclass" / "provision" / RANGES_FILE
    target.write_text(json.dumps(ranges, indent=1, sort_keys=True) + "\n")
    print(f"{len(ranges)} tensor ranges from {len(images)} images -> {target}")


if __name__ == "__main__":
    main()
