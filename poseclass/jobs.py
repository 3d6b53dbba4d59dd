"""The CLI's long jobs as plain functions: train a model directory, evaluate one on a tree.

``train`` imports TensorFlow (through :mod:`poseclass.classifier`); ``evaluate`` does not:
it scores the exported TFLite model on LiteRT, exactly as an app would run it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from poseclass.dataset import DatasetError, KeypointDataset, cache_dir_for, load_splits, preprocess
from poseclass.export import TFLITE_NAME, movenet_settings, read_manifest, update_metrics
from poseclass.metrics import summarize
from poseclass.models import DEFAULT_VARIANT
from poseclass.pipeline import Classifier


@dataclass
class TrainResult:
    model_dir: Path
    metrics: dict[str, object]
    pictures: list[Path]


def _score_exported(classifier: Classifier, data: KeypointDataset, labels: list[str]) -> tuple[dict[str, object], np.ndarray]:
    """Metrics of the TFLite model over every image of ``data`` plus its skipped files (counted as errors)."""
    probs = classifier.predict_proba(data.features())
    skipped = data.meta.get("skipped", [])
    y_true = np.concatenate([data.y, [labels.index(_class_of(row[1])) for row in skipped]]).astype(np.int64)
    y_pred = np.concatenate([probs.argmax(axis=1), -np.ones(len(skipped))]).astype(np.int64)
    result = summarize(y_true, y_pred, labels)
    result.update(model="tflite", n_no_pose=sum(r[2] == "no_pose" for r in skipped),
                  n_unreadable=sum(r[2] == "unreadable" for r in skipped),
                  failed=[{"file": r[1], "status": r[2], "reason": r[3]} for r in skipped])
    return result, probs


def _class_of(rel: str) -> str:
    """Class folder of a tree-relative path (``[split/]class/file``)."""
    parts = Path(rel).parts
    return parts[-2]


def train(
    data_dir: str | Path, out_dir: str | Path, *, variant: str = DEFAULT_VARIANT, workers: int | None = None,
    movenet_path: str | None = None, group_pattern: str | None = None, validation_fraction: float = 0.2,
    seed: int = 0, progress: bool = True, verbose: int = 0, **settings: object,
) -> TrainResult:
    """Image tree or keypoint CSVs → exported model directory with metrics and pictures."""
    from poseclass import report
    from poseclass.classifier import PoseClassifier

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
        metrics["test"], test_probs = _score_exported(exported, splits["test"], labels)
        metrics["test"]["note"] = "exported TFLite model on the test split; unreadable and no-pose images count as wrong"
        shown, shown_probs, name = splits["test"], test_probs, "test"
    update_metrics(out, metrics)
    pictures = [out / "training_curves.png", out / "confusion_matrix.png", out / "misclassified.png"]
    report.plot_history(clf.history, clf.best_epoch, pictures[0])
    matrix = metrics[name]["confusion_matrix"]
    report.plot_confusion(matrix, labels, f"{name} ({metrics[name]['model']}), accuracy {metrics[name]['accuracy']:.3f}", pictures[1])
    report.plot_gallery(report.misclassified(shown, shown_probs), f"misclassified {name} images", pictures[2])
    return TrainResult(out, metrics, pictures)


def evaluate(data_dir: str | Path, model_dir: str | Path, *, workers: int | None = None, movenet_path: str | None = None,
             progress: bool = True, picture: str | Path | None = None) -> dict[str, object]:
    """Accuracy of an exported model over ALL images of a labelled tree (no-pose and unreadable count as wrong)."""
    from poseclass import report

    manifest = read_manifest(model_dir)
    labels = list(manifest["labels"])
    result = preprocess(data_dir, cache_dir_for(Path(data_dir)), **movenet_settings(manifest),
                        workers=workers, movenet_path=movenet_path, progress=progress)
    unknown = sorted(set(result.labels) - set(labels))
    if unknown:
        raise DatasetError(f"{data_dir}: classes {unknown} are not among the model's labels {labels}.")
    frames = [KeypointDataset.from_csv(path, labels) for path in result.csv.values()]
    import pandas as pd

    data = KeypointDataset(pd.concat([f.frame for f in frames], ignore_index=True), labels,
                           {**frames[0].meta, "skipped": result.skipped})
    metrics, probs = _score_exported(Classifier(Path(model_dir) / TFLITE_NAME, labels), data, labels)
    if picture:
        report.plot_confusion(metrics["confusion_matrix"], labels,
                              f"{Path(data_dir).name}: accuracy {metrics['accuracy']:.3f} over {metrics['n_images']} images", picture)
        metrics["picture"] = str(picture)
    return metrics
