"""Scoring an exported model over every image of a labelled tree, exactly as an app would run it.

LiteRT only: ``poseclass evaluate`` works with the runtime install. Images that could not be
read or show nobody count as wrong answers (and are listed), so the accuracy is over all of
them. The confusion-matrix picture needs matplotlib (the ``train`` extra) and is skipped,
with a note, without it.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from poseclass.classify.folder import ModelFolder
from poseclass.classify.pipeline import Classifier
from poseclass.data.exclude import EXCLUDED
from poseclass.data.metrics import summarize
from poseclass.data.preprocess import Skip, cached_preprocess, read_csv
from poseclass.data.workers import NOT_IMAGE
from poseclass.errors import DatasetError
from poseclass.extras import available


def score(classifier: Classifier, features: np.ndarray, y: np.ndarray, skipped: list[Skip],
          labels: list[str]) -> tuple[dict[str, object], np.ndarray]:
    """Metrics of the TFLite model over ``features`` plus the ``skipped`` images, which count as wrong.

    Stray files that are not images at all (``Thumbs.db``) and files the user excluded
    (``--exclude``) are listed but are no answer to score. A pose the classifier calls "unknown"
    is a wrong answer too (``n_unknown`` says how many).
    """
    probs = classifier.predict_proba(features)
    answers = classifier.answers(probs)
    failed = [row for row in skipped if row.status not in (NOT_IMAGE, EXCLUDED)]
    y_true = np.concatenate([y, [labels.index(row.class_name) for row in failed]]).astype(np.int64)
    y_pred = np.concatenate([answers, -np.ones(len(failed))]).astype(np.int64)
    result = summarize(y_true, y_pred, labels)
    counts = {status: sum(row.status == status for row in skipped) for status in ("no_pose", "unreadable", "error")}
    result.update(model="tflite", n_unknown=int((answers < 0).sum()), unknown_below=classifier.unknown_below,
                  n_no_pose=counts["no_pose"], n_unreadable=counts["unreadable"] + counts["error"],
                  n_not_image=sum(row.status == NOT_IMAGE for row in skipped),
                  n_excluded=sum(row.status == EXCLUDED for row in skipped),
                  failed=[{"file": r.file, "status": r.status, "reason": r.reason} for r in skipped])
    return result, probs


def evaluate(data_dir: str | Path, model_dir: str | Path, *, workers: int | None = None, movenet_path: str | None = None,
             progress: bool = True, picture: str | Path | None = None, executor: object | None = None,
             unknown_below: float | None | str = "model") -> dict[str, object]:
    """Accuracy of an exported model over ALL images of a labelled tree (no-pose, unreadable and unknown count
    as wrong). ``unknown_below``: the folder's own threshold (``"model"``), another, or None for never unknown."""
    folder = ModelFolder.open(model_dir)
    labels = folder.labels
    result = cached_preprocess(data_dir, **folder.detector_settings, workers=workers,
                               movenet_path=movenet_path or folder.movenet_file(), progress=progress, executor=executor,
                               min_classes=1)
    unknown = sorted(set(result.labels) - set(labels))
    if unknown:
        raise DatasetError(f"{data_dir}: classes {unknown} are not among the model's labels {labels}.")
    rows = [read_csv(path, labels) for path in result.csv.values()]
    features = np.concatenate([r.features for r in rows])
    y = np.concatenate([r.y for r in rows])
    classifier = folder.classifier()
    if unknown_below != "model":
        classifier.unknown_below = unknown_below
    metrics, _ = score(classifier, features, y, result.skipped, labels)
    metrics["picture"] = None
    if picture and available("matplotlib"):
        from poseclass.data.pictures import plot_confusion

        plot_confusion(metrics["confusion_matrix"], labels,
                       f"{Path(data_dir).name}: accuracy {metrics['accuracy']:.3f} over {metrics['n_images']} images",
                       picture)
        metrics["picture"] = str(picture)
    return metrics
