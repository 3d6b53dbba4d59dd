"""The files an exported model directory holds, and the input/output contract they promise.

    MODEL_DIR/
      pose_classifier.tflite   the classifier for apps and for `poseclass predict`
      labels.txt               class names, one per line, in output order
      movenet_<variant>.tflite the exact MoveNet the training keypoints came from (so the folder
                               predicts anywhere: no cache, network, npm or TensorFlow needed)
      manifest.json            contract, MoveNet variant, normalisation, settings, metrics, versions
      pose_classifier.keras    the Keras model (to fine-tune or inspect)
      metrics.json             accuracy, per-class precision/recall/F1, confusion matrices
      *.png                    training curves, confusion matrix, misclassified gallery

No TensorFlow here: this module is on the inference path. Writing the classifier itself
happens on the training side (:mod:`poseclass.training.classifier`).
"""

from __future__ import annotations

import json
import platform
from importlib import metadata
from pathlib import Path

from poseclass.runtime.files import LABELS_NAME, atomic_write, read_labels, write_labels

TFLITE_NAME = "pose_classifier.tflite"
KERAS_NAME = "pose_classifier.keras"
MANIFEST_NAME = "manifest.json"
METRICS_NAME = "metrics.json"
# 2: the folder carries its MoveNet file (manifest "movenet": file, sha256). Version 1 folders
# still load, with MoveNet from the cache.
FORMAT_VERSION = 2


class ModelDirError(ValueError):
    """A model folder that cannot be used as it is; the message says what to do."""


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
    """Write the TFLite model, labels.txt, its MoveNet, manifest.json and metrics.json (each atomically).

    ``movenet`` holds the MoveNet settings (:data:`MOVENET_SETTINGS`) and, from
    ``preprocess.json``, the file the keypoints came from (:data:`MOVENET_SOURCE`).
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    atomic_write(out / TFLITE_NAME, tflite)
    movenet = _bundle_movenet(out, movenet)
    write_labels(out / LABELS_NAME, labels)
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
        raise ModelDirError(
            f"{folder}: no {MANIFEST_NAME}; give the folder `poseclass train --out` wrote (it holds {TFLITE_NAME})."
        )
    try:
        manifest = json.loads(path.read_text())
    except ValueError as error:
        raise ModelDirError(f"{path}: not valid JSON ({error}); re-export the model with `poseclass train`.") from None
    version = int(manifest.get("format_version", 1))
    if version > FORMAT_VERSION:
        raise ModelDirError(f"{folder}: written by a newer poseclass (model format {version}, this one reads up to "
                            f"{FORMAT_VERSION}); upgrade poseclass: pip install -U poseclass")
    labels_path = folder / LABELS_NAME
    if not labels_path.exists() or read_labels(labels_path) != manifest["labels"]:
        raise ModelDirError(f"{folder}: {LABELS_NAME} is missing or disagrees with {MANIFEST_NAME} on the labels; "
                            "re-export the model.")
    return manifest


# The MoveNet settings a model's training keypoints were made with, recorded in its manifest,
# and the keys of preprocess.json that name the MoveNet file itself.
MOVENET_SETTINGS = ("variant", "passes", "refine_below")
MOVENET_SOURCE = ("movenet_file", "movenet_sha256")


def _bundle_movenet(out: Path, movenet: dict[str, object]) -> dict[str, object]:
    """Copy the MoveNet file the training keypoints came from into ``out``; return the manifest entry.

    When that file is gone or changed (or unknown, as for the tutorial's CSV), the variant's
    current model is bundled instead and ``same_as_training_keypoints`` says so.
    """
    from poseclass.provision.registry import DEFAULT_VARIANT, ensure_model, sha256

    entry = {k: movenet[k] for k in MOVENET_SETTINGS if movenet.get(k) is not None}
    entry.setdefault("variant", DEFAULT_VARIANT)
    source, wanted = movenet.get("movenet_file"), movenet.get("movenet_sha256")
    if not (source and Path(str(source)).exists() and sha256(Path(str(source))) == wanted):
        source = ensure_model(str(entry["variant"]))
    name = f"movenet_{entry['variant']}.tflite"
    atomic_write(out / name, Path(str(source)).read_bytes())
    digest = sha256(out / name)
    entry.update(file=name, sha256=digest, same_as_training_keypoints=digest == wanted)
    return entry


def movenet_settings(manifest: dict[str, object]) -> dict[str, object]:
    """Keyword arguments for ``MoveNet``/``preprocess`` that reproduce the training keypoints.

    Prediction and evaluation must see keypoints made the same way as the training ones.
    """
    from poseclass.provision.registry import DEFAULT_VARIANT

    settings = dict(manifest["movenet"])
    return {"variant": str(settings.get("variant", DEFAULT_VARIANT)), "passes": settings.get("passes"),
            "refine_below": settings.get("refine_below")}


def bundled_movenet(model_dir: str | Path, manifest: dict[str, object]) -> Path | None:
    """The MoveNet file the folder carries, sha256-checked; None for folders written before it did.

    A file that no longer matches its recorded hash is refused: its keypoints would differ
    from the training ones without any other sign.
    """
    from poseclass.provision.registry import sha256

    recorded = dict(manifest["movenet"])
    if not recorded.get("file"):
        return None
    path = Path(model_dir) / str(recorded["file"])
    if not path.exists():
        raise ModelDirError(f"{path}: missing from the model folder; copy the whole folder, or re-export it.")
    if sha256(path) != recorded.get("sha256"):
        raise ModelDirError(f"{path}: changed since training (sha256 differs from {MANIFEST_NAME}); "
                            "restore it or re-train.")
    return path


def update_metrics(model_dir: str | Path, metrics: dict[str, object]) -> None:
    """Add evaluation results (e.g. the exported model on the test split) to metrics.json and the manifest."""
    folder = Path(model_dir)
    manifest = json.loads((folder / MANIFEST_NAME).read_text())
    manifest["metrics"] = {k: v for k, v in metrics.items() if k in ("validation", "test")}
    atomic_write(folder / MANIFEST_NAME, json.dumps(manifest, indent=2, default=str))
    atomic_write(folder / METRICS_NAME, json.dumps(metrics, indent=2, default=str))
