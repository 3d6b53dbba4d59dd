"""What the pixels alone say about an image: a perceptual hash for duplicates, and blank or drawing-like tests.

Pillow and numpy only. The hash is a DCT hash (pHash): it survives resizing, re-compression
and small colour changes, so a picture copied into two folders and re-saved is still found.
A left-right mirrored copy is found too (a common "augmentation" that leaks across splits).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from poseclass.images import load_rgb

HASH_SIDE = 32  # the picture is shrunk to 32x32 grey, then the 8x8 lowest frequencies are kept
HASH_BITS = 8
THUMB_SIDE = 128  # colour statistics are taken on a thumbnail: cheap, and blind to JPEG noise
# A picture whose grey levels vary less than this (of 255) shows nothing: blank, or one flat colour.
BLANK_SPREAD = 6.0
# Drawings, silhouettes and clip art are a few flat colours: the 5 most common (of 512 coarse
# colours) cover nearly all pixels. The CGI yoga renders reach at most 0.925; on yoga10 the
# drawings and silhouettes score 0.98 to 1 and the first photo (on a white wall) 0.978.
DRAWING_TOP_COLOURS = 0.98


@dataclass(frozen=True)
class PixelStats:
    """One image's perceptual hashes (as is and mirrored) and colour statistics."""

    hash: int
    mirror_hash: int
    spread: float  # standard deviation of the grey levels, 0-255
    top_colours: float  # share of pixels in the 5 most common coarse colours
    size: tuple[int, int]  # width, height after EXIF rotation, as MoveNet saw it

    @property
    def blank(self) -> bool:
        return self.spread < BLANK_SPREAD

    @property
    def drawing(self) -> bool:
        return not self.blank and self.top_colours >= DRAWING_TOP_COLOURS


def _dct_matrix(n: int) -> np.ndarray:
    """The orthonormal DCT-II matrix: ``D @ x`` is the DCT of ``x`` (no SciPy needed)."""
    k, i = np.meshgrid(np.arange(n), np.arange(n), indexing="ij")
    d = np.cos(np.pi * (2 * i + 1) * k / (2 * n)) * np.sqrt(2 / n)
    d[0] /= np.sqrt(2)
    return d


_DCT = _dct_matrix(HASH_SIDE)


def _phash(grey: np.ndarray) -> int:
    """64-bit DCT hash of a 32x32 grey picture: each low frequency above or below their median."""
    low = (_DCT @ grey @ _DCT.T)[:HASH_BITS, :HASH_BITS].ravel()
    bits = low > np.median(low[1:])  # the DC term (overall brightness) would only add noise
    return int("".join("1" if b else "0" for b in bits), 2)


def _top_colours(rgb: np.ndarray) -> float:
    """Share of pixels in the 5 most common of 512 coarse colours (8 levels per channel)."""
    q = (rgb // 32).astype(np.int32)
    codes = q[..., 0] * 64 + q[..., 1] * 8 + q[..., 2]
    counts = np.sort(np.bincount(codes.ravel(), minlength=512))[::-1]
    return float(counts[:5].sum() / codes.size)


def pixel_stats(path: str | Path) -> PixelStats:
    """Hashes and colour statistics of the image at ``path`` (an ImageError if it cannot be read)."""
    image = load_rgb(path)
    grey = np.asarray(image.convert("L").resize((HASH_SIDE, HASH_SIDE), Image.Resampling.LANCZOS), np.float64)
    thumb = image.copy()
    thumb.thumbnail((THUMB_SIDE, THUMB_SIDE))
    rgb = np.asarray(thumb)
    return PixelStats(
        hash=_phash(grey), mirror_hash=_phash(grey[:, ::-1]),
        spread=float(np.asarray(thumb.convert("L"), np.float64).std()), top_colours=_top_colours(rgb),
        size=image.size,
    )
