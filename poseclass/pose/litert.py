"""Creating LiteRT interpreters: the one place poseclass touches the TFLite runtime API.

LiteRT prints "INFO: Created TensorFlow Lite XNNPACK delegate" from C++ straight to file
descriptor 2 whenever an interpreter is made, which clutters ``--json`` pipelines and
progress bars; it is silenced here (errors still surface as Python exceptions).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from poseclass.quiet import native_stderr_silenced


def interpreter(model: str | Path | bytes, num_threads: int | None = None) -> Any:
    """A LiteRT interpreter for ``model`` (a file, or a model's bytes) with tensors allocated (XNNPACK, ``num_threads`` threads)."""
    from ai_edge_litert.interpreter import Interpreter

    source = {"model_content": model} if isinstance(model, bytes) else {"model_path": str(model)}
    with native_stderr_silenced():
        result = Interpreter(**source, num_threads=num_threads or os.cpu_count() or 1)
        result.allocate_tensors()
    return result
