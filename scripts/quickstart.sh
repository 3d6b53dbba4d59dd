#!/usr/bin/env bash
# Fresh machine to trained model: set up, get the example data, train, evaluate on a person never seen, predict.
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

# 2. A test split of a person the model never sees. The public download has one (test/); a copy with
#    train/ only gets one here: girl1's photos, linked (not copied) into $RUNS/yoga_split/test.
DATA="$RUNS/yoga_poses"
if [ ! -d "$DATA/test" ]; then
  DATA="$RUNS/yoga_split"
  rm -rf "$DATA"
  mkdir -p "$DATA"
  cp -al "$RUNS/yoga_poses/train" "$DATA/train"
  for class_dir in "$DATA"/train/*/; do
    class=$(basename "$class_dir")
    mkdir -p "$DATA/test/$class"
    find "$class_dir" -maxdepth 1 -name 'girl1_*' -exec mv {} "$DATA/test/$class/" \;
  done
  echo "test split: girl1's photos ($(find "$DATA/test" -type f | wc -l)) in $DATA/test, never trained on"
fi

# 3. Train on train/ (keypoints computed once, cached by file content); the exported model is scored on test/.
$PC train "$DATA" --out "$RUNS/model"

# 4. Evaluate the exported TFLite model on every image of the test split.
$PC evaluate "$DATA/test" --model "$RUNS/model"

# 5. Predict a new image.
if [ -f "$SHARED/pose_test_data/image3.jpeg" ]; then
  IMAGE="$SHARED/pose_test_data/image3.jpeg"
else
  IMAGE=$(find "$DATA/test" -name '*.jpg' | sort | head -n 1)
fi
$PC predict "$IMAGE" --model "$RUNS/model"

echo
echo "model and pictures: $RUNS/model/ (pose_classifier.tflite, labels.txt, manifest.json, *.png)"
echo "next: source .venv/bin/activate, then e.g. poseclass predict photo.jpg --model $RUNS/model (poseclass --help)"
