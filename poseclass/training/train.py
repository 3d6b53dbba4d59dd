"""``poseclass train`` as a plain function: data in, a scored model folder with its pictures out.

The exported TFLite model, not the Keras one, is what gets scored on the test split: it is
what apps run.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from poseclass.provision.registry import DEFAULT_VARIANT
from poseclass.runtime.evaluate import score
from poseclass.runtime.modeldir import TFLITE_NAME, update_metrics
from poseclass.runtime.pipeline import Classifier
from poseclass.runtime.preprocess import DatasetError
from poseclass.training.dataset import load_splits


@dataclass
class TrainResult:
    model_dir: Path
    metrics: dict[str, object]
    pictures: list[Path]


def train(
    data_dir: str | Path, out_dir: str | Path, *, variant: str = DEFAULT_VARIANT, workers: int | None = None,
    movenet_path: str | None = None, group_pattern: str | None = None, validation_fraction: float = 0.2,
    seed: int = 0, progress: bool = True, verbose: int = 0, **settings: object,
) -> TrainResult:
    """Image tree or keypoint CSVs → exported model directory with metrics and pictures."""
    from poseclass.training import report
    from poseclass.training.classifier import PoseClassifier

    splits = load_splits(data_dir, progress=progress, variant=variant, workers=workers, movenet_path=movenet_path)
    train_val = splits["train"]
    if len(set(train_val.y)) < 2:
        raise DatasetError(f"{data_dir}: the training data has only one class with keypoints.")
    train_data, val_data = train_val.split(validation_fraction, group_pattern, seed)
    clf = PoseClassifier.create(train_data, val_data, verbose=verbose, seed=seed, **settings)
    out = clf.export(out_dir)
    labels = clf.labels
    exported = Classifier(out / TFLITE_NAME, labels)
    metrics = dict(clf.metrics)
    metrics["split"] = {"train": len(train_data), "validation": len(val_data),
                        "validation_by": f"groups of /{group_pattern}/" if group_pattern else "stratified random"}
    val_probs = exported.predict_proba(val_data.features())
    metrics["tflite_vs_keras_max_abs_diff"] = float(np.abs(val_probs - clf.predict_proba(val_data.features())).max())
    shown, shown_probs, name = val_data, val_probs, "validation"
    if "test" in splits:
        test = splits["test"]
        metrics["test"], test_probs = score(exported, test.features(), test.y, test.meta.get("skipped", []), labels)
        metrics["test"]["note"] = "exported TFLite model on the test split; unreadable and no-pose images count as wrong"
        shown, shown_probs, name = splits["test"], test_probs, "test"
    update_metrics(out, metrics)
    pictures = [out / "training_curves.png", out / "confusion_matrix.png", out / "misclassified.png"]
    report.plot_history(clf.history, clf.best_epoch, pictures[0])
    matrix = metrics[name]["confusion_matrix"]
    report.plot_confusion(matrix, labels, f"{name} ({metrics[name]['model']}), accuracy {metrics[name]['accuracy']:.3f}", pictures[1])
    report.plot_gallery(report.misclassified(shown, shown_probs), f"misclassified {name} images", pictures[2])
    return TrainResult(out, metrics, pictures)
