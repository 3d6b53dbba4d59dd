"""The exclude list: files kept out of ``preprocess`` and ``train`` without moving them.

One path per line, relative to DATA_DIR (``train/tree/File6.jpg``) or absolute; blank lines
and lines starting with ``#`` are ignored, so ``poseclass inspect --write-exclude`` can say
why each file is listed. Excluded files appear in ``skipped.csv`` with status and reason
``excluded``: left out on purpose, never silently.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path, PurePosixPath

EXCLUDED = "excluded"


def _relative(entry: str, root: Path) -> str:
    """``entry`` as a POSIX path relative to ``root`` (an absolute path outside it is kept as given)."""
    path = Path(entry)
    if path.is_absolute():
        try:
            return path.resolve().relative_to(root).as_posix()
        except ValueError:
            return path.as_posix()
    return PurePosixPath(entry.replace("\\", "/")).as_posix().removeprefix("./")


def read_exclude(source: str | Path | Iterable[str], data_dir: str | Path) -> set[str]:
    """The files to exclude, relative to ``data_dir``: from an exclude file, or from an iterable of paths."""
    from poseclass.errors import DatasetError

    if isinstance(source, (str, Path)):
        try:
            lines = Path(source).read_text(encoding="utf-8").splitlines()
        except UnicodeDecodeError:
            raise DatasetError(f"{source}: the exclude list is not text; give one image path per line") from None
        except OSError as error:
            raise DatasetError(f"{source}: cannot read the exclude list ({error.strerror or error})") from None
    else:
        lines = [str(entry) for entry in source]
    root = Path(data_dir).resolve()
    entries = (line.strip() for line in lines)
    return {_relative(entry, root) for entry in entries if entry and not entry.startswith("#")}


def write_exclude(path: str | Path, entries: Iterable[tuple[str, str]]) -> None:
    """Write an exclude list: a header that says to edit it, then each ``(file, reason)`` as a ``# reason``
    comment line and the file."""
    from poseclass.files import atomic_write

    header = ("# Written by `poseclass inspect`: every suspect outside test/, outliers and partial bodies included.\n"
              "# Edit it before use: keep leaked copies, double-filed pictures and misfiled poses; look at the\n"
              "# others before dropping them (real users send such pictures too). One path per line.\n")
    atomic_write(Path(path), header + "".join(f"# {reason}\n{file}\n" for file, reason in entries))
