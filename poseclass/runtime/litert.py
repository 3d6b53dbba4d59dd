"""Creating LiteRT interpreters: the one place poseclass touches the TFLite runtime API.

LiteRT prints "INFO: Created TensorFlow Lite XNNPACK delegate" from C++ straight to file
descriptor 2 whenever an interpreter is made, which clutters ``--json`` pipelines and
progress bars; it is silenced here (errors still surface as Python exceptions).
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any


@contextlib.contextmanager
def _native_stderr_silenced() -> Iterator[None]:
    try:
        fd = sys.stderr.fileno()
    except (AttributeError, OSError, ValueError):  # no real stderr (e.g. some notebook kernels)
        yield
        return
    sys.stderr.flush()
    saved = os.dup(fd)
    with open(os.devnull, "w") as devnull:
        os.dup2(devnull.fileno(), fd)
        try:
            yield
        finally:
            os.dup2(saved, fd)
            os.close(saved)


def interpreter(model: str | Path, num_threads: int | None = None) -> Any:
    """A LiteRT interpreter for ``model`` with tensors allocated (XNNPACK, ``num_threads`` threads)."""
    from ai_edge_litert.interpreter import Interpreter

    with _native_stderr_silenced():
        result = Interpreter(model_path=str(model), num_threads=num_threads or os.cpu_count() or 1)
        result.allocate_tensors()
    return result
