"""What the verbs' parsers share: number types, the pose-model and exclude options, output paths checked early.

Light on purpose (argparse and the pose-model registry only): building the parser must not
import numpy, LiteRT or TensorFlow, so ``poseclass --help`` and ``poseclass predict`` start fast.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from collections.abc import Callable
from pathlib import Path

from poseclass.errors import UsageError
from poseclass.pose.models import DEFAULT_VARIANT, SINGLE_POSE_VARIANTS, VARIANTS


def number_type(cast: type, ok: Callable[[float], bool], rule: str) -> Callable[[str], float]:
    """An argparse type: ``cast(text)`` if ``ok`` accepts it, else a message that states ``rule``.

    Ranges are checked where the value is read, so 0 is refused rather than taken as "not given".
    """
    def parse(text: str) -> float:
        try:
            value = cast(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a {'whole number' if cast is int else 'number'}") from None
        if not ok(value):
            raise argparse.ArgumentTypeError(f"must be {rule}, not {value:g}")
        return value

    return parse


positive_int = number_type(int, lambda v: v >= 1, "at least 1")
fraction = number_type(float, lambda v: 0 < v < 1, "between 0 and 1 (exclusive)")
seconds = number_type(float, lambda v: v >= 0, "0 or more seconds")
share = number_type(float, lambda v: 0 <= v < 1, "from 0 (none) up to, not including, 1")


def add_unknown(parser: argparse.ArgumentParser) -> None:
    """``--unknown-below P`` / ``--no-unknown``: override the model folder's "unknown" threshold."""
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--unknown-below", type=fraction, metavar="P",
                       help="call a pose unknown when its top probability is under P (default: the threshold the "
                       "model learned at train time, in its manifest)")
    group.add_argument("--no-unknown", action="store_true", help="always answer with the top class, never unknown")


def set_unknown(args: argparse.Namespace, classifier: object) -> None:
    """Apply ``--unknown-below`` / ``--no-unknown`` to a loaded classifier."""
    if args.no_unknown:
        classifier.unknown_below = None
    elif args.unknown_below is not None:
        classifier.unknown_below = args.unknown_below


def progress(args: argparse.Namespace) -> bool:
    """Whether to show progress bars: not with ``--json`` or ``--quiet``."""
    return not (args.json or args.quiet)


class _DeprecatedModel(argparse.Action):
    """``--model VARIANT`` on verbs that now spell it ``--pose-model``: still taken, with a one-line note."""

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace, value: object,
                 option: str | None = None) -> None:
        print(f"{parser.prog}: note: --model {value} is now --pose-model {value} "
              "(--model names a model folder); the old spelling goes in a later version", file=sys.stderr)
        namespace.variant = value


POSE_MODEL_HELP = ("MoveNet variant: thunder (256 px, most accurate), thunder-int8 (Thunder with an int8 backbone: "
                   "about 2x faster on a CPU, keypoints as accurate; see README) or lightning (192 px, fastest)")
MULTI_PERSON_HELP = ("; multipose: MultiPose's most confident person (for a model that will classify the people "
                     "predict --multi finds)")


def add_pose_model(parser: argparse.ArgumentParser, default: str | None = DEFAULT_VARIANT, multi_person: bool = False,
                   choices: list[str] | None = None, help: str | None = None) -> None:
    """``--pose-model`` (and its old spelling ``--model``, with a note) and ``--movenet``.

    ``multi_person``: MultiPose's most confident person is a choice too.
    """
    choices = choices or (list(VARIANTS) if multi_person else list(SINGLE_POSE_VARIANTS))
    help = help or (POSE_MODEL_HELP + (MULTI_PERSON_HELP if multi_person else "")
                    + (f"; default {default}" if default else ""))
    parser.add_argument("--pose-model", dest="variant", choices=choices, default=default, help=help)
    parser.add_argument("--model", dest="variant", choices=choices, action=_DeprecatedModel, help=argparse.SUPPRESS)
    parser.add_argument("--movenet", metavar="PATH.tflite", help="use this MoveNet TFLite file instead of the cache")


def add_exclude(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--exclude", metavar="FILE",
                        help="leave out the files listed in FILE (one path per line, relative to DATA_DIR or absolute; "
                        "# comments), e.g. from `poseclass inspect --write-exclude`; listed in skipped.csv as excluded")


def add_dask(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--dask", metavar="ADDRESS",
                        help="run on a Dask cluster: tcp://SCHEDULER:8786, or local:N for N local worker processes "
                        "(needs pip install 'poseclass[dask]'; images must be at the same path on every worker)")


def executor(args: argparse.Namespace) -> contextlib.AbstractContextManager:
    """The ``--dask`` cluster's client for the duration of a command, or None (the local process pool)."""
    if not args.dask:
        return contextlib.nullcontext()
    from poseclass.data.cluster import dask_client

    return dask_client(args.dask)


def writable(path: str | Path, option: str, what: str = "") -> str:
    """``path`` if a file can be written there, checked before any work and without creating it; else one line.

    The file itself is not touched, so a command that stops later leaves no empty file behind.
    """
    target = Path(path)
    folder = target.parent if str(target.parent) else Path(".")
    if target.is_dir():
        problem = "it is a folder"
    elif not folder.is_dir():
        problem = f"no folder {folder}"
    elif not os.access(target if target.exists() else folder, os.W_OK):
        problem = "Permission denied"
    else:
        return str(path)
    raise UsageError(f"cannot write {what + ' ' if what else ''}{path} ({problem}); pass {option} somewhere writable")


def output_paths(base: str, inputs: list[str], default_suffix: str = ".png") -> list[Path]:
    """One output file per input: ``base`` itself for one input, else ``base-<input stem>``, numbered on repeats."""
    base_path = Path(base)
    if len(inputs) == 1:
        return [base_path]
    paths, seen = [], {}
    for name in inputs:
        stem = Path(name).stem
        seen[stem] = seen.get(stem, 0) + 1
        suffix = f"-{seen[stem]}" if seen[stem] > 1 else ""
        paths.append(base_path.with_name(f"{base_path.stem}-{stem}{suffix}{base_path.suffix or default_suffix}"))
    return paths
