"""Decoding: every odd-but-valid image is read as a person would see it; broken ones fail clearly."""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
import pytest
from conftest import POSE_TEST, YOGA_TRAIN
from PIL import Image

from poseclass.errors import ImageError
from poseclass.images import load_rgb

SAMPLE = YOGA_TRAIN / "tree" / sorted(p.name for p in (YOGA_TRAIN / "tree").glob("*.jpg"))[0]


def test_rgba_png_is_composited_not_black():
    image = load_rgb(POSE_TEST / "image1.png")
    assert image.mode == "RGB" and image.size == (384, 640)
    corner = np.asarray(image)[:5, :5].reshape(-1, 3)  # transparent in the file
    assert (corner > 100).all(), "transparent background must not turn black"


def test_palette_grayscale_16bit_cmyk_are_rgb(tmp_path):
    base = Image.open(SAMPLE).convert("RGB")
    cases = {
        "palette.png": base.convert("P", palette=Image.Palette.ADAPTIVE),
        "gray.png": base.convert("L"),
        "cmyk.jpg": base.convert("CMYK"),
        "gray16.png": Image.fromarray((np.asarray(base.convert("L"), np.uint16) * 257)),
    }
    for name, image in cases.items():
        image.save(tmp_path / name)
        loaded = load_rgb(tmp_path / name)
        assert loaded.mode == "RGB" and loaded.size == base.size, name
        # Same picture: mean brightness within a few levels of the original.
        assert abs(np.asarray(loaded, float).mean() - np.asarray(base, float).mean()) < 12, name


def test_webp_named_jpg_is_read_by_content(tmp_path):
    path = tmp_path / "actually_webp.jpg"
    Image.open(SAMPLE).save(path, format="WEBP")
    assert load_rgb(path).size == (300, 300)


def rotated_with_exif(source, dest):
    """Store the pixels turned 90° and an EXIF tag (orientation 6) that turns them back."""
    image = Image.open(source).convert("RGB").transpose(Image.Transpose.ROTATE_90)
    exif = Image.Exif()
    exif[0x0112] = 6
    image.save(dest, exif=exif, quality=95)


def test_exif_rotated_jpeg_is_upright(tmp_path, thunder):
    path = tmp_path / "rotated.jpg"
    rotated_with_exif(POSE_TEST / "image2.jpeg", path)
    assert Image.open(path).size == (640, 399)  # as stored
    assert load_rgb(path).size == (399, 640)  # as displayed
    truth = pd.read_csv(POSE_TEST / "pose_landmark_truth.csv").to_numpy(np.float32)[1].reshape(17, 2)
    assert np.linalg.norm(thunder.detect(path).xy - truth, axis=1).max() <= 21


@pytest.mark.parametrize(
    "name,content,reason",
    [
        ("empty.jpg", b"", "empty"),
        ("notes.jpg", b"this is text, not a photo\n", "not a known image format"),
        ("truncated.jpg", SAMPLE.read_bytes()[:3000], "damaged or truncated"),
    ],
)
def test_unreadable_files_name_the_file_and_the_fix(tmp_path, name, content, reason):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(ImageError) as caught:
        load_rgb(path)
    assert str(path) in str(caught.value) and reason in str(caught.value)


def corrupt_png(dest):
    """A PNG whose compressed pixel data is scrambled (valid header, broken stream)."""
    buffer = io.BytesIO()
    Image.open(SAMPLE).save(buffer, format="PNG")
    data = bytearray(buffer.getvalue())
    start = data.index(b"IDAT") + 8
    data[start:start + 400] = bytes(range(200)) * 2
    dest.write_bytes(bytes(data))


def test_corrupt_png_fails_clearly(tmp_path):
    corrupt_png(tmp_path / "corrupt.png")
    with pytest.raises(ImageError, match="damaged"):
        load_rgb(tmp_path / "corrupt.png")
