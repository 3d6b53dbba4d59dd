"""Reading images the way a person expects them to look.

Cameras write rotated JPEGs with an EXIF orientation tag, PNGs have alpha, scanners write
grayscale, CMYK or 16-bit files, and file extensions lie. Every path into MoveNet goes
through :func:`load_rgb`, so all of these are handled once, with Pillow (no TensorFlow).
"""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Iterator
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from poseclass.errors import ImageError

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".webp", ".bmp"}
# Alpha is composited onto mid grey: black or white backgrounds can merge with dark or light clothes.
BACKGROUND = (128, 128, 128)


def to_rgb(image: Image.Image) -> Image.Image:
    """Normalise any Pillow image to 8-bit RGB: EXIF rotation, alpha, palette, 16-bit, CMYK."""
    image = ImageOps.exif_transpose(image)
    if image.mode in ("I;16", "I;16B", "I;16L", "I"):
        # 16-bit grayscale: keep the top 8 bits rather than clipping everything to white.
        arr = np.asarray(image, dtype=np.uint32)
        peak = 65535 if arr.max() > 255 else 255
        image = Image.fromarray((arr * 255 // peak).astype(np.uint8), mode="L")
    if image.mode == "P" or image.mode == "LA" or (image.mode == "L" and "transparency" in image.info):
        image = image.convert("RGBA")
    if image.mode in ("RGBA", "RGBa"):
        background = Image.new("RGB", image.size, BACKGROUND)
        background.paste(image, mask=image.getchannel("A"))
        return background
    return image.convert("RGB")


@contextlib.contextmanager
def _no_size_warning() -> Iterator[None]:
    """Pillow warns (``DecompressionBombWarning``) on any picture over 89 megapixels; a 100-megapixel photo
    is a real photo, so the warning is kept from the terminal. Past twice that, Pillow refuses the file,
    and that refusal is reported (see :func:`load_rgb`)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        yield


def is_image(path: str | Path) -> bool:
    """Whether Pillow recognises ``path`` as a picture from its header (too large to decode still counts:
    it is an image, and reading it says why it is refused)."""
    try:
        with _no_size_warning(), Image.open(path):
            return True
    except Image.DecompressionBombError:
        return True
    except (UnidentifiedImageError, OSError, ValueError):
        return False


def load_rgb(path: str | Path) -> Image.Image:
    """Open ``path`` as an RGB image, detecting the format by content, not by extension.

    Every failure is an :class:`ImageError` naming the file: callers that promise not to
    raise for bad files (``PosePipeline.predict``, preprocess) rely on that.
    """
    path = Path(path)
    try:
        with _no_size_warning(), Image.open(path) as image:
            image.load()
            return to_rgb(image)
    except FileNotFoundError:
        raise ImageError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise ImageError(f"{path}: is a folder, not an image") from None
    except UnidentifiedImageError:
        size = path.stat().st_size if path.exists() else 0
        what = "the file is empty" if size == 0 else "its content is not a known image format"
        raise ImageError(f"{path}: cannot read it as an image ({what}); remove it or re-export it as JPEG/PNG") from None
    except Image.DecompressionBombError as error:
        raise ImageError(f"{path}: refused as a possible decompression bomb ({error}); "
                         "shrink the image if it is genuine") from None
    except (OSError, SyntaxError, ValueError) as error:
        raise ImageError(f"{path}: the image is damaged or truncated ({error}); re-export or remove it") from None
    except Exception as error:  # noqa: BLE001 - any other decoder failure is still a bad file, not a crash
        raise ImageError(f"{path}: the decoder failed on it ({type(error).__name__}: {error}); "
                         "re-export it as JPEG/PNG") from None


def from_array(array: np.ndarray) -> Image.Image:
    """An RGB Pillow image from an ``HxWx3`` (or ``HxW``) array.

    uint8 is taken as is. Floats are accepted in [0, 1] (scaled by 255) or [0, 255]: a float
    image in [0, 1] cast straight to uint8 would turn black and be reported as nobody there.
    """
    array = np.asarray(array)
    if array.ndim not in (2, 3) or (array.ndim == 3 and array.shape[2] not in (3, 4)):
        raise ImageError(f"an image array must be HxW, HxWx3 or HxWx4, not shape {array.shape}")
    if array.dtype == np.uint8:
        return to_rgb(Image.fromarray(array))
    if not np.issubdtype(array.dtype, np.number) or array.size == 0:
        raise ImageError(f"an image array must be uint8 or float, not {array.dtype} of size {array.size}")
    low, high = float(np.nanmin(array)), float(np.nanmax(array))
    if np.isnan(array).any() or low < 0 or high > 255:
        raise ImageError(f"a float image must hold values in [0, 1] or [0, 255], not [{low:g}, {high:g}]")
    scale = 255.0 if high <= 1.0 else 1.0
    return to_rgb(Image.fromarray(np.clip(np.rint(array * scale), 0, 255).astype(np.uint8)))


def as_rgb(image: str | Path | Image.Image | np.ndarray) -> Image.Image:
    """Any image the API takes (a path, a Pillow image, an array) as an RGB Pillow image; ImageError if it cannot be."""
    if isinstance(image, (str, Path)):
        return load_rgb(image)
    if isinstance(image, np.ndarray):
        return from_array(image)
    return image if image.mode == "RGB" else to_rgb(image)
