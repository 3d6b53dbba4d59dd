"""Drawing a skeleton on an image (Pillow only, so ``detect --overlay`` stays light)."""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING

from PIL import Image, ImageDraw, ImageFont

from poseclass.pose.keypoints import KEYPOINT_NAMES, SKELETON, Pose

if TYPE_CHECKING:  # MultiPose stays unimported for a single-person overlay
    from poseclass.pose.multipose import Box

# Keypoints under this score are drawn hollow and their bones dashed-thin: shown, not trusted.
CONFIDENT = 0.3
LEFT, RIGHT, CENTRE = (255, 140, 0), (0, 170, 255), (255, 255, 255)


# Per keypoint, in MoveNet's order: the colour of its side (drawn 33 times per person per video frame).
COLOURS = tuple(LEFT if name.startswith("left") else RIGHT if name.startswith("right") else CENTRE
                for name in KEYPOINT_NAMES)


def draw_pose(image: Image.Image, pose: Pose | None) -> Image.Image:
    """A copy of ``image`` with the skeleton drawn: left side orange, right side blue (none for ``None``:
    nobody found, whose keypoints are noise)."""
    out = image.convert("RGB")  # a copy, also when already RGB
    if pose is not None:
        _skeleton(ImageDraw.Draw(out), pose, _joint_size(out))
    return out


def _joint_size(image: Image.Image) -> int:
    """Joint radius and bone width in pixels: visible at any resolution."""
    return max(2, round(max(image.size) / 120))


def _skeleton(pen: ImageDraw.ImageDraw, pose: Pose, size: int) -> None:
    """Bones and joints of ``pose``, ``size`` pixels thick, drawn in place."""
    for a, b in SKELETON:
        confident = min(pose.scores[a], pose.scores[b]) >= CONFIDENT
        pen.line([tuple(pose.xy[a]), tuple(pose.xy[b])], fill=COLOURS[b], width=size if confident else 1)
    for i, ((x, y), score) in enumerate(zip(pose.xy, pose.scores)):
        box = (x - size, y - size, x + size, y + size)
        if score >= CONFIDENT:
            pen.ellipse(box, fill=COLOURS[i], outline=(0, 0, 0))
        else:
            pen.ellipse(box, outline=COLOURS[i])


def draw_people(image: Image.Image, people: list[tuple[Box, Pose, str]]) -> Image.Image:
    """A copy of ``image`` with every person drawn: skeleton, box and a caption (e.g. label and probability)."""
    out = image.convert("RGB")  # a copy, also when already RGB
    pen = ImageDraw.Draw(out)
    joints = _joint_size(out)
    for _, pose, _ in people:
        _skeleton(pen, pose, joints)
    width = max(1, round(max(out.size) / 400))
    size = max(12, round(max(out.size) / 50))
    font = font_of(size)
    for box, _, text in people:
        pen.rectangle(box, outline=(0, 255, 0), width=width)
        caption(pen, (box[0], max(0.0, box[1] - size - 4)), text, font, (0, 255, 0))
    return out


@functools.lru_cache(maxsize=8)
def font_of(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    """Pillow's default font at ``size`` px, loaded once per size (a video draws every frame with it)."""
    return ImageFont.load_default(size=size)


def caption(pen: ImageDraw.ImageDraw, xy: tuple[float, float], text: str, font: ImageFont.ImageFont,
            colour: tuple[int, int, int] = (255, 255, 255), margin: int = 0) -> None:
    """``text`` (one or more lines) at ``xy`` on a black box ``margin`` pixels wider: readable on any picture."""
    box = pen.multiline_textbbox(xy, text, font=font)
    pen.rectangle((box[0] - margin, box[1] - margin, box[2] + margin, box[3] + margin), fill=(0, 0, 0))
    pen.multiline_text(xy, text, fill=colour, font=font)
