"""Training: keypoint datasets (pandas), the Keras classifier, its export, and the pictures.

Needs the ``train`` extra (TensorFlow/Keras, pandas, scikit-learn, matplotlib); importing
this package without it says so in one line. TensorFlow is imported here once, with its
C++ start-up logs kept out of the terminal (see :mod:`poseclass.quiet`).
"""

from poseclass.extras import TRAIN, require
from poseclass.quiet import import_tensorflow

require(TRAIN, "pandas", "sklearn", "matplotlib", "keras", "tensorflow", what="training")
import_tensorflow()
