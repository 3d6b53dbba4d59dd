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
:class:`ModelFolder` is how everything else opens one.
"""

from __future__ import annotations

import json
import platform
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from poseclass.classify.classifier import Classifier
from poseclass.errors import ModelFolderError
from poseclass.files import LABELS_NAME, atomic_write, read_labels, sha256, write_labels

TFLITE_NAME = "pose_classifier.tflite"
KERAS_NAME = "pose_classifier.keras"
MANIFEST_NAME = "manifest.json"
METRICS_NAME = "metrics.json"
# 2: the folder carries its MoveNet file (manifest "movenet": file, sha256). Version 1 folders
# still load, with MoveNet from the cache.
FORMAT_VERSION = 2


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
            "meaning": "class probabilities in labels.txt order: they sum to 1 for a pose like the training "
            "poses, and less for one unlike all of them; the pose is none of the classes (\"unknown\") when the "
            "largest is under the manifest's unknown_below",
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


def write_model_folder(
    out_dir: str | Path,
    tflite: bytes,
    labels: list[str],
    movenet: dict[str, object],
    normalization: dict[str, object],
    training: dict[str, object],
    metrics: dict[str, object],
    unknown: dict[str, object] | None = None,
) -> Path:
    """Write the TFLite model, labels.txt, its MoveNet, manifest.json and metrics.json (each atomically).

    ``movenet`` holds the MoveNet settings (:data:`MOVENET_SETTINGS`) and, from
    ``preprocess.json``, the file the keypoints came from (:data:`MOVENET_SOURCE`). ``unknown``: how
    the model tells a pose that is none of its classes, with its threshold ``unknown_below`` (None: never).
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
        "unknown_below": (unknown or {}).get("unknown_below"),
        "unknown": unknown,
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


# The MoveNet settings a model's training keypoints were made with, recorded in its manifest,
# and the keys of preprocess.json that name the MoveNet file itself.
MOVENET_SETTINGS = ("variant", "passes", "refine_below")
MOVENET_SOURCE = ("movenet_file", "movenet_sha256")


def _bundle_movenet(out: Path, movenet: dict[str, object]) -> dict[str, object]:
    """Copy the MoveNet file the training keypoints came from into ``out``; return the manifest entry.

    When that file is gone or changed (or unknown, as for the tutorial's CSV), the variant's
    current model is bundled instead and ``same_as_training_keypoints`` says so.
    """
    from poseclass.pose.models import DEFAULT_VARIANT, ensure_model

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


def _check_manifest(path: Path, manifest: object) -> None:
    """Refuse a manifest whose entries are not what poseclass writes (a hand edit, a cut download) in one line."""
    def wrong(what: str) -> ModelFolderError:
        return ModelFolderError(f"{path}: {what}; this is not a manifest poseclass wrote: re-export the model.")

    if not isinstance(manifest, dict):
        raise wrong("not a JSON object")
    version = manifest.get("format_version", 1)
    if type(version) is not int or version < 1:
        raise wrong(f"format_version is {version!r}, not a whole number")
    labels = manifest.get("labels")
    if not isinstance(labels, list) or not labels or not all(isinstance(x, str) and x.strip() for x in labels):
        raise wrong("labels is not a list of class names")
    if not isinstance(manifest.get("model", TFLITE_NAME), str):
        raise wrong("model is not a file name")
    movenet = manifest.get("movenet")
    if not isinstance(movenet, dict):
        raise wrong("movenet is not an object")
    from poseclass.pose.models import VARIANTS

    kinds = {"variant": str, "file": str, "sha256": str, "passes": int, "refine_below": (int, float)}
    for key, kind in kinds.items():
        value = movenet.get(key)
        if value is not None and (not isinstance(value, kind) or isinstance(value, bool)):
            raise wrong(f"movenet.{key} is {value!r}")
    below = manifest.get("unknown_below")
    if below is not None and (isinstance(below, bool) or not isinstance(below, (int, float)) or not 0 <= below <= 1):
        raise wrong(f"unknown_below is {below!r}, not a probability")
    if movenet.get("variant", "thunder-int8") not in VARIANTS:
        raise wrong(f"movenet.variant {movenet['variant']!r} is not one of {', '.join(VARIANTS)}")


@dataclass(frozen=True)
class ModelFolder:
    """An exported model folder, opened once: its manifest checked, labels, pose-model settings and files.

    >>> folder = ModelFolder.open("model/")
    >>> folder.labels, folder.variant, folder.classifier().predict_proba(keypoints)

    Files the manifest names are data a user may have downloaded, so each must be a plain file
    name inside the folder (:meth:`file`): an absolute path or ``..`` is refused, never followed.
    """

    path: Path
    manifest: dict[str, object]

    @classmethod
    def open(cls, model_dir: str | Path) -> ModelFolder:
        """Read and check ``model_dir``: a manifest this poseclass can read, and labels that agree with labels.txt."""
        folder = Path(model_dir)
        path = folder / MANIFEST_NAME
        if not folder.is_dir():
            raise ModelFolderError(f"{folder}: no such folder; give the folder `poseclass train --out` wrote.")
        if not path.exists():
            raise ModelFolderError(
                f"{folder}: no {MANIFEST_NAME}; give the folder `poseclass train --out` wrote (it holds {TFLITE_NAME})."
            )
        try:
            manifest = json.loads(path.read_text())
        except (ValueError, UnicodeDecodeError) as error:
            raise ModelFolderError(f"{path}: not valid JSON ({error}); re-export the model with `poseclass train`.") from None
        _check_manifest(path, manifest)
        version = manifest.get("format_version", 1)
        if version > FORMAT_VERSION:
            raise ModelFolderError(f"{folder}: written by a newer poseclass (model format {version}, this one reads up to "
                                   f"{FORMAT_VERSION}); upgrade poseclass: pip install -U poseclass")
        labels_path = folder / LABELS_NAME
        if not labels_path.exists() or read_labels(labels_path) != manifest.get("labels"):
            raise ModelFolderError(f"{folder}: {LABELS_NAME} is missing or disagrees with {MANIFEST_NAME} on the labels; "
                                   "re-export the model.")
        return cls(folder, manifest)

    @property
    def labels(self) -> list[str]:
        """The class names, in the classifier's output order."""
        return list(self.manifest["labels"])

    @property
    def detector_settings(self) -> dict[str, object]:
        """Keyword arguments for ``open_detector``/``preprocess`` that reproduce the training keypoints
        (``variant``, ``passes``, ``refine_below``): prediction must see keypoints made the same way."""
        from poseclass.pose.models import DEFAULT_VARIANT

        settings = dict(self.manifest["movenet"])
        return {"variant": str(settings.get("variant", DEFAULT_VARIANT)), "passes": settings.get("passes"),
                "refine_below": settings.get("refine_below")}

    @property
    def variant(self) -> str:
        """The pose model the classifier's training keypoints came from."""
        return str(self.detector_settings["variant"])

    def file(self, name: str) -> Path:
        """The folder's file called ``name``: a plain file name, never a path that leads out of the folder."""
        if not name or Path(name).name != name or name in (".", ".."):
            raise ModelFolderError(f"{self.path / MANIFEST_NAME}: names the file {name!r}, which is not a plain file "
                                   "name inside the model folder; refusing it (re-export the model).")
        return self.path / name

    @property
    def classifier_path(self) -> Path:
        """The exported classifier, ``pose_classifier.tflite``."""
        return self.file(str(self.manifest.get("model", TFLITE_NAME)))

    def classifier(self, num_threads: int = 1) -> Classifier:
        """The classifier on LiteRT, with this folder's labels and its "unknown" threshold."""
        return Classifier(self.classifier_path, self.labels, num_threads, self.unknown_below)

    @property
    def unknown_below(self) -> float | None:
        """The top probability under which a pose is "unknown" (None: the model answers every pose)."""
        value = self.manifest.get("unknown_below")
        return None if value is None else float(value)

    def movenet_file(self) -> Path | None:
        """The MoveNet file the folder carries, sha256-checked; None for folders written before it did.

        A file that no longer matches its recorded hash is refused: its keypoints would differ
        from the training ones without any other sign.
        """
        recorded = dict(self.manifest["movenet"])
        if not recorded.get("file"):
            return None
        path = self.file(str(recorded["file"]))
        if not path.exists():
            raise ModelFolderError(f"{path}: missing from the model folder; copy the whole folder, or re-export it.")
        if sha256(path) != recorded.get("sha256"):
            raise ModelFolderError(f"{path}: changed since training (sha256 differs from {MANIFEST_NAME}); "
                                   "restore it or re-train.")
        return path

    def update_metrics(self, metrics: dict[str, object]) -> None:
        """Add evaluation results (e.g. the exported model on the test split) to metrics.json and the manifest."""
        self.manifest["metrics"] = {k: v for k, v in metrics.items() if k in ("validation", "test")}
        self.write_manifest()
        atomic_write(self.path / METRICS_NAME, json.dumps(metrics, indent=2, default=str))

    def write_manifest(self) -> None:
        """Write the (changed) manifest back, atomically."""
        atomic_write(self.path / MANIFEST_NAME, json.dumps(self.manifest, indent=2, default=str))
