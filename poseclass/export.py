"""The files an exported model directory holds, and the input/output contract they promise.

    MODEL_DIR/
      pose_classifier.tflite   the classifier for apps and for `poseclass predict`
      labels.txt               class names, one per line, in output order
      manifest.json            contract, MoveNet variant, normalisation, settings, metrics, versions
      pose_classifier.keras    the Keras model (to fine-tune or inspect)
      metrics.json             accuracy, per-class precision/recall/F1, confusion matrices
      *.png                    training curves, confusion matrix, misclassified gallery

No TensorFlow here: :func:`read_manifest` is on the inference path.
"""

from __future__ import annotations

import json
import platform
from importlib import metadata
from pathlib import Path

from poseclass.files import atomic_write

TFLITE_NAME = "pose_classifier.tflite"
KERAS_NAME = "pose_classifier.keras"
LABELS_NAME = "labels.txt"
MANIFEST_NAME = "manifest.json"
METRICS_NAME = "metrics.json"
FORMAT_VERSION = 1


def contract(labels: list[str]) -> dict[str, object]:
    """The classifier's input/output contract, as written in the manifest and the README."""
    return {
        "input": {
            "name": "movenet_keypoints",
            "dtype": "float32",
            "shape": [1, 1, 17, 3],
            "layout": "MoveNet single-pose output as is: 17 COCO keypoints x (y, x, score)",
            "keypoints": "nose, left_eye, right_eye, left_ear, right_ear, left_shoulder, right_shoulder, left_elbow, "
            "right_elbow, left_wrist, right_wrist, left_hip, right_hip, left_knee, right_knee, left_ankle, right_ankle",
            "coordinates": "any frame scaled the same in x and y (MoveNet's normalised output on a square, "
            "letterboxed or square-cropped input; or pixels). Position and size do not matter: the model "
            "normalises each pose itself.",
        },
        "output": {
            "dtype": "float32",
            "shape": [1, len(labels)],
            "meaning": "class probabilities in labels.txt order (sum to 1)",
        },
    }


def _versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for name in ("poseclass", "tensorflow", "tensorflow-cpu", "keras", "ai-edge-litert", "numpy"):
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return out


def write_model_dir(
    out_dir: str | Path,
    tflite: bytes,
    labels: list[str],
    movenet: dict[str, object],
    normalization: dict[str, object],
    training: dict[str, object],
    metrics: dict[str, object],
) -> Path:
    """Write the TFLite model, labels.txt, manifest.json and metrics.json (each atomically)."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    atomic_write(out / TFLITE_NAME, tflite)
    atomic_write(out / LABELS_NAME, "".join(f"{label}\n" for label in labels))
    manifest = {
        "format_version": FORMAT_VERSION,
        "model": TFLITE_NAME,
        "labels": labels,
        "contract": contract(labels),
        "movenet": movenet,
        "normalization": normalization,
        "training": training,
        "metrics": {k: v for k, v in metrics.items() if k in ("validation", "test")},
        "tflite_bytes": len(tflite),
        "versions": _versions(),
    }
    atomic_write(out / MANIFEST_NAME, json.dumps(manifest, indent=2, default=str))
    atomic_write(out / METRICS_NAME, json.dumps(metrics, indent=2, default=str))
    return out


def read_manifest(model_dir: str | Path) -> dict[str, object]:
    """The manifest of an exported model directory, with labels checked against labels.txt."""
    folder = Path(model_dir)
    path = folder / MANIFEST_NAME
    if not path.exists():
        raise FileNotFoundError(
            f"{folder}: no {MANIFEST_NAME}; give the folder `poseclass train --out` wrote (it holds {TFLITE_NAME})."
        )
    manifest = json.loads(path.read_text())
    labels = (folder / LABELS_NAME).read_text().split("\n")
    labels = [label for label in labels if label]
    if labels != manifest["labels"]:
        raise ValueError(f"{folder}: {LABELS_NAME} and {MANIFEST_NAME} disagree on the labels; re-export the model.")
    return manifest


# The MoveNet settings a model's training keypoints were made with, recorded in its manifest.
MOVENET_SETTINGS = ("variant", "passes", "refine_below")


def movenet_settings(manifest: dict[str, object]) -> dict[str, object]:
    """Keyword arguments for ``MoveNet``/``preprocess`` that reproduce the training keypoints.

    Prediction and evaluation must see keypoints made the same way as the training ones.
    """
    settings = dict(manifest["movenet"])
    return {"variant": str(settings.get("variant", "thunder")), "passes": settings.get("passes"),
            "refine_below": settings.get("refine_below")}


def update_metrics(model_dir: str | Path, metrics: dict[str, object]) -> None:
    """Add evaluation results (e.g. the exported model on the test split) to metrics.json and the manifest."""
    folder = Path(model_dir)
    manifest = json.loads((folder / MANIFEST_NAME).read_text())
    manifest["metrics"] = {k: v for k, v in metrics.items() if k in ("validation", "test")}
    atomic_write(folder / MANIFEST_NAME, json.dumps(manifest, indent=2, default=str))
    atomic_write(folder / METRICS_NAME, json.dumps(metrics, indent=2, default=str))
