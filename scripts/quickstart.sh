#!/usr/bin/env bash
# Fresh machine to trained model: set up, get the example data, train, evaluate, predict.
# Outputs go to $POSECLASS_RUNS (default: runs/).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
RUNS=${POSECLASS_RUNS:-runs}
SHARED=../shared/datasets
PC=.venv/bin/poseclass

# 1. The example data: the local copy when there is one, else the public download.
if [ -d "$SHARED/yoga_poses" ]; then
  $PC data fetch yoga_poses "$RUNS/yoga_poses" --from "$SHARED/yoga_poses"
else
  $PC data fetch yoga_poses "$RUNS/yoga_poses"
fi

# 2. Train (keypoints are computed once and cached); validation holds out whole subjects.
$PC train "$RUNS/yoga_poses" --out "$RUNS/model" --group-pattern '^[a-z]+\d*'

# 3. Evaluate the exported TFLite model on every image of the test split (or, without one, the training tree).
if [ -d "$RUNS/yoga_poses/test" ]; then EVAL="$RUNS/yoga_poses/test"; else EVAL="$RUNS/yoga_poses/train"; echo "(no test split: evaluating on the training images)"; fi
$PC evaluate "$EVAL" --model "$RUNS/model"

# 4. Predict a new image.
if [ -f "$SHARED/pose_test_data/image3.jpeg" ]; then
  IMAGE="$SHARED/pose_test_data/image3.jpeg"
else
  IMAGE=$(find "$EVAL" -name '*.jpg' | sort | head -n 1)
fi
$PC predict "$IMAGE" --model "$RUNS/model"

echo
echo "model and pictures: $RUNS/model/ (pose_classifier.tflite, labels.txt, manifest.json, *.png)"
