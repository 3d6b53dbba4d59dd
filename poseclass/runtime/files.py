"""Writing files so that readers never see half of one, and the one reader/writer of ``labels.txt``."""

from __future__ import annotations

import os
from pathlib import Path

LABELS_NAME = "labels.txt"


def atomic_write(path: Path, data: str | bytes) -> None:
    """Replace ``path`` with ``data`` in one step (a kill leaves the old file or the new, never a mix)."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_bytes(data.encode() if isinstance(data, str) else data)
    os.replace(tmp, path)


def write_labels(path: Path, labels: list[str]) -> None:
    """``labels.txt``: one class name per line, in output order (names may contain spaces)."""
    atomic_write(path, "".join(f"{label}\n" for label in labels))


def read_labels(path: Path) -> list[str]:
    """The class names of a ``labels.txt``, one per non-empty line (never split on spaces)."""
    return [line.rstrip("\r") for line in path.read_text(encoding="utf-8").split("\n") if line.strip()]
