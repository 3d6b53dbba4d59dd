"""``poseclass inspect``: find the data problems that cap accuracy, without changing the data.

- :mod:`.report`: :func:`inspect_data`, the findings as plain data;
- :mod:`.pixels`: perceptual hashes, blank and drawing-like pictures (Pillow, numpy);
- :mod:`.poses`: k-NN on normalised poses, faint and partial poses, keypoint visibility (numpy);
- :mod:`.summary`: the terminal summary; :mod:`.page`: the offline HTML page of suspects.
"""

from __future__ import annotations

from poseclass.data.inspect.report import inspect_data

__all__ = ["inspect_data"]
