"""``poseclass train`` as a plain function: data in, a scored model folder with its pictures out.

The exported TFLite model, not the Keras one, is what gets scored on the test split: it is
what apps run.
"""

from __future__ import annotations

import tempfile
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from poseclass.classify.folder import MANIFEST_NAME, ModelFolder
from poseclass.data.evaluate import score
from poseclass.data.exclude import EXCLUDED
from poseclass.deploy.bundle import write_deploy
from poseclass.errors import DatasetError
from poseclass.files import replace_dir
from poseclass.pose.models import DEFAULT_VARIANT
from poseclass.training.dataset import KeypointDataset, load_splits


@dataclass
class TrainResult:
    model_dir: Path
    metrics: dict[str, object]
    pictures: list[Path]
    deployed: list[Path] = field(default_factory=list)
    drawing: Future | None = field(default=None, repr=False)  # the pictures being drawn (see _train_into)


def train(
    data_dir: str | Path, out_dir: str | Path, *, variant: str = DEFAULT_VARIANT, workers: int | None = None,
    movenet_path: str | None = None, group_pattern: str | None = None, validation_fraction: float | None = None,
    seed: int = 0, progress: bool = True, verbose: int = 0, force: bool = False, fused: bool = True,
    exclude: str | Path | None = None, **settings: object,
) -> TrainResult:
    """Image tree or keypoint CSVs → exported model directory with metrics and pictures.

    The folder is built beside ``out_dir`` and swapped in whole when complete, so a re-run
    never leaves an old run's pictures beside new files, and a failed run leaves the old
    model as it was. A non-empty ``out_dir`` that is not a model folder is refused unless
    ``force``. ``exclude``: an exclude file (see :mod:`poseclass.data.exclude`) for an image tree.
    ``validation_fraction``: None chooses (see :func:`validation_share`); 0 fits all of train/.
    """
    check_validation(validation_fraction, group_pattern, bool(settings.get("early_stopping")))  # before MoveNet runs
    out = Path(out_dir)
    if out.exists() and any(out.iterdir()) and not (out / MANIFEST_NAME).exists() and not force:
        raise DatasetError(f"{out}: exists and is not a poseclass model folder; choose another --out, "
                           "or pass --force to replace it")
    splits = load_splits(data_dir, progress=progress, variant=variant, workers=workers, movenet_path=movenet_path,
                         exclude=exclude)
    if "train" not in splits:
        raise DatasetError(f"{data_dir}: has a test/ split but no train/ split; put the training images in "
                           f"{Path(data_dir) / 'train'}/<class>/")
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=f".{out.name}.", dir=out.parent) as staging:
        result = _train_into(Path(staging) / out.name, splits, group_pattern, validation_fraction, seed, verbose,
                             settings)
        try:
            result.deployed = write_deploy(result.model_dir, fused=fused)
        finally:
            result.drawing.result()  # the pictures, drawn meanwhile in a thread (raises what drawing raised)
        replace_dir(result.model_dir, out)
    result.pictures = [out / p.name for p in result.pictures]
    result.deployed = [out / p.name for p in result.deployed]
    result.model_dir = out
    result.metrics["skipped_csv"] = str(Path(splits["train"].meta.get("out_dir", data_dir)) / "skipped.csv")
    return result


def check_validation(fraction: float | None, group_pattern: str | None, early_stopping: bool) -> None:
    """Refuse asking for no validation split together with something that uses one."""
    if fraction == 0 and group_pattern:
        raise DatasetError("--group-pattern chooses the validation images, and --validation 0 asks for none: "
                           "drop one of them")
    if fraction == 0 and early_stopping:
        raise DatasetError("--early-stopping watches a validation split, and --validation 0 asks for none: "
                           "give --validation 0.2 (or leave it out)")


def validation_share(fraction: float | None, group_pattern: str | None, has_test: bool,
                     early_stopping: bool) -> float:
    """How much of train/ to hold out for validation.

    Unless told (``fraction``), 0.2 when nothing else would score the model (no test/ split),
    when whole groups were asked for, or when early stopping needs it; otherwise none: every
    training image is fitted, for a fixed number of epochs, and test/ scores the model.
    Measured on real photos, this beats stopping early on a small random split.
    """
    if fraction is None:
        return 0.2 if group_pattern or early_stopping or not has_test else 0.0
    return fraction


def _train_into(out: Path, splits: dict[str, KeypointDataset], group_pattern: str | None,
                validation_fraction: float | None, seed: int, verbose: int, settings: dict[str, object]) -> TrainResult:
    """Train, export to ``out``, score the exported model, draw the pictures."""
    from poseclass.data import pictures
    from poseclass.training.classifier import PoseClassifier

    train_val = splits["train"]
    if len(set(train_val.y)) < 2:
        raise DatasetError("the training data has only one class with keypoints; a classifier needs two or more.")
    share = validation_share(validation_fraction, group_pattern, "test" in splits, bool(settings.get("early_stopping")))
    train_data, val_data = train_val.split(share, group_pattern, seed) if share else (train_val, None)
    groups = train_data.groups(group_pattern) if group_pattern else None
    clf = PoseClassifier.create(train_data, val_data, verbose=verbose, seed=seed, groups=groups, **settings)
    clf.export(out)
    labels = clf.labels
    folder = ModelFolder.open(out)
    exported = folder.classifier()
    metrics = dict(clf.metrics)
    if clf.unknown is not None:
        metrics["unknown"] = clf.unknown
    metrics["split"] = {"train": len(train_data), "validation": len(val_data) if val_data is not None else 0,
                        "validation_by": (f"groups of /{group_pattern}/" if group_pattern else "stratified random")
                        if val_data is not None else "none: every training image is fitted"}
    metrics.update(best_epoch=clf.best_epoch, epochs_run=len(clf.history.get("loss", [])),
                   early_stopping=clf.config.early_stopping, skipped=len(train_val.meta.get("skipped", [])),
                   excluded=sum(row.status == EXCLUDED for row in train_val.meta.get("skipped", [])))
    shown, name = (val_data, "validation") if val_data is not None else (train_data, "train")
    shown_probs = exported.predict_proba(shown.features())
    metrics["tflite_vs_keras_max_abs_diff"] = float(np.abs(shown_probs - clf.predict_proba(shown.features())).max())
    if val_data is None:  # only to say how well it fits what it saw: not a measure of generalisation
        metrics["train"] = clf.evaluate(train_data)
    if "test" in splits:
        test = splits["test"]
        metrics["test"], test_probs = score(exported, test.features(), test.y, test.meta.get("skipped", []), labels)
        metrics["test"]["note"] = "exported TFLite model on the test split; unreadable and no-pose images count as wrong"
        shown, shown_probs, name = test, test_probs, "test"
    folder.update_metrics(metrics)
    drawn = [out / "training_curves.png", out / "confusion_matrix.png", out / "misclassified.png"]
    title = f"{name} ({metrics[name]['model']}), accuracy {metrics[name]['accuracy']:.3f}"

    def draw() -> None:
        pictures.plot_history(clf.history, clf.best_epoch if clf.config.early_stopping else 0, drawn[0])
        pictures.plot_confusion(metrics[name]["confusion_matrix"], labels, title, drawn[1])
        pictures.plot_gallery(pictures.misclassified(shown, shown_probs), f"misclassified {name} images", drawn[2])

    # Drawn in a thread while the caller builds the deploy files: matplotlib (Python) overlaps the
    # TFLite converter (C++, outside the GIL). Only this thread uses pyplot meanwhile.
    executor = ThreadPoolExecutor(1, thread_name_prefix="poseclass-pictures")
    drawing = executor.submit(draw)
    executor.shutdown(wait=False)
    return TrainResult(out, metrics, drawn, drawing=drawing)
