"""The files apps ship: standard TFLite metadata on the classifier, one fused image → class model, a web page.

:func:`poseclass.deploy.bundle.write_deploy` writes them into a model folder
(``poseclass deploy MODEL_DIR``; ``poseclass train`` calls it). Metadata is written with the
``flatbuffers`` package alone (:mod:`poseclass.deploy.metadata`); the fused model needs
TensorFlow (the ``train`` extra). :func:`poseclass.deploy.web.write_web` writes an offline web page
around the fused model (``poseclass deploy MODEL_DIR --web OUT_DIR``).
"""
