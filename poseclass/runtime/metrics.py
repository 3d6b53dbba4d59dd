"""Classification metrics in plain numpy (no scikit-learn import on the evaluate path)."""

from __future__ import annotations

import numpy as np


def confusion(y_true: np.ndarray, y_pred: np.ndarray, num_classes: int) -> np.ndarray:
    """``[true, predicted]`` counts; a prediction of -1 (no answer) is left out of the matrix."""
    matrix = np.zeros((num_classes, num_classes), dtype=np.int64)
    answered = y_pred >= 0
    np.add.at(matrix, (y_true[answered], y_pred[answered]), 1)
    return matrix


def summarize(y_true: np.ndarray, y_pred: np.ndarray, labels: list[str]) -> dict[str, object]:
    """Accuracy over every sample (unanswered ones count as wrong), per-class P/R/F1, confusion matrix.

    ``y_pred`` uses -1 for samples that got no prediction (no pose found, unreadable).
    """
    y_true, y_pred = np.asarray(y_true, np.int64), np.asarray(y_pred, np.int64)
    matrix = confusion(y_true, y_pred, len(labels))
    per_class = {}
    for i, label in enumerate(labels):
        support = int((y_true == i).sum())
        tp = int(matrix[i, i])
        predicted = int(matrix[:, i].sum())
        precision = tp / predicted if predicted else 0.0
        recall = tp / support if support else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        per_class[label] = {"precision": round(precision, 4), "recall": round(recall, 4), "f1": round(f1, 4), "support": support}
    n = len(y_true)
    correct = int((y_true == y_pred).sum())
    return {
        "accuracy": round(correct / n, 4) if n else 0.0,
        "n_images": n,
        "n_correct": correct,
        "per_class": per_class,
        "labels": list(labels),
        "confusion_matrix": matrix.tolist(),
    }
