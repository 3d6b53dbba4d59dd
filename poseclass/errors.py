"""Every error poseclass raises for something the user can fix, under one base class.

A :class:`PoseclassError` carries one line that names the file or setting at fault and what
to do about it; the CLI prints it as ``poseclass VERB: error: ...`` with exit status 2 and no
traceback, and a Python caller can catch the base class. Each subclass also derives from the
built-in exception it always was (``ValueError``, ``RuntimeError``, ``ImportError``), so code
written against those keeps working. Bugs stay ordinary exceptions, with their tracebacks.
"""

from __future__ import annotations


class PoseclassError(Exception):
    """A problem the user can fix; the message is one line that says what to do."""


class UsageError(PoseclassError, ValueError):
    """Options or arguments that cannot work together (the CLI's own checks)."""


class ImageError(PoseclassError, ValueError):
    """An image file that cannot be used; the message names the file and what to do."""


class VideoError(ImageError):
    """A video that cannot be read (to the end); reported exactly like a bad image."""


class DatasetError(PoseclassError, ValueError):
    """A data folder (or a file in it: a keypoint CSV, an exclude list) that cannot be used as it is."""


class ModelError(PoseclassError, RuntimeError):
    """No usable pose model (MoveNet); the message lists what was tried and how to supply one."""


class ModelFolderError(PoseclassError, ValueError):
    """A model folder that cannot be used as it is; the message says what to do."""


class RuntimeFetchError(PoseclassError, RuntimeError):
    """A pinned file from a package registry (the web page's runtime) that could not be fetched or failed its sha256."""


class MissingExtra(PoseclassError, ImportError):
    """A feature whose pip extra is not installed; the message is the install command."""


class WorkerError(PoseclassError, RuntimeError):
    """The detector could not start in a worker, or a worker was lost for good."""


class ClusterError(PoseclassError, ValueError):
    """A ``--dask`` value that does not give a cluster; the message says what to give."""
