"""poseclass: labelled photos of people → a small TFLite pose classifier chained after MoveNet.

The public API is imported lazily, so ``import poseclass`` (and ``poseclass predict``) never
pays for TensorFlow unless a training class is used. Layout, data flowing one way:

- :mod:`poseclass.runtime`: images → MoveNet keypoints → classifier, CSVs, scoring (LiteRT only);
- :mod:`poseclass.provision`: the MoveNet registry and cache; conversion from TF.js and the int8 build;
- :mod:`poseclass.training`: keypoint datasets, the Keras classifier, export, pictures (``[train]``);
- :mod:`poseclass.deploy`: the files apps ship: TFLite metadata and the fused image→class model.
"""

from __future__ import annotations

from importlib import import_module

__version__ = "0.1.0"

_EXPORTS = {
    "MoveNet": "poseclass.runtime.movenet",
    "MultiPoseNet": "poseclass.runtime.multipose",
    "Pose": "poseclass.runtime.keypoints",
    "PosePipeline": "poseclass.runtime.pipeline",
    "preprocess": "poseclass.runtime.preprocess",
    "evaluate": "poseclass.runtime.evaluate",
    "inspect_data": "poseclass.runtime.inspect",
    "KeypointDataset": "poseclass.training.dataset",
    "load_splits": "poseclass.training.dataset",
    "PoseClassifier": "poseclass.training.classifier",
    "TrainConfig": "poseclass.training.classifier",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> object:
    if name in _EXPORTS:
        return getattr(import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'poseclass' has no attribute {name!r}")
