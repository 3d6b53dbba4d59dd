"""Classifying poses with an exported model folder, on LiteRT only.

- :mod:`.folder`: :class:`~poseclass.classify.folder.ModelFolder`, the folder ``train`` writes,
  opened once and checked (labels, manifest, pose-model settings, files);
- :mod:`.classifier`: the exported classifier (keypoints in, probabilities out);
- :mod:`.pipeline`: :class:`~poseclass.classify.pipeline.PosePipeline`, image → pose → classes;
- :mod:`.results`: what an image gives (:class:`Prediction`, :class:`PersonPrediction`).
"""
