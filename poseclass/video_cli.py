"""``poseclass predict`` on videos and cameras: per-frame rows, a summary, an annotated copy.

Kept apart from :mod:`poseclass.cli` so the command module only dispatches. Frames are
streamed from decoder to outputs one at a time: a long video runs in constant memory. With
``--multi`` everyone is followed under an id (:mod:`poseclass.runtime.people_video`): the rows
are one per person per frame (a frame with nobody has none) and the summary is per person.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TextIO

from poseclass.runtime import people_video, video
from poseclass.runtime.pipeline import PosePipeline
from poseclass.runtime.quiet import progress_bar
from poseclass.runtime.smoothing import ENTER_PROBABILITY, EXIT_PROBABILITY, MIN_SEGMENT_S, SMOOTHING_ALPHA


def _paths(base: str | None, names: list[str], default_suffix: str) -> list[Path | None]:
    """One output file per video: ``base`` itself for one video, else ``base-<video stem>``."""
    if not base:
        return [None] * len(names)
    from poseclass.cli import _overlay_paths

    return [p if p.suffix else p.with_suffix(default_suffix) for p in _overlay_paths(base, names)]


@contextlib.contextmanager
def _csv_rows(path: Path | None, header: list[str]) -> Iterator[csv.writer | None]:
    """A CSV writer for the per-frame rows (header written), or None without ``--out``."""
    if path is None:
        yield None
        return
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        yield writer


def _timeline_text(summary: dict[str, object], indent: str) -> list[str]:
    """Segments with their durations, then repetition counts (one person's, or the single person's)."""
    lines = [f"{indent}{s['label']:<14} {s['start_s']:.1f}–{s['end_s']:.1f} s ({s['end_s'] - s['start_s']:.1f} s)"
             for s in summary["segments"]]
    if not summary["segments"] and summary["frames"]:
        lines.append(f"{indent}no pose held long enough to make a segment")
    if summary["counts"]:
        lines.append(f"{indent}repetitions: " + ", ".join(f"{k} {n}" for k, n in summary["counts"].items()))
    return lines


def _summary_text(name: str, summary: dict[str, object]) -> list[str]:
    """The summary for people: segments with their durations, then repetition counts (per person with --multi)."""
    lines = [f"{name}: {summary['frames']} frames, {summary['duration_s']:.1f} s"]
    if "people" not in summary:
        return lines + _timeline_text(summary, "  ")
    lines[0] += f", {len(summary['people'])} {'person' if len(summary['people']) == 1 else 'people'}"
    for person in summary["people"]:
        lines.append(f"  person {person['person']}: {person['frames']} frames, "
                     f"{person['first_s']:.1f}–{person['last_s']:.1f} s")
        lines += _timeline_text(person, "    ")
    if summary["brief_people"]:
        lines.append(f"  and {summary['brief_people']} more seen too briefly to hold a pose or finish a repetition")
    return lines


def _classifier(args: argparse.Namespace, pipeline: PosePipeline
                ) -> video.VideoClassifier | people_video.PeopleVideoClassifier:
    """The single-person classifier, or with --multi the one that follows everyone."""
    settings = {"alpha": args.alpha, "count": args.count or (), "enter": args.enter, "exit": args.exit,
                "min_segment_s": args.min_segment}
    if args.multi:
        return people_video.PeopleVideoClassifier(pipeline, **settings, max_people=args.max_people,
                                                  min_person_score=args.min_person_score)
    return video.VideoClassifier(pipeline, **settings)


def _classify(args: argparse.Namespace, pipeline: PosePipeline, reader: video.VideoReader, out: Path | None,
              annotate: Path | None, stdout: TextIO) -> tuple[dict[str, object], str | None]:
    """Run one video through the classifier, streaming rows out; the summary and the error, if any."""
    clf = _classifier(args, pipeline)
    header = (people_video.csv_header if args.multi else video.csv_header)(clf.labels)
    writer = video.AnnotatedWriter(annotate, reader.fps) if annotate else None
    error, people = None, 0
    bar = progress_bar(total=reader.total, desc=reader.name, unit="frame",
                       disable=bool(args.json or args.quiet))
    try:
        with _csv_rows(out, header) as rows:
            for image, t in reader:
                results = clf.push(image, t) if args.multi else [clf.push(image, t)]
                people += any(result.status == "ok" for result in results)
                for result in results:
                    if rows is not None:
                        rows.writerow(result.csv_row())
                    elif args.json:
                        stdout.write(json.dumps(result.to_dict()) + "\n")
                if writer is not None and args.multi:
                    writer.write_image(people_video.draw_tracked(image, results), t)
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
    if error is None and clf.frames and not people:
        error = f"{reader.name}: no person found in any of its {clf.frames} frames"
    summary = {"video": reader.name, **clf.summary()}
    return summary, error


def predict_videos(args: argparse.Namespace, images: list[str], user_error: type[Exception]) -> int:
    """``poseclass predict VIDEO... | --camera N [--multi]``: exit 0, or 1 when a video was damaged, cut short or
    had nobody.

    ``images``: the inputs that are not videos (the caller has sorted them out).
    """
    from poseclass.people_cli import check_multi_args, refuse_unused_movenet

    names = [f"camera {args.camera}"] if args.camera is not None else args.images
    if images or (args.camera is not None and args.images):
        raise user_error("give videos and images (or a camera) in separate commands; "
                         f"not a video: {', '.join(images or args.images)}")
    if args.overlay:
        raise user_error("--overlay is for images; for a video, --annotate OUT.mp4 draws everyone on every frame")
    check_multi_args(args, user_error)
    for option, default in (("enter", ENTER_PROBABILITY), ("exit", EXIT_PROBABILITY), ("alpha", SMOOTHING_ALPHA),
                            ("min_segment", MIN_SEGMENT_S)):
        if getattr(args, option) is None:
            setattr(args, option, default)
    if args.exit >= args.enter:
        raise user_error(f"--exit ({args.exit:g}) must be below --enter ({args.enter:g})")
    if args.min_segment < 0:
        raise user_error(f"--min-segment must be 0 or more seconds, not {args.min_segment:g}")
    pipeline = PosePipeline.load(args.model, args.movenet)
    refuse_unused_movenet(args, pipeline.manifest, user_error)
    unknown = [c for c in args.count or () if c not in pipeline.labels]
    if unknown:
        raise user_error(f"--count {unknown[0]}: the model's classes are {', '.join(pipeline.labels)}")
    outs, annotated = _paths(args.out, names, ".csv"), _paths(args.annotate, names, ".mp4")
    failed = False
    for name, out, annotate in zip(names, outs, annotated):
        try:
            reader = video.open_camera(args.camera) if args.camera is not None else video.read_video(name)
        except video.VideoError as error:
            failed = True
            print(f"error: {error}", file=sys.stderr)
            if args.json:
                found = {"people": [], "brief_people": 0} if args.multi else {"segments": [], "counts": {}}
                empty = {"video": name, "frames": 0, "duration_s": 0.0, **found}
                sys.stdout.write(json.dumps({**empty, "error": str(error)}) + "\n")
            continue
        summary, error = _classify(args, pipeline, reader, out, annotate, sys.stdout)
        failed = failed or error is not None
        if error:
            summary["error"] = error
            print(f"error: {error}", file=sys.stderr)
        if args.json:
            sys.stdout.write(json.dumps(summary) + "\n")
        else:
            print("\n".join(_summary_text(name, summary)))
            for label, path in (("frames", out), ("annotated", annotate)):
                if path is not None:
                    print(f"  {label}: {path}")
    return 1 if failed else 0
