"""Training: keypoint datasets (pandas), the Keras classifier, its export, and the pictures.

Needs the ``train`` extra (TensorFlow/Keras, pandas, scikit-learn, matplotlib); importing
this package without it says so in one line.
"""

from poseclass.extras import TRAIN, require

require(TRAIN, "pandas", "sklearn", "matplotlib", "keras", "tensorflow", what="training")
