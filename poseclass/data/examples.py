"""Example datasets: fetch one (download, or a local copy as a folder or zip) and check it.

``poseclass data fetch yoga_poses DEST`` gives the public TensorFlow yoga-pose set
(chair, cobra, dog, tree, warrior; by Laurence Moroney) as ``DEST/{train,test}/<class>/``.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from poseclass.data.preprocess import scan
from poseclass.errors import DatasetError
from poseclass.files import download
from poseclass.quiet import note

DOWNLOAD_TIMEOUT_S = 15.0


@dataclass(frozen=True)
class ExampleDataset:
    name: str
    url: str
    classes: tuple[str, ...]
    min_images_per_class: int
    credit: str


DATASETS = {
    "yoga_poses": ExampleDataset(
        "yoga_poses",
        "https://storage.googleapis.com/download.tensorflow.org/data/pose_classification/yoga_poses.zip",
        ("chair", "cobra", "dog", "tree", "warrior"),
        20,
        "yoga_poses.zip by Laurence Moroney, used by the TensorFlow Lite pose classification tutorial",
    )
}


def _unpack(archive: Path, dest: Path) -> None:
    """Extract a zip; a single top folder (``yoga_poses/``) is stripped so DEST holds the splits."""
    with tempfile.TemporaryDirectory(dir=dest.parent) as tmp, zipfile.ZipFile(archive) as zipped:
        zipped.extractall(tmp)
        entries = [p for p in Path(tmp).iterdir() if not p.name.startswith((".", "__MACOSX"))]
        root = entries[0] if len(entries) == 1 and entries[0].is_dir() else Path(tmp)
        shutil.copytree(root, dest, ignore=shutil.ignore_patterns(".*", "__MACOSX"))


def check(dest: Path, spec: ExampleDataset, shown: str | Path | None = None) -> dict[str, dict[str, int]]:
    """Image counts per split and class; raises DatasetError when classes are missing or nearly empty.

    ``shown`` names the data in messages (the source, when ``dest`` is a staging folder).
    """
    tree = scan(dest)
    dest = shown or dest
    missing = sorted(set(spec.classes) - set(tree.labels))
    if missing:
        raise DatasetError(f"{dest}: classes {missing} are missing; expected {', '.join(spec.classes)}.")
    counts = {split: {c: sum(i.class_name == c for i in items) for c in tree.labels} for split, items in tree.items.items()}
    thin = [f"{split}/{c} ({n})" for split, per in counts.items() for c, n in per.items() if n < spec.min_images_per_class]
    if thin and all(len(per) for per in counts.values()):
        raise DatasetError(f"{dest}: too few images in {', '.join(thin)}; the copy looks incomplete.")
    return counts


def fetch(name: str, dest: str | Path, source: str | Path | None = None, report: Callable[[str], None] = note,
          progress: bool = True) -> dict[str, dict[str, int]]:
    """Put dataset ``name`` in ``dest`` (from ``source``, a folder or zip, else the download) and check it.

    Everything is written to a temporary folder beside ``dest`` and renamed into place only
    once complete and checked: an interrupted fetch never leaves a half dataset that a later
    run would accept.
    """
    if name not in DATASETS:
        raise DatasetError(f"unknown dataset {name!r}; available: {', '.join(DATASETS)}")
    spec = DATASETS[name]
    dest = Path(dest)
    if dest.exists() and any(dest.iterdir()):
        report(f"{dest} already exists: checking it instead of fetching")
        return check(dest, spec)
    dest.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=f".{dest.name}.", dir=dest.parent) as staging:
        target = Path(staging) / name
        if source is not None:
            _from_local(Path(source), target, name, report)
        else:
            archive = Path(staging) / f"{name}.zip"
            report(f"downloading {spec.url} (timeout {DOWNLOAD_TIMEOUT_S:g} s)")
            try:
                download(spec.url, archive, DOWNLOAD_TIMEOUT_S, f"{name}.zip", progress)
            except OSError as error:
                raise DatasetError(
                    f"could not download {spec.url} ({error}). Download it elsewhere and run "
                    f"`poseclass data fetch {name} {dest} --from {name}.zip` (a zip or an unpacked folder)."
                ) from None
            _unpack(archive, target)
        counts = check(target, spec, shown=source or spec.url)
        if dest.exists():
            dest.rmdir()  # empty (checked above)
        os.replace(target, dest)
    return counts


def _from_local(source: Path, target: Path, name: str, report: Callable[[str], None]) -> None:
    """Copy a local copy of the dataset (the unpacked folder or the zip) to ``target``."""
    if source.is_dir():
        report(f"copying {source}")
        shutil.copytree(source, target, ignore=shutil.ignore_patterns(".*"))
    elif zipfile.is_zipfile(source):
        report(f"unpacking {source}")
        _unpack(source, target)
    else:
        raise DatasetError(f"{source}: not a folder or a zip file; give the unpacked dataset folder or {name}.zip")
