"""The exported pose classifier on LiteRT: MoveNet keypoints in, class probabilities out (no TensorFlow)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from poseclass.errors import ModelFolderError
from poseclass.pose import litert


class Classifier:
    """The exported pose classifier TFLite model on LiteRT (input ``[N,1,17,3]`` MoveNet keypoints).

    ``unknown_below``: a pose whose top probability is under it is none of the classes ("unknown");
    None answers every pose with its top class. The folder's manifest gives it (see
    :mod:`poseclass.training.unknown`); callers may change it.
    """

    def __init__(self, path: str | Path, labels: list[str], num_threads: int = 1,
                 unknown_below: float | None = None) -> None:
        self.path = Path(path)
        self.labels = labels
        self.unknown_below = unknown_below
        self.interpreter = _load(self.path, num_threads)
        self._input = self.interpreter.get_input_details()[0]
        self._output = self.interpreter.get_output_details()[0]["index"]
        self._batch = 1
        shape_in = [int(s) for s in self._input["shape"]]
        shape_out = [int(s) for s in self.interpreter.get_output_details()[0]["shape"]]
        if shape_in[1:] != [1, 17, 3] or shape_out[-1:] != [len(labels)]:
            raise ModelFolderError(f"{self.path}: tensors {shape_in} -> {shape_out} are not a pose classifier for "
                                   f"{len(labels)} classes ([1, 1, 17, 3] -> [1, {len(labels)}]); re-export the model")

    def predict_proba(self, keypoints: np.ndarray) -> np.ndarray:
        """Probabilities ``[N, classes]`` for MoveNet keypoints ``[N,1,17,3]`` (or one ``[1,1,17,3]``)."""
        x = np.asarray(keypoints, np.float32).reshape(-1, 1, 17, 3)
        if len(x) == 0:
            return np.zeros((0, len(self.labels)), np.float32)
        if len(x) != self._batch:
            self.interpreter.resize_tensor_input(self._input["index"], [len(x), 1, 17, 3])
            self.interpreter.allocate_tensors()
            self._batch = len(x)
        self.interpreter.set_tensor(self._input["index"], x)
        self.interpreter.invoke()
        return self.interpreter.get_tensor(self._output).copy()

    def is_unknown(self, probabilities: np.ndarray) -> np.ndarray | bool:
        """Whether each row of ``probabilities`` (or one vector) is "unknown": its top is under ``unknown_below``."""
        below = -np.inf if self.unknown_below is None else self.unknown_below
        unknown = np.max(probabilities, axis=-1) < below
        return unknown if np.ndim(unknown) else bool(unknown)

    def status(self, probabilities: np.ndarray) -> str:
        """One pose's answer status: ``unknown`` when it is none of the classes, else ``ok``."""
        return "unknown" if self.is_unknown(probabilities) else "ok"

    def answers(self, probabilities: np.ndarray) -> np.ndarray:
        """The class index of each row of ``probabilities``, -1 where it is "unknown"."""
        return np.where(self.is_unknown(probabilities), -1, np.argmax(probabilities, axis=-1))


def _load(path: Path, num_threads: int) -> object:
    """LiteRT's interpreter for the classifier file, or one line that names the file: missing, empty or damaged."""
    if not path.is_file():
        raise ModelFolderError(f"{path}: missing; copy the whole model folder, or re-export it with `poseclass train`")
    try:
        return litert.interpreter(path, num_threads)
    except (ValueError, RuntimeError) as error:
        what = "empty" if path.stat().st_size == 0 else f"not a loadable TFLite model ({str(error).strip()[:120]})"
        raise ModelFolderError(f"{path}: {what}; copy the model folder again, or re-export it with "
                               "`poseclass train`") from None
