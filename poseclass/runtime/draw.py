"""Drawing a skeleton on an image (Pillow only, so ``detect --overlay`` stays light)."""

from __future__ import annotations

from PIL import Image, ImageDraw, ImageFont

from poseclass.runtime.keypoints import SKELETON, Pose

# Keypoints under this score are drawn hollow and their bones dashed-thin: shown, not trusted.
CONFIDENT = 0.3
LEFT, RIGHT, CENTRE = (255, 140, 0), (0, 170, 255), (255, 255, 255)


def _colour(index: int) -> tuple[int, int, int]:
    from poseclass.runtime.keypoints import KEYPOINT_NAMES

    name = KEYPOINT_NAMES[index]
    return LEFT if name.startswith("left") else RIGHT if name.startswith("right") else CENTRE


def draw_pose(image: Image.Image, pose: Pose) -> Image.Image:
    """A copy of ``image`` with the skeleton drawn: left side orange, right side blue."""
    out = image.convert("RGB").copy()
    pen = ImageDraw.Draw(out)
    size = max(2, round(max(out.size) / 120))
    for a, b in SKELETON:
        confident = min(pose.scores[a], pose.scores[b]) >= CONFIDENT
        pen.line([tuple(pose.xy[a]), tuple(pose.xy[b])], fill=_colour(b), width=size if confident else 1)
    for i, ((x, y), score) in enumerate(zip(pose.xy, pose.scores)):
        box = (x - size, y - size, x + size, y + size)
        if score >= CONFIDENT:
            pen.ellipse(box, fill=_colour(i), outline=(0, 0, 0))
        else:
            pen.ellipse(box, outline=_colour(i))
    return out


def draw_people(image: Image.Image, people: list[tuple[tuple[float, float, float, float], Pose, str]]) -> Image.Image:
    """A copy of ``image`` with every person drawn: skeleton, box and a caption (e.g. label and probability)."""
    out = image.convert("RGB").copy()
    for _, pose, _ in people:
        out = draw_pose(out, pose)
    pen = ImageDraw.Draw(out)
    width = max(1, round(max(out.size) / 400))
    size = max(12, round(max(out.size) / 50))
    try:
        font = ImageFont.load_default(size=size)
    except TypeError:  # Pillow < 10.1: the small bitmap font
        font = ImageFont.load_default()
    for box, _, caption in people:
        pen.rectangle(box, outline=(0, 255, 0), width=width)
        left, top = box[0], max(0.0, box[1] - size - 4)
        text_box = pen.textbbox((left, top), caption, font=font)
        pen.rectangle(text_box, fill=(0, 0, 0))
        pen.text((left, top), caption, fill=(0, 255, 0), font=font)
    return out
