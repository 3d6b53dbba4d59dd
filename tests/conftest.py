"""Shared fixtures: the real datasets beside the repo and the real MoveNet models."""

from __future__ import annotations

import itertools
import os
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DATASETS = Path(os.environ.get("POSECLASS_DATASETS", ROOT.parent / "shared" / "datasets"))
YOGA_TRAIN = DATASETS / "yoga_poses" / "train"
POSE_TEST = DATASETS / "pose_test_data"
CLASSES = ("chair", "cobra", "dog", "tree", "warrior")
HELD_OUT = "girl1"
SUBJECT = r"^[a-z]+\d*"


# Fixtures that train a classifier (or run the quickstart, which does), or read the keypoints of all 1,000
# example images: every test using one, directly or through another fixture, is marked slow. Tests that
# train by themselves carry the mark in their file.
TRAINING_FIXTURES = {"trained", "small", "folder", "quickstart", "yoga"}


def pytest_configure(config: pytest.Config) -> None:
    if not YOGA_TRAIN.is_dir() or not POSE_TEST.is_dir():
        raise pytest.UsageError(f"test data not found at {DATASETS}: put ../shared/datasets beside the repo or set POSECLASS_DATASETS")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """``slow``: the tests that train or run the notebook; ``pytest -m "not slow"`` is the quick loop."""
    for item in items:
        if TRAINING_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.slow)


@pytest.fixture(scope="session")
def thunder():
    from poseclass.pose.movenet import MoveNet

    return MoveNet("thunder", num_threads=2)


@pytest.fixture(scope="session")
def thunder_int8():
    from poseclass.pose.movenet import MoveNet

    return MoveNet("thunder-int8", num_threads=2)


@pytest.fixture(scope="session")
def lightning():
    from poseclass.pose.movenet import MoveNet

    return MoveNet("lightning", num_threads=2)


def yoga_subset(dest: Path, per_class: int, subjects: tuple[str, ...] | None = None) -> Path:
    """Copy the first ``per_class`` images of each class (optionally only some subjects) into ``dest``.

    With ``subjects``, the subjects take turns, so a small subset still holds all of them.
    """
    for name in CLASSES:
        files = sorted((YOGA_TRAIN / name).glob("*.jpg"))
        if subjects:
            turns = [[f for f in files if f.name.split("_")[0] == s] for s in subjects]
            files = [f for round_ in itertools.zip_longest(*turns) for f in round_ if f]
        (dest / name).mkdir(parents=True, exist_ok=True)
        for f in files[:per_class]:
            shutil.copy2(f, dest / name / f.name)
    return dest


@pytest.fixture(scope="session")
def yoga():
    """Keypoints of the whole yoga train tree (cached between runs on one machine)."""
    from poseclass.training.dataset import load_splits

    return load_splits(YOGA_TRAIN, progress=False)["train"]


@pytest.fixture(scope="session")
def trained(yoga, tmp_path_factory):
    """Trained on five subjects, exported; the sixth (girl1) is never seen."""
    import numpy as np

    from poseclass.training.classifier import PoseClassifier

    subjects = np.array(yoga.groups(SUBJECT))
    rest, unseen = yoga.subset(subjects != HELD_OUT), yoga.subset(subjects == HELD_OUT)
    unseen.meta["skipped"] = [row for row in yoga.meta["skipped"] if row[1].split("/")[-1].startswith(HELD_OUT + "_")]
    train_data, val_data = rest.split(0.2, SUBJECT, seed=0)
    clf = PoseClassifier.create(train_data, val_data, verbose=0)
    out = clf.export(tmp_path_factory.mktemp("model") / "model")
    return clf, out, unseen, val_data


@pytest.fixture(scope="session")
def model_dir(trained) -> Path:
    """An exported model folder (read-only use: copy it before changing anything)."""
    return trained[1]
