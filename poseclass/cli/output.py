"""Everything the verbs print or write for people and machines: text lines, JSON, per-frame CSV rows.

One place per format, so a result reads the same from every verb: the verbs compute, this
module words it. ``--json`` output is the result objects' own ``to_dict``; text is built here.
A new output format goes here, beside these.
"""

from __future__ import annotations

import contextlib
import csv
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # building the parser stays light: no numpy, no models
    from poseclass.classify.results import Prediction
    from poseclass.pose.keypoints import Pose
    from poseclass.pose.multipose import Box


def emit_json(value: object) -> None:
    """``value`` as indented JSON on stdout (one document: a list or an object)."""
    json.dump(value, sys.stdout, indent=2)
    sys.stdout.write("\n")


def json_line(value: object) -> None:
    """``value`` as one line of JSON on stdout (video frames, streamed as they come)."""
    sys.stdout.write(json.dumps(value) + "\n")


def ranked(predictions: list[tuple[str, float]], top_k: int | None) -> str:
    """``tree 0.981, chair 0.012, ...``: the ``top_k`` most likely classes."""
    return ", ".join(f"{label} {p:.3f}" for label, p in predictions[:top_k])


def answer(status: str, predictions: list[tuple[str, float]], top_k: int | None) -> str:
    """``tree 0.981, chair 0.012``, or for a pose that is none of the classes ``unknown pose (closest: tree 0.412)``."""
    if status == "unknown":
        label, p = predictions[0]
        return f"unknown pose (closest: {label} {p:.3f})"
    return ranked(predictions, top_k)


def prediction_line(result: Prediction, top_k: int | None) -> str:
    """One image's answer: its classes, or what went wrong (the reason names the file once)."""
    from poseclass.classify.results import ANSWERED

    if result.status in ANSWERED:
        return f"{result.image}: {answer(result.status, result.predictions, top_k)}"
    return result.error


def keypoint_lines(pose: Pose, indent: str = "  ") -> list[str]:
    """The 17 keypoints, one per line: name, x, y (pixels) and score."""
    return [f"{indent}{kp['name']:<15} x={kp['x']:8.1f}  y={kp['y']:8.1f}  score={kp['score']:.2f}"
            for kp in pose.to_dicts()]


def box_text(box: Box) -> str:
    return "box ({:.0f}, {:.0f})-({:.0f}, {:.0f})".format(*box)


def metrics_lines(title: str, metrics: dict[str, object]) -> list[str]:
    """Accuracy over every image, then precision, recall and F1 per class; a class with no images here is
    shown as absent (with how often it was wrongly answered), not as a class that scored zero."""
    lines = [f"{title}: accuracy {metrics['accuracy']:.3f} ({metrics['n_correct']}/{metrics['n_images']})"]
    answered = [sum(column) for column in zip(*metrics["confusion_matrix"])]
    for (label, row), times in zip(metrics["per_class"].items(), answered):
        if row["support"]:
            lines.append(f"  {label:<14} precision {row['precision']:.3f}  recall {row['recall']:.3f}  "
                         f"f1 {row['f1']:.3f}  n={row['support']}")
        else:
            lines.append(f"  {label:<14} absent from this data" + (f" (answered for {times} images)" if times else ""))
    return lines


def file_size(path: Path) -> str:
    """``path  (27.3 KB)``, or MB for large files."""
    size = path.stat().st_size
    return f"{path}  ({size / 1024:.1f} KB)" if size < 1 << 20 else f"{path}  ({size / (1 << 20):.1f} MB)"


def timeline_lines(summary: dict[str, object], indent: str) -> list[str]:
    """Segments with their durations, then repetition counts (one person's, or the single person's)."""
    lines = [f"{indent}{s['label']:<14} {s['start_s']:.1f}–{s['end_s']:.1f} s ({s['end_s'] - s['start_s']:.1f} s)"
             for s in summary["segments"]]
    if not summary["segments"] and summary["frames"]:
        lines.append(f"{indent}no pose held long enough to make a segment")
    if summary["counts"]:
        lines.append(f"{indent}repetitions: " + ", ".join(f"{k} {n}" for k, n in summary["counts"].items()))
    return lines


def video_summary_lines(name: str, summary: dict[str, object]) -> list[str]:
    """A video's summary: segments and repetition counts (per person with --multi)."""
    lines = [f"{name}: {summary['frames']} frames, {summary['duration_s']:.1f} s"]
    if "people" not in summary:
        return lines + timeline_lines(summary, "  ")
    lines[0] += f", {len(summary['people'])} {'person' if len(summary['people']) == 1 else 'people'}"
    for person in summary["people"]:
        lines.append(f"  person {person['person']}: {person['frames']} frames, "
                     f"{person['first_s']:.1f}–{person['last_s']:.1f} s")
        lines += timeline_lines(person, "    ")
    if summary["brief_people"]:
        lines.append(f"  and {summary['brief_people']} more seen too briefly to hold a pose or finish a repetition")
    return lines


@contextlib.contextmanager
def csv_rows(path: Path | None, header: list[str]) -> Iterator[csv.writer | None]:
    """A CSV writer for per-frame rows (header written), or None without ``--out``."""
    if path is None:
        yield None
        return
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        yield writer
