"""Keypoint CSVs read back for training: the pandas-backed KeypointDataset and ``load_splits``.

Training-side only (pandas, scikit-learn): inference and ``evaluate`` read the same CSVs with
the standard library (:func:`poseclass.data.preprocess.read_csv`).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from poseclass.data.preprocess import (
    CSV_COLUMNS,
    FLAT_SPLIT,
    KEYPOINT_COLUMNS,
    META_NAME,
    cached_preprocess,
)
from poseclass.errors import DatasetError
from poseclass.files import LABELS_NAME, read_labels
from poseclass.pose.keypoints import KEYPOINT_NAMES, NUM_KEYPOINTS, movenet_frame

TUTORIAL_NAME = re.compile(r"^[A-Z_]+_(x|y|score)$")


@dataclass
class KeypointDataset:
    """Keypoints with labels, backed by a pandas DataFrame in poseclass's CSV schema.

    ``features()`` gives the classifier's input, ``[N, 1, 17, 3]`` (y, x, score) in a frame
    scaled the same in x and y (normalised pixels times width or height, divided by the
    longer side): the frame MoveNet itself reports after letterboxing. ``meta`` holds the
    MoveNet settings and image folder from ``preprocess.json`` when there is one.
    """

    frame: object  # pandas.DataFrame
    labels: list[str]
    meta: dict[str, object] = field(default_factory=dict)

    @classmethod
    def from_csv(cls, path: str | Path, labels: list[str] | None = None) -> KeypointDataset:
        """Read a poseclass CSV, or the public tutorial's (``NOSE_x, ..., class_no, class_name``)."""
        import pandas as pd

        path = Path(path)
        try:
            frame = pd.read_csv(path)
        except (UnicodeDecodeError, ValueError, pd.errors.ParserError) as error:  # EmptyDataError is a ValueError
            raise DatasetError(f"{path}: not a keypoint CSV ({str(error).splitlines()[0][:120]}); "
                               "make one with `poseclass preprocess`.") from None
        meta: dict[str, object] = {}
        if "file" not in frame.columns and any(TUTORIAL_NAME.match(c) for c in frame.columns):
            frame = _from_tutorial(frame)
            meta = {"variant": "thunder", "source": "tutorial CSV"}
        missing = [c for c in CSV_COLUMNS if c not in frame.columns]
        if missing:
            raise DatasetError(f"{path}: not a keypoint CSV (missing columns {missing[:4]}...); make one with `poseclass preprocess`.")
        if (path.parent / META_NAME).exists():
            meta = json.loads((path.parent / META_NAME).read_text())
        labels_file = path.with_name(LABELS_NAME)
        if labels is None and labels_file.exists():
            labels = read_labels(labels_file)
        if labels is None:
            labels = list(frame.sort_values("class_index").drop_duplicates("class_index")["class_name"])
        unknown = sorted(set(frame["class_name"]) - set(labels))
        if unknown:
            raise DatasetError(f"{path}: classes {unknown} are not in labels.txt ({labels}); re-run preprocess.")
        frame["class_index"] = [labels.index(c) for c in frame["class_name"]]
        numbers = frame[["width", "height", *KEYPOINT_COLUMNS]].apply(pd.to_numeric, errors="coerce")
        if not np.isfinite(numbers.to_numpy(np.float64)).all() or (numbers[["width", "height"]] <= 0).any().any():
            raise DatasetError(f"{path}: a width, height or keypoint cell is not a number (or a size is not "
                               "positive); make the CSV again with `poseclass preprocess`.")
        frame[numbers.columns] = numbers
        return cls(frame.reset_index(drop=True), labels, meta)

    def __len__(self) -> int:
        return len(self.frame)

    def features(self) -> np.ndarray:
        """Classifier input ``[N, 1, 17, 3]`` float32: (y, x, score) in a uniformly scaled frame."""
        kp = self.frame[KEYPOINT_COLUMNS].to_numpy(np.float32).reshape(-1, NUM_KEYPOINTS, 3)
        return movenet_frame(kp, self.frame["width"].to_numpy(), self.frame["height"].to_numpy())

    @property
    def y(self) -> np.ndarray:
        """Class indices, in ``labels`` order."""
        return self.frame["class_index"].to_numpy(np.int64)

    @property
    def files(self) -> list[str]:
        return [str(f) for f in self.frame["file"]]

    def subset(self, mask: np.ndarray) -> KeypointDataset:
        """Rows where ``mask`` is true; same labels and meta."""
        return KeypointDataset(self.frame[np.asarray(mask)].reset_index(drop=True), self.labels, self.meta)

    def split(self, fraction: float = 0.2, group_pattern: str | None = None, seed: int = 0) -> tuple[KeypointDataset, KeypointDataset]:
        """(train, validation). Stratified by class, or by groups of file names (``group_pattern``).

        A group is the regex's first group (or whole match) on the file name, e.g. ``^[a-z]+\\d*``
        for the subject in ``girl1_tree086.jpg``: all frames of a subject land on one side, so
        near-duplicates cannot leak into validation.
        """
        from sklearn.model_selection import StratifiedGroupKFold, train_test_split

        if not 0 < fraction < 1:
            raise DatasetError(f"the validation fraction must be between 0 and 1 (exclusive), not {fraction:g}")
        counts = np.bincount(self.y, minlength=len(self.labels))
        thin = [f"{self.labels[i]} ({n})" for i, n in enumerate(counts) if 0 < n < 2]
        if thin:
            raise DatasetError(f"too few images to hold some out for validation: {', '.join(thin)}; "
                               "give every class at least 2 images (more is better)")
        index = np.arange(len(self))
        if group_pattern:
            groups = self.groups(group_pattern)
            if len(set(groups)) < 2:
                raise DatasetError(f"--group-pattern {group_pattern!r} finds only {len(set(groups))} group; it needs at least 2.")
            # Whole groups, chosen so that every class is represented as evenly as the groups allow.
            folds = max(2, min(len(set(groups)), round(1 / fraction)))
            splitter = StratifiedGroupKFold(n_splits=folds, shuffle=True, random_state=seed)
            train_idx, val_idx = next(splitter.split(index, self.y, groups))
        else:
            # At least one pose of every class on each side, however small the fraction.
            n_val = max(int(np.ceil(fraction * len(self))), len(set(self.y)))
            try:
                train_idx, val_idx = train_test_split(index, test_size=n_val, random_state=seed, stratify=self.y)
            except ValueError as error:  # e.g. fewer validation poses than classes
                raise DatasetError(f"cannot hold out {fraction:g} of {len(self)} poses with every class in both "
                                   f"parts ({error}); add images or raise --validation") from None
        return self.subset(np.isin(index, train_idx)), self.subset(np.isin(index, val_idx))

    def groups(self, pattern: str) -> list[str]:
        """The group of each row: ``pattern``'s first group (or match) on the file's base name."""
        try:
            regex = re.compile(pattern)
        except re.error as error:
            raise DatasetError(f"--group-pattern {pattern!r} is not a valid regular expression ({error})") from None
        out = []
        for file in self.files:
            match = regex.search(Path(file).name)
            if not match:
                raise DatasetError(f"--group-pattern {pattern!r} does not match {file!r}")
            out.append(match.group(1) if regex.groups else match.group(0))
        return out


def _from_tutorial(frame: object) -> object:
    """The public tutorial's CSV (pixel coordinates, no image size) in poseclass's schema.

    Pixels are already scaled the same in x and y, so width = height = 1 keeps them as they
    are: the classifier normalises each pose's position and size itself.
    """
    import pandas as pd

    names = frame["file_name"] if "file_name" in frame.columns else pd.Series(range(len(frame)))
    columns = {"file": names.astype(str), "class_name": frame["class_name"].astype(str),
               "class_index": frame["class_no"].astype(int), "width": 1, "height": 1}
    for name in KEYPOINT_NAMES:
        for part in ("x", "y", "score"):
            columns[f"{name}_{part}"] = frame[f"{name.upper()}_{part}"].astype(float)
    return pd.DataFrame(columns)


def load_splits(data_dir: str | Path, progress: bool = True, **preprocess_args: object) -> dict[str, KeypointDataset]:
    """Keypoint datasets per split from a CSV file, a folder of CSVs, or an image tree.

    An image tree is preprocessed into the keypoint cache (:func:`cached_preprocess`; resumable,
    so a second run reuses every keypoint). Splits: ``train`` (or ``all`` / the only CSV) and ``test``.
    An ``exclude`` list (``preprocess_args``) applies to image trees only: CSVs are used as they are.
    """
    path = Path(data_dir)
    if path.is_file() and path.suffix.lower() == ".csv":
        _no_exclude(path, preprocess_args)
        return {"train": KeypointDataset.from_csv(path)}
    if not path.is_dir():
        raise DatasetError(f"{path}: no such folder or CSV file.")
    csvs = sorted(p for p in path.glob("*.csv") if p.name != "skipped.csv")
    if csvs:
        _no_exclude(path, preprocess_args)
        test = [p for p in csvs if "test" in p.stem.lower()]
        train = [p for p in csvs if p not in test]
        if len(train) != 1 or len(test) > 1:
            raise DatasetError(f"{path}: cannot tell the train CSV from {[p.name for p in csvs]}; name them train.csv and test.csv.")
        out = {"train": KeypointDataset.from_csv(train[0])}
        if test:
            out["test"] = KeypointDataset.from_csv(test[0], out["train"].labels)
        return out
    result = cached_preprocess(path, progress=progress, **preprocess_args)
    train_split = "train" if "train" in result.csv else FLAT_SPLIT
    out = {}
    for name, split in (("train", train_split), ("test", "test")):
        if split in result.csv:
            out[name] = KeypointDataset.from_csv(result.csv[split], result.labels)
            out[name].meta.update(skipped=[row for row in result.skipped if row.split == split],
                                  out_dir=str(result.out_dir))
    return out


def _no_exclude(path: Path, preprocess_args: dict[str, object]) -> None:
    """Refuse an exclude list for keypoint CSVs: it names image files, and CSVs are used as they are."""
    if preprocess_args.get("exclude") is not None:
        raise DatasetError(f"{path}: --exclude applies to an image tree, not to keypoint CSVs; give the image "
                           "folder, or remove the rows from the CSV")
