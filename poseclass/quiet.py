"""Keeping library noise out of the user's terminal.

TensorFlow, absl, MLIR and LiteRT write log lines ("I0000 ... cpu_feature_guard",
"E0000 ... node_def_util", "Created TensorFlow Lite XNNPACK delegate") from C++ straight to
file descriptor 2, past any Python setting. While :func:`native_stderr_silenced` is active,
fd 2 goes to /dev/null and Python's own ``sys.stderr`` (progress bars, poseclass's messages)
keeps the terminal. ``POSECLASS_VERBOSE=1`` (``--verbose``) lets everything through, and
``POSECLASS_QUIET=1`` (``--quiet``, ``--json``) silences poseclass's own notes too.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator

VERBOSE_ENV = "POSECLASS_VERBOSE"
QUIET_ENV = "POSECLASS_QUIET"


def progress_bar(**options: object) -> object:
    """A tqdm bar on stderr: the notebook widget where ipywidgets is installed, else the text bar.

    ``tqdm.auto`` alone warns "IProgress not found" in a Jupyter without ipywidgets.
    """
    from poseclass.extras import available

    if available("ipywidgets"):
        from tqdm.auto import tqdm
    else:
        from tqdm import tqdm
    return tqdm(file=sys.stderr, **options)


@contextlib.contextmanager
def working(label: str) -> Iterator[None]:
    """A line that shows ``label`` and the time spent, for a long step with no measurable progress.

    Off with ``--quiet``/``--json``, like the progress bars.
    """
    import threading

    bar = progress_bar(desc=label, bar_format="{desc}: {elapsed}", disable=bool(os.environ.get(QUIET_ENV)))
    stop = threading.Event()

    def tick() -> None:
        while not stop.wait(0.5):
            bar.refresh()

    ticker = threading.Thread(target=tick, daemon=True)
    ticker.start()
    try:
        yield
    finally:
        stop.set()
        ticker.join()
        bar.close()


def verbose() -> bool:
    """Whether library logs should be shown (``--verbose``)."""
    return bool(os.environ.get(VERBOSE_ENV))


def note(message: str) -> None:
    """A progress note for people, on stderr; none with ``--quiet`` or ``--json``."""
    if not os.environ.get(QUIET_ENV):
        print(message, file=sys.stderr, flush=True)


def quiet_tensorflow_logs() -> None:
    """Before TensorFlow is imported: its Python and C++ loggers at errors only (unless verbose)."""
    if not verbose():
        import logging

        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
        os.environ.setdefault("ABSL_MIN_LOG_LEVEL", "3")
        for name in ("absl", "tensorflow"):  # Python-side warnings such as the converter's deprecation notes
            logging.getLogger(name).setLevel(logging.ERROR)


def import_tensorflow() -> object:
    """``import tensorflow`` without its start-up logs (oneDNN, CPU features) in the terminal."""
    quiet_tensorflow_logs()
    with native_stderr_silenced():
        import tensorflow

    return tensorflow


@contextlib.contextmanager
def native_stderr_silenced() -> Iterator[None]:
    """Send C/C++ writes to fd 2 to /dev/null for the duration; Python's ``sys.stderr`` still shows."""
    if verbose():
        yield
        return
    try:
        sys.stderr.flush()
        python_on_fd2 = sys.stderr.fileno() == 2
    except (AttributeError, OSError, ValueError):  # e.g. a notebook kernel's stream: not fd 2 itself
        python_on_fd2 = False
    saved = os.dup(2)
    python_stderr = sys.stderr
    with open(os.devnull, "w") as devnull:
        os.dup2(devnull.fileno(), 2)
        if python_on_fd2:
            sys.stderr = open(os.dup(saved), "w", buffering=1, encoding=python_stderr.encoding, errors="replace")
        try:
            yield
        finally:
            if python_on_fd2:
                sys.stderr.flush()
                sys.stderr.close()
                sys.stderr = python_stderr
            os.dup2(saved, 2)
            os.close(saved)
