"""The ``poseclass`` command: one verb per job, one module per verb.

Each verb module has ``add_parser(sub)`` (its options and help) and ``run(args)`` (the work);
:mod:`.args` holds what their parsers share and :mod:`.output` every text, JSON and CSV format.
Imports of the work are deferred into ``run``, so ``poseclass predict`` pays only for LiteRT,
numpy and Pillow, never for TensorFlow, pandas or matplotlib. Every
:class:`~poseclass.errors.PoseclassError` becomes one line on stderr and exit status 2.
"""

from __future__ import annotations

import argparse
import difflib
import functools
import os
import sys

from poseclass import __version__
from poseclass.cli import data, deploy, detect, evaluate, inspect, models, predict, preprocess, train

VERBS = (models, detect, preprocess, train, inspect, predict, evaluate, deploy, data)
EPILOG = """\
typical use:
  poseclass preprocess yoga_poses/ --out keypoints/     images -> keypoint CSVs
  poseclass train yoga_poses/ --out model/              images or CSVs -> model/pose_classifier.tflite
  poseclass predict photo.jpg --model model/            image -> ranked classes
  poseclass evaluate yoga_poses/test --model model/     accuracy over a labelled tree
  poseclass detect photo.jpg --overlay pose.png         keypoints of one person
  poseclass inspect yoga_poses/                         duplicates, leaks, mislabelled and unusable images
  poseclass deploy model/                               the files apps ship (metadata, fused model)

--model always names a model folder; --pose-model chooses the MoveNet variant.
MoveNet models are provisioned on first use (see `poseclass models --help`).
"""


# What Ctrl-C leaves behind, by verb: said exactly, so nobody expects a resume that will not happen.
KEPT = {
    "preprocess": "finished work is kept, run the same command to resume",
    "evaluate": "the keypoints of the images done so far are kept and reused by the next run",
    "inspect": "the keypoints of the images done so far are kept and reused by the next run",
    "train": "the keypoints of the images done so far are kept and reused by the next run; training itself "
             "starts over (the model folder is unchanged)",
    "models": "models already in the cache are kept; a half-built one is never cached",
    "predict": "answers already printed stand; a video's --out rows are kept up to the last frame",
    "data": "an unfinished copy is never left in DEST",
    "deploy": "each file is written whole or not at all",
}


class _Parser(argparse.ArgumentParser):
    """argparse, but a mistyped option is named first (with the close one), not hidden behind a missing one.

    argparse reports "the following arguments are required: --model" for ``--modle runs/m``,
    because the typo left --model unset; the typo is the mistake to show.
    """

    def parse_known_args(self, args=None, namespace=None):  # noqa: ANN001, ANN201 - argparse's own signature
        self._typos = [a.split("=")[0] for a in (sys.argv[1:] if args is None else args)
                       if a.startswith("--") and a != "--" and not self._known(a.split("=")[0])]
        return super().parse_known_args(args, namespace)

    def _options(self) -> list[str]:
        return [o for action in self._actions for o in action.option_strings]

    def _known(self, option: str) -> bool:
        matches = [o for o in self._options() if o.startswith(option)]
        return option in matches or len(matches) == 1

    def error(self, message: str) -> None:
        typos = getattr(self, "_typos", [])
        if typos and (message.startswith("the following arguments are required")
                      or message.startswith("unrecognized arguments")):
            shown = [o for action in self._actions for o in action.option_strings if action.help != argparse.SUPPRESS]
            close = difflib.get_close_matches(typos[0], shown, n=1)
            message = f"unrecognized option {typos[0]}" + (f" (did you mean {close[0]}?)" if close else "")
        super().error(message)


def build_parser() -> argparse.ArgumentParser:
    """The whole command line: the common options, then one sub-parser per verb."""
    parser = _Parser(
        prog="poseclass",
        description="Turn a folder of labelled photos of people into a small pose classifier (MoveNet + TFLite).",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"poseclass {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    common = argparse.ArgumentParser(add_help=False)
    talk = common.add_mutually_exclusive_group()
    talk.add_argument("-q", "--quiet", action="store_true", help="no progress bars or notes: results and errors only")
    talk.add_argument("-v", "--verbose", action="store_true",
                      help="also show library logs (TensorFlow, LiteRT) and Keras' per-epoch lines")
    common.add_argument("--json", action="store_true", help="machine-readable output on stdout (no progress bars)")
    sub.add_parser = functools.partial(sub.add_parser, parents=[common])
    for verb in VERBS:
        verb.add_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from poseclass import quiet
    from poseclass.errors import PoseclassError

    if args.verbose:
        os.environ[quiet.VERBOSE_ENV] = "1"
    if args.quiet or args.json:
        os.environ[quiet.QUIET_ENV] = "1"
    try:
        return args.func(args)
    except (PoseclassError, FileNotFoundError) as error:
        print(f"poseclass {args.command}: error: {error}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # e.g. `poseclass detect ... --json | head`
        return 0
    except KeyboardInterrupt:
        print(f"poseclass {args.command}: interrupted; {KEPT.get(args.command, 'nothing was written')}.",
              file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
