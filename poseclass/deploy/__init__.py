"""The files apps ship: standard TFLite metadata on the classifier, and one fused image → class model.

:func:`poseclass.deploy.bundle.write_deploy` writes them into a model folder
(``poseclass deploy MODEL_DIR``; ``poseclass train`` calls it). Metadata is written with the
``flatbuffers`` package alone (:mod:`poseclass.deploy.metadata`); the fused model needs
TensorFlow (the ``train`` extra).
"""
