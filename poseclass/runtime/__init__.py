"""The runtime: everything inference needs, on LiteRT, numpy and Pillow only.

Images → MoveNet keypoints → the exported classifier, the model folder, keypoint CSVs and
scoring. Nothing here imports TensorFlow, pandas, scikit-learn or matplotlib (a test
imports every module with them blocked), so ``pip install poseclass`` stays small.
"""
