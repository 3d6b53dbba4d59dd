"""Writing files so that readers never see half of one, locks between processes, and ``labels.txt``."""

from __future__ import annotations

import contextlib
import hashlib
import os
from collections.abc import Iterator
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
    from poseclass.errors import DatasetError

    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise DatasetError(f"{path}: not a labels file (UTF-8 text, one class name per line); "
                           "write it again, or re-run the command that made it") from None
    return [line.rstrip("\r") for line in text.split("\n") if line.strip()]


@contextlib.contextmanager
def locked(path: Path) -> Iterator[None]:
    """Hold an exclusive lock on ``path`` (created if needed) across processes.

    POSIX only: elsewhere the atomic renames still keep every file whole, but two runs may
    repeat each other's work.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        import fcntl
    except ImportError:  # Windows
        yield
        return
    with open(path, "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def download(url: str, path: Path, timeout: float, label: str, progress: bool = True) -> None:
    """Fetch ``url`` into ``path`` with a progress bar (bytes, when the server gives a length)."""
    import urllib.request

    from poseclass.quiet import progress_bar

    with urllib.request.urlopen(url, timeout=timeout) as response, open(path, "wb") as out:
        total = int(response.headers.get("Content-Length") or 0) or None
        with progress_bar(total=total, desc=label, unit="B", unit_scale=True, disable=not progress) as bar:
            for chunk in iter(lambda: response.read(1 << 16), b""):
                out.write(chunk)
                bar.update(len(chunk))


def replace_dir(new: Path, target: Path) -> None:
    """Put the folder ``new`` at ``target``, replacing whatever folder was there, in two renames.

    Between the renames the old folder is kept under a temporary name, so a crash leaves
    either the old folder or the new one in place, never a mix of their files.
    """
    import shutil

    old = target.with_name(f".{target.name}.old-{os.getpid()}")
    if target.exists():
        os.replace(target, old)
    os.replace(new, target)
    shutil.rmtree(old, ignore_errors=True)


def sha256(path: Path) -> str:
    """Hex sha256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()
