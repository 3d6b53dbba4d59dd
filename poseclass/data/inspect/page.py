"""The inspect report as one HTML page that opens offline: a thumbnail of each suspect, its skeleton and the reason.

Thumbnails are embedded as base64 JPEG, so the page is a single file that can be mailed or
attached to an issue. Pillow only.
"""

from __future__ import annotations

import base64
import html
import io
from pathlib import Path

import numpy as np

from poseclass.errors import ImageError
from poseclass.files import atomic_write
from poseclass.images import load_rgb
from poseclass.pose.draw import draw_pose
from poseclass.pose.keypoints import Pose

THUMB = 220
STYLE = """body{font-family:sans-serif;margin:1em;background:#fafafa}
.grid{display:flex;flex-wrap:wrap;gap:10px}
.card{width:240px;background:#fff;border:1px solid #ddd;padding:6px;font-size:12px}
.card img{display:block;margin:auto;max-width:228px}
.kind{display:inline-block;background:#c0392b;color:#fff;border-radius:3px;padding:0 4px;margin:2px 2px 0 0}
table{border-collapse:collapse}td,th{padding:2px 8px;text-align:left}"""


def thumbnail(suspect: dict[str, object]) -> str | None:
    """A base64 JPEG of the suspect with its skeleton drawn, or None when the file cannot be read."""
    try:
        image = load_rgb(suspect["path"])
    except ImageError:
        return None
    scale = min(1.0, THUMB / max(image.size))
    image = image.resize((max(1, round(image.width * scale)), max(1, round(image.height * scale))))
    if suspect.get("keypoints"):  # drawn on the thumbnail, so that lines keep a visible width
        kp = np.asarray(suspect["keypoints"], np.float32)
        image = draw_pose(image, Pose(kp[:, :2] * scale, kp[:, 2], image.width, image.height))
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=80)
    return base64.b64encode(buffer.getvalue()).decode()


def _card(suspect: dict[str, object]) -> str:
    data = thumbnail(suspect)
    picture = f'<img src="data:image/jpeg;base64,{data}">' if data else "<p>(cannot be shown)</p>"
    kinds = "".join(f'<span class="kind">{html.escape(k)}</span>' for k in suspect["kinds"])
    reasons = "<br>".join(html.escape(r) for r in suspect["reasons"])
    return (f'<div class="card">{picture}<b>{html.escape(suspect["file"])}</b>'
            f'<br>class {html.escape(suspect["class_name"])}'
            f"<br>{kinds}<br>{reasons}</div>")


def write_page(report: dict[str, object], path: str | Path, progress: bool = True) -> Path:
    """Write the HTML page for ``report`` (from :func:`inspect_data`) to ``path``."""
    from poseclass.data.inspect.report import EXPLAIN
    from poseclass.quiet import progress_bar

    kinds = "".join(f"<tr><td>{html.escape(k)}</td><td>{n}</td><td>{html.escape(EXPLAIN.get(k, ''))}</td></tr>"
                    for k, n in report["by_kind"].items())
    cards = []
    with progress_bar(total=len(report["suspects"]), desc="thumbnails", unit="img", disable=not progress) as bar:
        for suspect in report["suspects"]:
            cards.append(_card(suspect))
            bar.update(1)
    title = f"poseclass inspect: {report['data_dir']}"
    page = (f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
            f"<style>{STYLE}</style></head><body><h1>{html.escape(title)}</h1>"
            f"<p>{len(report['suspects'])} suspect files. Skeletons: left side orange, right side blue; "
            "hollow points are keypoints MoveNet is unsure of.</p>"
            f"<table><tr><th>kind</th><th>files</th><th>meaning</th></tr>{kinds}</table>"
            f"<div class='grid'>{''.join(cards)}</div></body></html>")
    atomic_write(Path(path), page)
    return Path(path)
