"""Classification metrics over every image, unanswered ones included.

scikit-learn computes precision, recall and F1 where it is installed (the ``train`` extra);
the runtime install, which has no scikit-learn, derives the same numbers from the confusion
matrix (a test checks that both agree).
"""

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
    precision, recall, f1, support = per_class_scores(y_true, y_pred, len(labels), matrix)
    per_class = {
        label: {"precision": round(float(precision[i]), 4), "recall": round(float(recall[i]), 4),
                "f1": round(float(f1[i]), 4), "support": int(support[i])}
        for i, label in enumerate(labels)
    }
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


def per_class_scores(y_true: np.ndarray, y_pred: np.ndarray, num_classes: int,
                     matrix: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Precision, recall, F1 and support per class; unanswered samples (-1) lower recall only."""
    from poseclass.extras import available

    if available("sklearn"):
        from sklearn.metrics import precision_recall_fscore_support

        return precision_recall_fscore_support(y_true, y_pred, labels=list(range(num_classes)), zero_division=0)
    support = (y_true[:, None] == np.arange(num_classes)).sum(axis=0)
    tp = np.diag(matrix).astype(float)
    precision = np.divide(tp, matrix.sum(axis=0), out=np.zeros_like(tp), where=matrix.sum(axis=0) > 0)
    recall = np.divide(tp, support, out=np.zeros_like(tp), where=support > 0)
    total = precision + recall
    f1 = np.divide(2 * precision * recall, total, out=np.zeros_like(tp), where=total > 0)
    return precision, recall, f1, support
