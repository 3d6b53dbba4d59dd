"""Stage 1: an image tree in, keypoint CSVs out; and those CSVs read back without pandas.

Layouts: ``DATA_DIR/<class>/<images>`` (one split, written as ``all.csv``) or
``DATA_DIR/{train,test}/<class>/<images>`` (``train.csv``, ``test.csv``).

CSV schema (one row per image that decodes and shows a person, low scores kept)::

    file, class_name, class_index, width, height,
    nose_x, nose_y, nose_score, left_eye_x, ..., right_ankle_score

``file`` is relative to DATA_DIR (POSIX separators); x and y are normalised to [0, 1] by the
image width and height; scores are MoveNet's, in [0, 1]. Rows are sorted by ``file``.
``labels.txt`` lists class names in index order (alphabetical); ``skipped.csv`` lists every
file that was not used (``split, file, class_name, status, reason``; status ``unreadable``,
``no_pose``, ``error`` (inference failed), ``not_image`` (a stray file such as ``Thumbs.db``:
neither named nor decodable as an image, so kept out of any accuracy) or ``excluded`` (listed
in the ``--exclude`` file, see :mod:`poseclass.data.exclude`));
``preprocess.json`` records the data folder and the MoveNet settings and file (sha256).

``variant="multipose"`` takes each image's keypoints from MoveNet MultiPose: its most confident
person (:class:`~poseclass.pose.multipose.TopPerson`), in the same columns and frame, for a
classifier that will run on MultiPose's people (``predict --multi``).

Every result is appended to a journal as soon as it exists (``.work/`` inside OUT_DIR), so a
killed run loses nothing and a re-run only processes what is new or changed; the CSVs are
always rewritten whole from the journal, atomically.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

import numpy as np

from poseclass.data.exclude import EXCLUDED, read_exclude
from poseclass.data.workers import DetectorSpec, run
from poseclass.errors import DatasetError
from poseclass.files import LABELS_NAME, atomic_write, locked, sha256, write_labels
from poseclass.pose.detector import crop_settings
from poseclass.pose.keypoints import KEYPOINT_NAMES, NUM_KEYPOINTS, movenet_frame
from poseclass.pose.models import DEFAULT_VARIANT

SPLITS = ("train", "test")
FLAT_SPLIT = "all"
META_COLUMNS = ["file", "class_name", "class_index", "width", "height"]
KEYPOINT_COLUMNS = [f"{name}_{part}" for name in KEYPOINT_NAMES for part in ("x", "y", "score")]
CSV_COLUMNS = META_COLUMNS + KEYPOINT_COLUMNS
SKIPPED_COLUMNS = ["split", "file", "class_name", "status", "reason"]
META_NAME = "preprocess.json"


class Skip(NamedTuple):
    """One file that got no keypoints, and why (a row of ``skipped.csv``)."""

    split: str
    file: str
    class_name: str
    status: str
    reason: str


@dataclass(frozen=True)
class Item:
    """One file of the tree: where it is and which class it claims to be."""

    path: Path
    rel: str
    split: str
    class_name: str


@dataclass
class Tree:
    """A scanned data folder: its files per split and the class names in index order."""

    root: Path
    labels: list[str]
    items: dict[str, list[Item]] = field(default_factory=dict)


def _visible_dirs(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith("."))


def _files(folder: Path) -> Iterator[Path]:
    """Every non-hidden file below ``folder`` (images are told apart by content later)."""
    for dirpath, dirnames, filenames in os.walk(folder):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for name in sorted(filenames):
            if not name.startswith("."):
                yield Path(dirpath) / name


def scan(data_dir: str | Path, min_classes: int = 2) -> Tree:
    """Find the splits, classes and files of an image tree, or say clearly what is wrong with it.

    Training needs two classes at least; scoring a model on photos of one of its classes is normal
    (``min_classes=1``).
    """
    root = Path(data_dir)
    if not root.is_dir():
        raise DatasetError(f"{root}: no such folder. Give a folder with one sub-folder of images per class.")
    top = _visible_dirs(root)
    split_dirs = [d for d in top if d.name in SPLITS]
    layout = {d.name: d for d in split_dirs} if split_dirs else {FLAT_SPLIT: root}
    class_dirs = {split: _visible_dirs(folder) for split, folder in layout.items()}
    labels = sorted({d.name for dirs in class_dirs.values() for d in dirs})
    if not labels:
        raise DatasetError(
            f"{root}: no class folders found. Expected {root}/<class>/<images> "
            f"or {root}/train/<class>/<images> (and optionally test/)."
        )
    if len(labels) < min_classes:
        raise DatasetError(f"{root}: only one class ({labels[0]}); a classifier needs at least two class folders.")
    tree = Tree(root=root, labels=labels)
    for split, dirs in class_dirs.items():
        tree.items[split] = [
            Item(path=f, rel=f.relative_to(root).as_posix(), split=split, class_name=d.name)
            for d in dirs
            for f in _files(d)
        ]
    if not any(tree.items.values()):
        raise DatasetError(f"{root}: the class folders ({', '.join(labels)}) hold no files. Put images in them.")
    return tree


# --- the journal ---------------------------------------------------------------------------


def _read_journal(path: Path, key: str = "rel") -> dict[str, dict[str, object]]:
    """Records by ``key`` (the file, by default), last one winning; a line cut short by a kill is ignored."""
    records: dict[str, dict[str, object]] = {}
    if not path.exists():
        return records
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            try:
                record = json.loads(line)
            except ValueError:
                continue
            if isinstance(record, dict) and "rel" in record and key in record:
                records[str(record[key])] = record
    return records


def _rows(items: Iterable[Item], records: dict[str, dict[str, object]], labels: list[str]) -> list[list[object]]:
    rows = []
    for item in items:
        record = records.get(item.rel)
        if record and "kp" in record:
            meta = [item.rel, item.class_name, labels.index(item.class_name), record["width"], record["height"]]
            rows.append(meta + list(record["kp"]))
    return sorted(rows, key=lambda r: r[0])


def _csv_text(header: list[str], rows: Iterable[Iterable[object]]) -> str:
    import csv
    import io

    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue()


@dataclass
class PreprocessResult:
    """What a preprocess run wrote: one CSV per split, labels.txt, skipped.csv and counts."""

    out_dir: Path
    labels: list[str]
    csv: dict[str, Path]
    n_rows: dict[str, int]
    skipped: list[Skip]
    n_computed: int
    n_reused: int


def preprocess(
    data_dir: str | Path,
    out_dir: str | Path,
    variant: str = DEFAULT_VARIANT,
    workers: int | None = None,
    movenet_path: str | Path | None = None,
    passes: int | None = None,
    refine_below: float | None = None,
    progress: bool = True,
    executor: object | None = None,
    exclude: str | Path | Iterable[str] | None = None,
    work_dir: str | Path | None = None,
    min_classes: int = 2,
    store: str | Path | None = None,
) -> PreprocessResult:
    """Run MoveNet over an image tree and write the keypoint CSVs (see the module docstring).

    Resumable: results already in OUT_DIR's journal for an unchanged file are reused.
    ``executor`` runs the work elsewhere: any ``concurrent.futures.Executor``, or a
    ``dask.distributed.Client`` (see :mod:`poseclass.data.workers`); the files written are
    the same byte for byte. ``exclude`` (an exclude file, or paths relative to DATA_DIR) keeps
    files out without running MoveNet on them; they are listed in ``skipped.csv`` as ``excluded``.
    ``work_dir`` holds the journal (default ``OUT_DIR/.work``), so outputs with different
    exclude lists can share the keypoints already computed. ``min_classes``: see :func:`scan`.
    ``store``: a folder of keypoints by file content (see :class:`ContentStore`), shared by every tree,
    so a moved or copied tree, or the same photo in two trees, runs MoveNet once.
    """
    from poseclass.pose.models import ensure_model

    passes, refine_below = crop_settings(variant, passes, refine_below)
    tree = scan(data_dir, min_classes)
    out = Path(out_dir)
    work = Path(work_dir) if work_dir is not None else out / ".work"
    work.mkdir(parents=True, exist_ok=True)
    out.mkdir(parents=True, exist_ok=True)
    excluded = _excluded(exclude, tree)
    model_path = str(ensure_model(variant, movenet_path))
    model_sha = sha256(Path(model_path))
    # The model file's hash is part of the key: another file under the same variant name
    # (a rebuilt or user-given model) must not reuse keypoints it did not make.
    signature = f"{variant}-{model_sha[:12]}" + (f"-p{passes}-r{refine_below:g}" if passes is not None else "")
    workers = max(1, workers or os.cpu_count() or 1)
    threads = 1 if executor is not None else max(1, (os.cpu_count() or 1) // workers)
    spec = DetectorSpec(variant, model_path, model_sha, threads, passes, refine_below)
    known = ContentStore(Path(store) / f"{signature}.jsonl") if store is not None else None

    csv_paths, n_rows, skipped = {}, {}, []
    n_computed = n_reused = 0
    for split, items in tree.items.items():
        left_out = [Skip(split, i.rel, i.class_name, EXCLUDED, EXCLUDED) for i in items if i.rel in excluded]
        items = [item for item in items if item.rel not in excluded]
        journal = work / f"{split}.{signature}.jsonl"
        records = _read_journal(journal)
        todo, class_of = [], {item.rel: item.class_name for item in items}
        for item in items:
            stat = item.path.stat()
            old = records.get(item.rel)
            if old and old.get("size") == stat.st_size and old.get("mtime") == stat.st_mtime_ns:
                continue
            todo.append((str(item.path), item.rel, stat.st_size, stat.st_mtime_ns))
        if known is not None:
            for record in known.take(todo, journal):
                records[str(record["rel"])] = record
            todo = [item for item in todo if item[1] not in known.found]
        n_reused += len(items) - len(todo)
        if todo:
            for record in run(todo, spec, journal, f"{split} ({variant})", progress, workers, executor):
                records[str(record["rel"])] = record
                n_computed += 1
                if known is not None:
                    known.add(record)
        rows = _rows(items, records, tree.labels)
        csv_paths[split] = out / f"{split}.csv"
        atomic_write(csv_paths[split], _csv_text(CSV_COLUMNS, rows))
        n_rows[split] = len(rows)
        skipped += sorted(
            [Skip(split, rel, class_of[rel], str(r["status"]), str(r["skip"]))
             for rel, r in records.items() if "skip" in r and rel in class_of] + left_out
        )
    write_labels(out / LABELS_NAME, tree.labels)
    atomic_write(out / "skipped.csv", _csv_text(SKIPPED_COLUMNS, skipped))
    meta = {"data_dir": str(tree.root.resolve()), "variant": variant, "passes": passes, "refine_below": refine_below,
            "movenet_file": model_path, "movenet_sha256": model_sha}
    atomic_write(out / META_NAME, json.dumps(meta, indent=2))
    return PreprocessResult(out, tree.labels, csv_paths, n_rows, skipped, n_computed, n_reused)


class ContentStore:
    """Keypoints by file content (sha1 of the bytes), for one MoveNet file and crop setting, shared by every tree.

    A journal of records like a tree's own, keyed by the file's hash: a tree that was moved or
    copied (the quickstart's copy of the example data, a test split cut out of train/) finds its
    files here by content and runs MoveNet on none of them. Records are appended under a lock and a
    line cut short by a kill is ignored, like the tree journals.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self.found: set[str] = set()  # files of the current tree answered from the store
        self._digests: dict[str, str] = {}  # file (relative) -> content hash, for records to add

    def take(self, todo: list[tuple[str, str, int, int]], journal: Path) -> list[dict[str, object]]:
        """Records for the files of ``todo`` whose content is known, written to the tree's ``journal`` too."""
        by_content = {str(r["sha1"]): r for r in _read_journal(self.path, key="sha1").values()}
        hits = []
        for path, rel, size, mtime in todo:
            digest = _content_hash(path)
            self._digests[rel] = digest
            old = by_content.get(digest)
            if old is None:
                continue
            record = {k: v for k, v in old.items() if k != "sha1"}
            if "skip" in record:  # the reason names the file: this tree's name for it
                record["skip"] = str(record["skip"]).replace(str(old["rel"]), rel, 1)
            hits.append({**record, "rel": rel, "size": size, "mtime": mtime})
            self.found.add(rel)
        if hits:
            with open(journal, "a", encoding="utf-8") as log:
                log.writelines(json.dumps(record) + "\n" for record in hits)
        return hits

    def add(self, record: dict[str, object]) -> None:
        """Keep a record computed now, under its file's content hash."""
        digest = self._digests.get(str(record["rel"]))
        if digest is None:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with locked(self.path.with_suffix(".lock")), open(self.path, "a", encoding="utf-8") as log:
            log.write(json.dumps({**record, "sha1": digest}) + "\n")


def _content_hash(path: str) -> str:
    """sha1 of a file's bytes (a name for its content; not a security check)."""
    import hashlib

    digest = hashlib.sha1()
    try:
        with open(path, "rb") as handle:
            for chunk in iter(lambda: handle.read(1 << 20), b""):
                digest.update(chunk)
    except OSError:  # unreadable now: no content to match, MoveNet's worker will report it
        return f"unreadable:{path}"
    return digest.hexdigest()


def _excluded(exclude: str | Path | Iterable[str] | None, tree: Tree) -> set[str]:
    """The tree's files to leave out; a note when listed paths are not in the tree (a typo, or another DATA_DIR)."""
    if exclude is None:
        return set()
    from poseclass.quiet import note

    listed = read_exclude(exclude, tree.root)
    present = {item.rel for items in tree.items.values() for item in items}
    unknown = sorted(listed - present)
    if unknown:
        note(f"exclude list: {len(unknown)} of {len(listed)} paths are not files of {tree.root} "
             f"(paths are relative to DATA_DIR), e.g. {unknown[0]}")
    return listed & present


def cache_dir_for(data_dir: Path, model: Path, variant: str) -> Path:
    """Where ``train``/``evaluate`` keep the keypoints of an image tree between runs.

    One folder per data folder and MoveNet file: two variants (MultiPose's keypoints too: its
    own name and file), or two runs at once with different models, never write over each
    other's CSVs.
    """
    import hashlib

    from poseclass.pose.models import home

    root = data_dir.resolve()
    digest = hashlib.sha1(str(root).encode()).hexdigest()[:10]
    return home() / "keypoints" / f"{root.name}-{digest}" / f"{variant}-{sha256(model)[:12]}"


def cached_preprocess(data_dir: str | Path, variant: str = DEFAULT_VARIANT, movenet_path: str | Path | None = None,
                      **options: object) -> PreprocessResult:
    """:func:`preprocess` into the keypoint cache, locked, so concurrent runs on the same data take turns.

    With an ``exclude`` list the CSVs go to a sub-folder named after the list's content (the
    journal, and so every keypoint, is shared): a run with another list, or none, never
    rewrites the CSVs this one reads.
    """
    import hashlib

    from poseclass.pose.models import ensure_model

    model = ensure_model(variant, movenet_path)
    folder = cache_dir_for(Path(data_dir), model, variant)
    exclude = options.pop("exclude", None)
    options["store"] = folder.parent.parent / "by-content"
    with locked(folder.parent / f"{folder.name}.lock"):
        if exclude is None:
            return preprocess(data_dir, folder, variant=variant, movenet_path=model, **options)
        listed = sorted(read_exclude(exclude, data_dir))
        digest = hashlib.sha1("\n".join(listed).encode()).hexdigest()[:10]
        return preprocess(data_dir, folder / f"exclude-{digest}", variant=variant, movenet_path=model,
                          exclude=listed, work_dir=folder / ".work", **options)


@dataclass
class KeypointRows:
    """A keypoint CSV as plain arrays: what scoring a model needs, without pandas."""

    files: list[str]
    y: np.ndarray
    features: np.ndarray  # [N, 1, 17, 3] (y, x, score), the classifier's input


def read_csv(path: Path, labels: list[str]) -> KeypointRows:
    """Rows of a poseclass keypoint CSV, class indices in ``labels`` order; one-line DatasetError for any other file."""
    import csv

    def wrong(what: str) -> DatasetError:
        return DatasetError(f"{path}: not a poseclass keypoint CSV ({what}); make it again with `poseclass preprocess`")

    try:
        with open(path, newline="", encoding="utf-8") as handle:
            reader = csv.DictReader(handle)
            missing = [c for c in CSV_COLUMNS if c not in (reader.fieldnames or [])]
            if missing:
                raise wrong(f"no column {missing[0]}")
            rows = list(reader)
    except (UnicodeDecodeError, csv.Error) as error:
        raise wrong(str(error).splitlines()[0]) from None
    unknown = sorted({r["class_name"] for r in rows} - set(labels))
    if unknown:
        raise DatasetError(f"{path}: classes {unknown} are not among the labels {labels}.")
    try:
        numbers = np.asarray([[float(r[c]) for c in ("width", "height", *KEYPOINT_COLUMNS)] for r in rows],
                             np.float32).reshape(len(rows), 2 + 3 * NUM_KEYPOINTS)
    except (TypeError, ValueError):  # a cell that is not a number, or a row cut short (None)
        raise wrong("a width, height or keypoint cell is not a number") from None
    if not np.isfinite(numbers).all() or (numbers[:, :2] <= 0).any():
        raise wrong("a value is infinite, NaN, or a size is not positive")
    kp = numbers[:, 2:].reshape(-1, NUM_KEYPOINTS, 3)
    y = np.asarray([labels.index(r["class_name"]) for r in rows], np.int64)
    return KeypointRows([r["file"] for r in rows], y, movenet_frame(kp, numbers[:, 0], numbers[:, 1]))
