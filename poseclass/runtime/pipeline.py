"""Inference: image → MoveNet keypoints → classifier probabilities, all on LiteRT.

This module must never import TensorFlow (a test enforces it): a cold
``poseclass predict image.jpg`` pays for LiteRT, numpy and Pillow only.

>>> pipe = PosePipeline.load("model/")
>>> result = pipe.predict("photo.jpg")
>>> result.status, result.predictions[:2]
('ok', [('tree', 0.98), ('warrior', 0.01)])
>>> [(p.label, p.box) for p in pipe.predict_people("class.jpg")]   # MoveNet MultiPose: everyone
[('tree', (12.0, 40.5, 220.3, 610.0)), ('chair', (300.1, 95.2, 512.8, 600.4))]

A folder trained on MultiPose keypoints (``train --model multipose``) carries the MultiPose file:
``predict`` classifies its most confident person and ``predict_people`` everyone, both with it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import numpy as np
from PIL import Image

from poseclass.provision.registry import MULTIPOSE_VARIANT
from poseclass.runtime import litert
from poseclass.runtime.images import ImageError, as_rgb
from poseclass.runtime.keypoints import Pose
from poseclass.runtime.modeldir import TFLITE_NAME, bundled_movenet, movenet_settings, read_manifest
from poseclass.runtime.movenet import MoveNet
from poseclass.runtime.multipose import Box, MultiPoseNet, TopPerson, box_dict, person_detector

Detector = MoveNet | TopPerson  # one person's keypoints per image: what predict and video tracking use


class Classifier:
    """The exported pose classifier TFLite model on LiteRT (input ``[N,1,17,3]`` MoveNet keypoints)."""

    def __init__(self, path: str | Path, labels: list[str], num_threads: int = 1) -> None:
        self.path = Path(path)
        self.labels = labels
        self.interpreter = litert.interpreter(self.path, num_threads)
        self._input = self.interpreter.get_input_details()[0]
        self._output = self.interpreter.get_output_details()[0]["index"]
        self._batch = 1

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


@dataclass
class Prediction:
    """One image's answer. ``status``: ``ok``, ``no_pose`` (nobody found) or ``error`` (unreadable)."""

    image: str
    status: str
    predictions: list[tuple[str, float]] = field(default_factory=list)
    pose: Pose | None = None
    error: str | None = None

    @property
    def label(self) -> str | None:
        """The top class, or None when there is no answer."""
        return self.predictions[0][0] if self.predictions else None

    def to_dict(self, top_k: int | None = None) -> dict[str, object]:
        out: dict[str, object] = {
            "image": self.image,
            "status": self.status,
            "predictions": [{"label": k, "probability": round(p, 6)} for k, p in self.predictions[:top_k]],
            "keypoints": self.pose.to_dicts() if self.pose else None,
        }
        if self.error:
            out["error"] = self.error
        return out


@dataclass
class PersonPrediction:
    """One person in a multi-person image: box ``(x0, y0, x1, y1)`` in pixels, person score, keypoints, classes."""

    box: Box
    score: float
    pose: Pose
    predictions: list[tuple[str, float]]

    @property
    def label(self) -> str:
        return self.predictions[0][0]

    def to_dict(self, top_k: int | None = None) -> dict[str, object]:
        return {
            "box": box_dict(self.box),
            "person_score": round(self.score, 4),
            "predictions": [{"label": k, "probability": round(p, 6)} for k, p in self.predictions[:top_k]],
            "keypoints": self.pose.to_dicts(),
        }


class PosePipeline:
    """MoveNet (the variant the classifier was trained with) chained with the classifier.

    ``movenet`` and ``multipose`` may be given as functions that build them: each is then built
    on first use, so ``predict --multi`` never loads single-pose MoveNet, nor ``predict`` MultiPose.
    """

    def __init__(self, movenet: Detector | Callable[[], Detector], classifier: Classifier,
                 manifest: dict[str, object], multipose: MultiPoseNet | Callable[[], MultiPoseNet] = MultiPoseNet
                 ) -> None:
        self._movenet, self._multipose = movenet, multipose
        self.classifier, self.manifest = classifier, manifest
        self.labels = classifier.labels

    @property
    def movenet(self) -> Detector:
        """The one-person detector the classifier's training keypoints came from (built on first use)."""
        if callable(self._movenet):
            self._movenet = self._movenet()
        return self._movenet

    @property
    def multipose(self) -> MultiPoseNet:
        """MoveNet MultiPose for :meth:`predict_people`: the folder's own file when it was trained on
        MultiPose keypoints, else the model cache's (built on first use)."""
        if callable(self._multipose):
            self._multipose = self._multipose()
        return self._multipose

    @classmethod
    def load(cls, model_dir: str | Path, movenet_path: str | Path | None = None, passes: int | None = None) -> PosePipeline:
        """Open an exported model directory (from ``poseclass train`` or ``PoseClassifier.export``).

        MoveNet is the file the folder carries, so a copied folder predicts with no cache,
        network or TensorFlow; folders written before poseclass bundled it use the cache.
        ``movenet_path`` replaces that file; ``passes`` (single-pose only) its crop refinement.
        """
        manifest = read_manifest(model_dir)
        settings = movenet_settings(manifest)
        settings["passes"] = settings["passes"] if passes is None else passes
        model_path = movenet_path or bundled_movenet(model_dir, manifest)
        classifier = Classifier(Path(model_dir) / TFLITE_NAME, list(manifest["labels"]))
        detector = partial(person_detector, settings["variant"], model_path, None, settings["passes"],
                           settings["refine_below"])
        if settings["variant"] != MULTIPOSE_VARIANT:
            return cls(detector, classifier, manifest)
        top = detector()  # MultiPose serves predict and predict_people: one interpreter, the folder's file
        return cls(top, classifier, manifest, top.net)

    def predict(self, image: str | Path | Image.Image | np.ndarray, name: str | None = None) -> Prediction:
        """Classify the person in one image (path, Pillow image or HxWx3 uint8 array); never raises for bad files."""
        name = name or (str(image) if isinstance(image, (str, Path)) else "<array>")
        try:
            picture = as_rgb(image)
        except ImageError as error:
            return Prediction(name, "error", error=str(error))
        pose = self.movenet.detect(picture)
        if not MoveNet.has_person(pose):
            return Prediction(name, "no_pose", pose=pose, error=f"{name}: no person found (keypoint confidence {pose.presence:.2f})")
        return Prediction(name, "ok", self.rank(self.classifier.predict_proba(pose.as_movenet())[0]), pose)

    def predict_people(
        self,
        image: str | Path | Image.Image | np.ndarray,
        max_people: int | None = None,
        min_person_score: float | None = None,
    ) -> list[PersonPrediction]:
        """Everyone in one image (MoveNet MultiPose), most confident first, each classified; [] when nobody.

        Each person's keypoints go to the unchanged classifier as a ``[1, 1, 17, 3]`` pose in the
        single-pose frame (:meth:`Pose.as_movenet`). Raises :class:`ImageError` for an unreadable image.
        """
        people = self.multipose.detect(image, max_people, min_person_score)
        if not people:
            return []
        probabilities = self.classifier.predict_proba(np.concatenate([p.pose.as_movenet() for p in people]))
        return [PersonPrediction(p.box, p.score, p.pose, self.rank(prob)) for p, prob in zip(people, probabilities)]

    def rank(self, probabilities: np.ndarray) -> list[tuple[str, float]]:
        """Labels with their probabilities, most likely first."""
        order = np.argsort(-probabilities, kind="stable")
        return [(self.labels[i], float(probabilities[i])) for i in order]
