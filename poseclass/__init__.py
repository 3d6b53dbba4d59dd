"""poseclass: labelled photos of people → a small TFLite pose classifier chained after MoveNet.

The public API is imported lazily, so ``import poseclass`` (and ``poseclass predict``) never
pays for TensorFlow unless a training class is used. Layout, data flowing one way (each
folder imports only from the ones listed before it):

- :mod:`poseclass.errors`, ``extras``, ``files``, ``quiet``, ``images``: what every part shares;
- :mod:`poseclass.pose`: pose models (MoveNet, MultiPose) behind one detector interface, their
  cache and provisioning; ``pose.build`` converts Google's weights (``[train]``);
- :mod:`poseclass.classify`: a model folder, the exported classifier, image → pose → classes (LiteRT only);
- :mod:`poseclass.video`: frames over time: tracking, smoothing, segments, repetitions, video files;
- :mod:`poseclass.data`: image trees → keypoint CSVs, workers and Dask, scoring, inspecting, pictures;
- :mod:`poseclass.deploy`: the files apps ship: TFLite metadata and the fused image → class model;
- :mod:`poseclass.training`: keypoint datasets, the Keras classifier, export (``[train]``);
- :mod:`poseclass.cli`: the ``poseclass`` command, one module per verb.
"""

from __future__ import annotations

from importlib import import_module

__version__ = "0.1.0"

_EXPORTS = {
    # pose models
    "MoveNet": "poseclass.pose.movenet",
    "MultiPoseNet": "poseclass.pose.multipose",
    "Pose": "poseclass.pose.keypoints",
    "open_detector": "poseclass.pose.detector",
    # classifying
    "ModelFolder": "poseclass.classify.folder",
    "PosePipeline": "poseclass.classify.pipeline",
    "Prediction": "poseclass.classify.results",
    "PersonPrediction": "poseclass.classify.results",
    # video
    "VideoClassifier": "poseclass.video.person",
    "PeopleVideoClassifier": "poseclass.video.people",
    "VideoOptions": "poseclass.video.timeline",
    "FrameResult": "poseclass.video.timeline",
    "PersonFrameResult": "poseclass.video.people",
    "read_video": "poseclass.video.io",
    # data
    "preprocess": "poseclass.data.preprocess",
    "evaluate": "poseclass.data.evaluate",
    "inspect_data": "poseclass.data.inspect",
    # training (the train extra)
    "KeypointDataset": "poseclass.training.dataset",
    "load_splits": "poseclass.training.dataset",
    "PoseClassifier": "poseclass.training.classifier",
    "TrainConfig": "poseclass.training.classifier",
    # errors
    "PoseclassError": "poseclass.errors",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> object:
    if name in _EXPORTS:
        return getattr(import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'poseclass' has no attribute {name!r}")
