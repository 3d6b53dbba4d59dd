"""The inspect report for people (terminal lines) and as an exclude list."""

from __future__ import annotations

from poseclass.data.inspect.report import EXPLAIN

SHOWN = 15


def summary_lines(report: dict[str, object]) -> list[str]:
    """A readable summary: sizes and balance, keypoint visibility, suspects by kind, the first suspects."""
    counts, suspects = report["counts"], report["suspects"]
    total = sum(sum(per.values()) for per in counts.values())
    lines = [f"{report['data_dir']}: {total} files, {len(report['labels'])} classes ("
             + ", ".join(f"{split} {sum(per.values())}" for split, per in counts.items()) + ")"]
    for split, per in counts.items():
        low, high = min(per.values()), max(per.values())
        ratio = f"largest/smallest {high / low:.1f}" if low else "a class has no images"
        lines.append(f"  {split}: " + ", ".join(f"{c} {n}" for c, n in per.items()) + f"  ({ratio})")
    lines.append("keypoints visible per pose (of 17; least visible keypoints):")
    for label, row in report["visibility"].items():
        least = ", ".join(f"{name} {share:.0%}" for name, share in row["least_visible"].items()) or "all always visible"
        lines.append(f"  {label:<20} {row['mean_visible']:>4} ({least})")
    lines.append(f"{len(suspects)} suspect files:" if suspects else "no suspect files found")
    for kind, n in report["by_kind"].items():
        lines.append(f"  {kind:<22} {n:>4}  {EXPLAIN.get(kind, '')}")
    for s in suspects[:SHOWN]:
        lines.append(f"  {s['file']}: {s['reason']}")
    if len(suspects) > SHOWN:
        lines.append(f"  ... and {len(suspects) - SHOWN} more (all in --json and the HTML page)")
    return lines


def exclude_entries(report: dict[str, object]) -> list[tuple[str, str]]:
    """``(file, reason)`` of every suspect outside the test split: test images are never excluded,
    so that a test score stays a score over all test images."""
    return [(s["file"], s["reason"]) for s in report["suspects"] if s["split"] != "test"]
