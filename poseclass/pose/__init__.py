"""Pose models: images in, 17 COCO keypoints out, on LiteRT (never TensorFlow).

- :mod:`.keypoints`: the keypoint names, skeleton and :class:`~poseclass.pose.keypoints.Pose`;
- :mod:`.models`: the registry of pose models (MoveNet variants, MultiPose), their cache and provisioning;
- :mod:`.detector`: the :class:`~poseclass.pose.detector.PoseDetector` interface and ``open_detector``;
- :mod:`.movenet`, :mod:`.multipose`: the detectors; :mod:`.people`: several people read top-down (MultiPose
  finds, single-pose MoveNet reads each); :mod:`.litert`: interpreters; :mod:`.draw`: skeletons;
- :mod:`.build`: converting Google's TF.js weights and the int8 build (needs the ``train`` extra).

A new pose model is an entry in :data:`~poseclass.pose.models.VARIANTS` and, if it is a new kind
of model, a detector class wired into :func:`~poseclass.pose.detector.open_detector`.
"""
