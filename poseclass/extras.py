"""Optional parts of poseclass: which pip extra brings what, and a one-line message when it is missing.

``pip install poseclass`` is the runtime (LiteRT, numpy, Pillow): detect, predict, evaluate.
``poseclass[train]`` adds TensorFlow/Keras, pandas, scikit-learn and matplotlib for training,
MoveNet conversion and the pictures. ``poseclass[dask]`` adds ``--dask`` (a Dask cluster for
preprocess and evaluate); ``poseclass[video]`` adds video input.
"""

from __future__ import annotations

from importlib.util import find_spec

from poseclass.errors import MissingExtra

TRAIN = "train"
DASK = "dask"


def _installed(name: str) -> bool:
    """Whether ``name`` can be imported, found without importing it (TensorFlow takes seconds)."""
    try:
        return find_spec(name) is not None
    except (ImportError, ValueError):  # ValueError: blocked or half-imported (``sys.modules[name] = None``)
        return False


def require(extra: str, *modules: str, what: str) -> None:
    """Raise :class:`MissingExtra` unless every one of ``modules`` is installed."""
    for name in modules:
        if not _installed(name):
            raise MissingExtra(f"{what} needs {name}, from the {extra!r} extra: pip install 'poseclass[{extra}]'")


def available(*modules: str) -> bool:
    """Whether every one of ``modules`` is installed (for optional output such as pictures)."""
    return all(_installed(name) for name in modules)
