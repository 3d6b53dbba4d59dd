"""Pictures people look at: training curves, confusion matrix, misclassified gallery, sample grid."""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt  # headless machines fall back to the Agg backend by themselves
import numpy as np

from poseclass.errors import ImageError
from poseclass.images import IMAGE_SUFFIXES, load_rgb
from poseclass.pose.draw import draw_pose
from poseclass.pose.keypoints import Pose


def _save(fig, path: str | Path | None) -> object:
    if path is not None:
        fig.savefig(path, dpi=110, bbox_inches="tight")
        plt.close(fig)
    return fig


def plot_history(history: dict[str, list[float]], restored_epoch: int = 0, path: str | Path | None = None) -> object:
    """Loss and accuracy per epoch, training vs validation; ``restored_epoch`` (early stopping) is marked."""
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.6))
    for ax, metric in zip(axes, ("loss", "accuracy")):
        epochs = np.arange(1, len(history.get(metric, [])) + 1)
        ax.plot(epochs, history.get(metric, []), label="train")
        if f"val_{metric}" in history:
            ax.plot(epochs, history[f"val_{metric}"], label="validation")
        if restored_epoch:
            ax.axvline(restored_epoch, color="grey", linestyle="--", label=f"best epoch ({restored_epoch}), restored")
        ax.set_xlabel("epoch")
        ax.set_title(metric)
        ax.legend()
    return _save(fig, path)


def plot_confusion(matrix: list[list[int]], labels: list[str], title: str, path: str | Path | None = None) -> object:
    """Confusion matrix with counts; rows are the true class."""
    matrix = np.asarray(matrix)
    fig, ax = plt.subplots(figsize=(1.1 * len(labels) + 2, 1.0 * len(labels) + 1.5))
    ax.imshow(matrix, cmap="Blues")
    ax.set_xticks(range(len(labels)), labels, rotation=45, ha="right")
    ax.set_yticks(range(len(labels)), labels)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(title)
    peak = matrix.max() if matrix.size else 0
    for (i, j), value in np.ndenumerate(matrix):
        ax.text(j, i, str(value), ha="center", va="center", color="white" if value > peak / 2 else "black")
    return _save(fig, path)


def plot_gallery(items: list[dict[str, object]], title: str, path: str | Path | None = None, limit: int = 24) -> object:
    """Misclassified images with their skeletons; each item: ``image`` (path), ``pose``, ``true``, ``predicted``, ``p``."""
    items = items[:limit]
    cols = min(6, max(1, len(items)))
    rows = max(1, -(-len(items) // cols))
    fig, axes = plt.subplots(rows, cols, figsize=(2.6 * cols, 2.9 * rows), squeeze=False)
    for ax in axes.ravel():
        ax.axis("off")
    for ax, item in zip(axes.ravel(), items):
        try:
            picture = load_rgb(item["image"])
        except ImageError:
            continue
        ax.imshow(draw_pose(picture, item["pose"]))
        ax.set_title(f"{Path(str(item['image'])).name}\ntrue {item['true']} / got {item['predicted']} ({item['p']:.2f})", fontsize=7)
    if not items:
        axes[0, 0].text(0.5, 0.5, "no misclassified images", ha="center", va="center")
    fig.suptitle(title)
    return _save(fig, path)


def plot_samples(data_dir: str | Path, per_class: int = 4, path: str | Path | None = None) -> object:
    """A grid of the first images of each class folder: what the dataset looks like."""
    root = Path(data_dir)
    classes = sorted(d for d in root.iterdir() if d.is_dir() and not d.name.startswith("."))
    fig, axes = plt.subplots(len(classes), per_class, figsize=(2.2 * per_class, 2.2 * len(classes)), squeeze=False)
    for row, folder in zip(axes, classes):
        files = sorted(f for f in folder.iterdir() if f.suffix.lower() in IMAGE_SUFFIXES)[:per_class]
        for ax in row:
            ax.axis("off")
        for ax, file in zip(row, files):
            ax.imshow(load_rgb(file))
        row[0].set_title(folder.name, loc="left", fontsize=10)
    return _save(fig, path)


def misclassified(data: object, probs: np.ndarray, root: str | Path | None = None) -> list[dict[str, object]]:
    """Gallery items for the rows of a KeypointDataset that ``probs`` gets wrong.

    Images are looked up under ``root``, else the folder ``preprocess`` recorded; with
    neither (e.g. the tutorial's CSV) there is nothing to show.
    """
    root = root or data.meta.get("data_dir")
    if not root:
        return []
    labels = data.labels
    items = []
    for i in np.flatnonzero(probs.argmax(axis=1) != data.y):
        row = data.frame.iloc[i]
        items.append({"image": Path(str(root)) / row["file"], "pose": pose_from_row(row), "true": labels[data.y[i]],
                      "predicted": labels[probs[i].argmax()], "p": float(probs[i].max())})
    return items


def pose_from_row(row: object) -> Pose:
    """The Pose of one keypoint-CSV row (normalised x, y back to pixels)."""
    from poseclass.data.preprocess import KEYPOINT_COLUMNS

    kp = np.asarray([row[c] for c in KEYPOINT_COLUMNS], np.float32).reshape(17, 3)
    width, height = int(row["width"]), int(row["height"])
    return Pose(kp[:, :2] * (width, height), kp[:, 2], width, height)
