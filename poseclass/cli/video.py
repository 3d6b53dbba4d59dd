"""``poseclass predict VIDEO... | --camera N``: per-frame rows, a summary, an annotated copy (``--multi``: everyone).

Frames are streamed from decoder to outputs one at a time: a long video runs in constant memory.
With ``--multi`` everyone is followed under an id (:mod:`poseclass.video.people`): the rows are
one per person per frame (a frame with nobody has none) and the summary is per person.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from poseclass.cli.args import output_paths, progress, set_unknown, writable
from poseclass.cli.output import csv_rows, json_line, video_summary_lines
from poseclass.cli.people import check_multi_args
from poseclass.errors import UsageError, VideoError

if TYPE_CHECKING:
    from poseclass.classify.pipeline import PosePipeline
    from poseclass.video.io import VideoReader
    from poseclass.video.timeline import VideoOptions


def _paths(base: str | None, names: list[str], default_suffix: str, option: str) -> list[Path | None]:
    """One output file per video (``base`` itself for one, else ``base-<video stem>``), each checked writable now."""
    if not base:
        return [None] * len(names)
    paths = [p if p.suffix else p.with_suffix(default_suffix) for p in output_paths(base, names, default_suffix)]
    for path in paths:
        writable(path, option)
    return paths


def _options(args: argparse.Namespace) -> VideoOptions:
    """The video settings from the command line (defaults where not given), checked."""
    from poseclass.video.timeline import VideoOptions

    options = VideoOptions.of(alpha=args.alpha, count=tuple(args.count or ()), enter=args.enter, exit=args.exit,
                              min_segment_s=args.min_segment, count_from=args.count_from, enter_s=args.enter_s,
                              exit_s=args.exit_s)
    if options.exit >= options.enter:
        raise UsageError(f"--exit ({options.exit:g}) must be below --enter ({options.enter:g})")
    if options.min_segment_s < 0:
        raise UsageError(f"--min-segment must be 0 or more seconds, not {options.min_segment_s:g}")
    if options.count_from is not None and not options.count:
        raise UsageError(f"--from {options.count_from} says where repetitions start: add --count CLASS "
                         "(or --count any)")
    if options.count_from in options.count:
        raise UsageError(f"--count {options.count_from} --from {options.count_from}: a cycle needs two poses; "
                         "count the pose it goes to, or --count any")
    return options


def _check_classes(options: VideoOptions, labels: list[str]) -> None:
    """--count and --from must name the model's classes (``any`` only with --from): one line saying which are."""
    missing = options.missing(labels)
    if missing:
        option, name = missing
        hint = " (--count any needs --from UP)" if missing == ("count", "any") else ""
        raise UsageError(f"--{option} {name}: the model's classes are {', '.join(labels)}{hint}")


def _classify(args: argparse.Namespace, pipeline: PosePipeline, options: VideoOptions, reader: VideoReader,
              out: Path | None, annotate: Path | None) -> tuple[dict[str, object], str | None]:
    """Run one video through the classifier, streaming rows out; the summary and the error, if any."""
    from poseclass.classify.results import ANSWERED
    from poseclass.quiet import progress_bar
    from poseclass.video import io, people, timeline
    from poseclass.video.person import VideoClassifier

    if args.multi:
        clf = people.PeopleVideoClassifier(pipeline, options, max_people=args.max_people,
                                           min_person_score=args.min_person_score)
    else:
        clf = VideoClassifier(pipeline, options)
    header = (people.csv_header if args.multi else timeline.csv_header)(clf.labels, options.count)
    writer = io.AnnotatedWriter(annotate, reader.fps) if annotate else None
    error, found = None, 0
    bar = progress_bar(total=reader.total, desc=reader.name, unit="frame", disable=not progress(args))
    try:
        with csv_rows(out, header) as rows:
            for image, t in reader:
                results = clf.push(image, t) if args.multi else [clf.push(image, t)]
                found += any(result.status in ANSWERED for result in results)
                for result in results:
                    if rows is not None:
                        rows.writerow(result.csv_row())
                    elif args.json:
                        json_line(result.to_dict())
                if writer is not None and args.multi:
                    writer.write_image(people.draw_tracked(image, results), t)
                elif writer is not None:
                    writer.write(image, results[0])
                bar.update(1)
    except KeyboardInterrupt:
        if args.camera is None:
            error = f"{reader.name}: interrupted after frame {clf.frames}"
    finally:
        bar.close()
        if writer is not None:
            writer.close()
    error = error or reader.error
    if error is None and clf.frames and not found:
        error = f"{reader.name}: no person found in any of its {clf.frames} frames"
    return {"video": reader.name, **clf.summary()}, error


def predict_videos(args: argparse.Namespace, images: list[str]) -> int:
    """``poseclass predict VIDEO... | --camera N [--multi]``: exit 0, or 1 when a video was damaged, cut short or
    had nobody. ``images``: the inputs that are not videos (the caller has sorted them out)."""
    from poseclass.classify.pipeline import PosePipeline
    from poseclass.video import io

    names = [f"camera {args.camera}"] if args.camera is not None else args.images
    if images or (args.camera is not None and args.images):
        raise UsageError("give videos and images (or a camera) in separate commands; "
                         f"not a video: {', '.join(images or args.images)}")
    if args.overlay:
        raise UsageError("--overlay is for images; for a video, --annotate OUT.mp4 draws everyone on every frame")
    check_multi_args(args)
    options = _options(args)
    outs = _paths(args.out, names, ".csv", "--out FRAMES.csv")
    annotated = _paths(args.annotate, names, ".mp4", "--annotate OUT.mp4")
    pipeline = PosePipeline.load(args.model, args.movenet)
    set_unknown(args, pipeline.classifier)
    _check_classes(options, list(pipeline.labels))
    failed = False
    for name, out, annotate in zip(names, outs, annotated):
        try:
            reader = io.open_camera(args.camera) if args.camera is not None else io.read_video(name)
        except VideoError as error:
            if args.camera is not None:  # nothing to carry on with: one line, exit status 2
                raise
            failed = True
            print(f"error: {error}", file=sys.stderr)
            if args.json:
                found = {"people": [], "brief_people": 0} if args.multi else {"segments": [], "counts": {}}
                json_line({"video": name, "frames": 0, "duration_s": 0.0, **found, "error": str(error)})
            continue
        summary, error = _classify(args, pipeline, options, reader, out, annotate)
        failed = failed or error is not None
        if error:
            summary["error"] = error
            print(f"error: {error}", file=sys.stderr)
        if args.json:
            json_line(summary)
        else:
            print("\n".join(video_summary_lines(name, summary)))
            for label, path in (("frames", out), ("annotated", annotate)):
                if path is not None:
                    print(f"  {label}: {path}")
    return 1 if failed else 0
