"""`poseclass data fetch`: from a folder, from a zip, and a clear error without either."""

from __future__ import annotations

import shutil
import zipfile

import pytest
from conftest import YOGA_TRAIN, yoga_subset

from poseclass.data.examples import fetch
from poseclass.errors import DatasetError


def test_fetch_from_folder_and_zip(tmp_path):
    source = yoga_subset(tmp_path / "copy" / "yoga_poses" / "train", per_class=21).parent
    counts = fetch("yoga_poses", tmp_path / "a", source, report=lambda _: None)
    assert counts == {"train": {c: 21 for c in ("chair", "cobra", "dog", "tree", "warrior")}}
    archive = tmp_path / "yoga_poses.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        for path in sorted(source.rglob("*.jpg")):
            zipped.write(path, path.relative_to(source.parent))
    assert fetch("yoga_poses", tmp_path / "b", archive, report=lambda _: None) == counts
    assert (tmp_path / "b" / "train" / "tree").is_dir()


def test_incomplete_copy_is_refused(tmp_path):
    source = tmp_path / "bad"
    for name in ("tree", "dog"):
        shutil.copytree(YOGA_TRAIN / name, source / "train" / name)
    with pytest.raises(DatasetError, match="missing"):
        fetch("yoga_poses", tmp_path / "dest", source, report=lambda _: None)


def test_not_a_dataset_source(tmp_path):
    (tmp_path / "file.txt").write_text("nope")
    with pytest.raises(DatasetError, match="not a folder or a zip"):
        fetch("yoga_poses", tmp_path / "dest", tmp_path / "file.txt", report=lambda _: None)
