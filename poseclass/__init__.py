"""poseclass: labelled photos of people → a small TFLite pose classifier chained after MoveNet.

The public API is imported lazily, so ``import poseclass`` (and ``poseclass predict``) never
pays for TensorFlow unless a training class is used.
"""

from __future__ import annotations

from importlib import import_module

__version__ = "0.1.0"

_EXPORTS = {
    "MoveNet": "poseclass.movenet",
    "Pose": "poseclass.keypoints",
    "preprocess": "poseclass.dataset",
    "KeypointDataset": "poseclass.dataset",
    "load_splits": "poseclass.dataset",
    "PoseClassifier": "poseclass.classifier",
    "TrainConfig": "poseclass.classifier",
    "PosePipeline": "poseclass.pipeline",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> object:
    if name in _EXPORTS:
        return getattr(import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'poseclass' has no attribute {name!r}")
