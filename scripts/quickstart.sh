#!/usr/bin/env bash
# Set up poseclass and run the main job on the example data.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
DATA=${DATA:-../shared/datasets/yoga_poses/train}
.venv/bin/poseclass preprocess "$DATA" --out runs/keypoints
