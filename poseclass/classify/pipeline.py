"""Inference: image → MoveNet keypoints → classifier probabilities, all on LiteRT.

This module must never import TensorFlow (a test enforces it): a cold
``poseclass predict image.jpg`` pays for LiteRT, numpy and Pillow only.

>>> pipe = PosePipeline.load("model/")
>>> result = pipe.predict("photo.jpg")
>>> result.status, result.predictions[:2]
('ok', [('tree', 0.98), ('warrior', 0.01)])
>>> [(p.label, p.box) for p in pipe.predict_people("class.jpg")]   # everyone, read top-down
[('tree', (12.0, 40.5, 220.3, 610.0)), ('chair', (300.1, 95.2, 512.8, 600.4))]

``predict_people`` reads several people top-down (:class:`~poseclass.pose.people.TopDown`): MultiPose
finds them, the folder's own single-pose MoveNet reads each one on their crop, and the classifier sees
the keypoints it was trained on. A folder trained on MultiPose keypoints (``train --pose-model
multipose``) carries the MultiPose file: ``predict`` classifies its most confident person and
``predict_people`` everyone, both with MultiPose's own keypoints.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from pathlib import Path

import numpy as np
from PIL import Image

from poseclass.classify.classifier import Classifier
from poseclass.classify.folder import ModelFolder
from poseclass.classify.results import PersonPrediction, Prediction
from poseclass.errors import ImageError
from poseclass.images import as_rgb
from poseclass.pose.detector import PoseDetector, is_single_pose, open_detector
from poseclass.pose.movenet import MoveNet
from poseclass.pose.multipose import MultiPoseNet, Person
from poseclass.pose.people import TopDown


class PosePipeline:
    """MoveNet (the variant the classifier was trained with) chained with the classifier.

    ``movenet`` and ``multipose`` may be given as functions that build them: each is then built
    on first use, so ``predict --multi`` never loads single-pose MoveNet, nor ``predict`` MultiPose.
    """

    def __init__(self, movenet: PoseDetector | Callable[[], PoseDetector], classifier: Classifier,
                 folder: ModelFolder | None = None,
                 multipose: MultiPoseNet | Callable[[], MultiPoseNet] = MultiPoseNet) -> None:
        self._movenet, self._multipose = movenet, multipose
        self._people: TopDown | MultiPoseNet | None = None
        self.classifier, self.folder = classifier, folder
        self.labels = classifier.labels

    @property
    def movenet(self) -> PoseDetector:
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

    @property
    def people(self) -> TopDown | MultiPoseNet:
        """What :meth:`predict_people` finds people with: :class:`TopDown` (MultiPose finds, single-pose
        MoveNet reads) when the classifier was trained on single-pose keypoints; MultiPose alone when it was
        trained on MultiPose's. Both answer ``detect(image, max_people, min_person_score)``."""
        if self._people is None:
            multipose_keypoints = self.folder is not None and not is_single_pose(self.folder.variant)
            if multipose_keypoints or not isinstance(self.movenet, MoveNet):
                self._people = self.multipose
            else:
                self._people = TopDown(self.multipose, self.movenet)
        return self._people

    @classmethod
    def load(cls, model_dir: str | Path, movenet_path: str | Path | None = None, passes: int | None = None) -> PosePipeline:
        """Open an exported model directory (from ``poseclass train`` or ``PoseClassifier.export``).

        MoveNet is the file the folder carries, so a copied folder predicts with no cache,
        network or TensorFlow; folders written before poseclass bundled it use the cache.
        ``movenet_path`` replaces that file; ``passes`` (single-pose only) its crop refinement.
        """
        folder = ModelFolder.open(model_dir)
        settings = folder.detector_settings
        settings["passes"] = settings["passes"] if passes is None else passes
        detector = partial(open_detector, settings["variant"], movenet_path or folder.movenet_file(), None,
                           settings["passes"], settings["refine_below"])
        if is_single_pose(folder.variant):
            return cls(detector, folder.classifier(), folder)
        top = detector()  # MultiPose serves predict and predict_people: one interpreter, the folder's file
        return cls(top, folder.classifier(), folder, top.net)

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
        probabilities = self.classifier.predict_proba(pose.as_movenet())[0]
        return Prediction(name, self.classifier.status(probabilities), self.rank(probabilities), pose)

    def predict_people(
        self,
        image: str | Path | Image.Image | np.ndarray,
        max_people: int | None = None,
        min_person_score: float | None = None,
    ) -> list[PersonPrediction]:
        """Everyone in one image, most confident first, each classified; [] when nobody.

        MultiPose finds the people; each is read by :attr:`people` (single-pose MoveNet on their crop, for a
        classifier trained on single-pose keypoints) and their keypoints go to the unchanged classifier as a
        ``[1, 1, 17, 3]`` pose in the single-pose frame (:meth:`Pose.as_movenet`). Raises
        :class:`ImageError` for an unreadable image.
        """
        return self.classify_people(self.people.detect(image, max_people, min_person_score))

    def classify_people(self, people: list[Person]) -> list[PersonPrediction]:
        """Each of ``people`` (keypoints in image pixels) classified, in one classifier call."""
        if not people:
            return []
        probabilities = self.classifier.predict_proba(np.concatenate([p.pose.as_movenet() for p in people]))
        return [PersonPrediction(p.box, p.score, p.pose, self.rank(prob), self.classifier.status(prob))
                for p, prob in zip(people, probabilities)]

    def rank(self, probabilities: np.ndarray) -> list[tuple[str, float]]:
        """Labels with their probabilities, most likely first."""
        order = np.argsort(-probabilities, kind="stable")
        return [(self.labels[i], float(probabilities[i])) for i in order]
