"""The only place that opens user bytes: decode, validate and normalise images (Pillow).

Every failure raises ImageRejected with the file name and a reason a person can act on;
callers collect these and keep the valid files of a batch.
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps

MAX_FILE_BYTES = 10 * 1024 * 1024  # 10 MB per file
MAX_PIXELS = 40_000_000  # 40 megapixels: a large phone photo passes, a decompression bomb does not
MIN_SIDE = 8  # smaller images carry no usable detail
ALLOWED_FORMATS = ("PNG", "JPEG", "GIF", "BMP", "WEBP", "TIFF")

CHARACTER_SIZE = 28
PHOTO_SIZE = 224


class ImageRejected(ValueError):
    """A file that cannot be used, with its name and the reason."""

    def __init__(self, name: str, reason: str) -> None:
        super().__init__(f"{name}: {reason}")
        self.name = name
        self.reason = reason


@dataclass(frozen=True)
class Limits:
    max_file_bytes: int = MAX_FILE_BYTES
    max_pixels: int = MAX_PIXELS


def decode_image(data: bytes, name: str = "image", limits: Limits = Limits()) -> Image.Image:
    """Bytes -> an RGB PIL image, fully loaded, EXIF orientation applied.

    Transparent pixels are composited on white; 16-bit and float images are rescaled to
    8 bits (not clipped); animated images give their first frame.
    """
    if len(data) == 0:
        raise ImageRejected(name, "the file is empty")
    if len(data) > limits.max_file_bytes:
        raise ImageRejected(
            name,
            f"the file is {len(data) / 1e6:.1f} MB; the limit is "
            f"{limits.max_file_bytes / 1e6:.0f} MB",
        )
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
            fmt = image.format
            width, height = image.size
            if width * height > limits.max_pixels:
                raise ImageRejected(
                    name,
                    f"the image is {width}x{height} pixels; the limit is "
                    f"{limits.max_pixels / 1e6:.0f} megapixels",
                )
            if fmt not in ALLOWED_FORMATS:
                raise ImageRejected(
                    name, f"{fmt} images are not accepted; use {', '.join(ALLOWED_FORMATS)}"
                )
            image.seek(0)
            image.load()
    except ImageRejected:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ImageRejected(
            name,
            f"the image declares more than {limits.max_pixels / 1e6:.0f} megapixels; "
            "it is refused as a possible decompression bomb",
        ) from None
    except Image.UnidentifiedImageError:
        raise ImageRejected(
            name, "not an image Pillow can read (PNG, JPEG, GIF, BMP, WebP or TIFF expected)"
        ) from None
    except (OSError, SyntaxError, ValueError, EOFError) as error:
        raise ImageRejected(name, f"the image data is damaged or truncated ({error})") from None
    if min(image.size) < MIN_SIDE:
        raise ImageRejected(
            name, f"the image is {width}x{height} pixels; at least {MIN_SIDE}x{MIN_SIDE} is needed"
        )
    return to_rgb(ImageOps.exif_transpose(image))


def read_image_file(
    path: Path | str, name: str | None = None, limits: Limits = Limits()
) -> Image.Image:
    """A file on disk -> decode_image(its bytes), checking its size before reading it.

    Args:
        path: the file to read.
        name: how messages name the file (default: the path as given).
        limits: the same limits as for uploads.

    Returns:
        An RGB PIL image (see decode_image).

    Raises:
        ImageRejected: the file cannot be read, is over the size limit (then it is never
            read into memory) or is not a usable image.
    """
    path = Path(path)
    name = str(path) if name is None else name
    try:
        size = path.stat().st_size
        if size > limits.max_file_bytes:
            raise ImageRejected(
                name,
                f"the file is {size / 1e6:.1f} MB; the limit is "
                f"{limits.max_file_bytes / 1e6:.0f} MB",
            )
        data = path.read_bytes()
    except OSError as error:
        raise ImageRejected(name, f"the file cannot be read ({error.strerror})") from None
    return decode_image(data, name, limits)


def to_rgb(image: Image.Image) -> Image.Image:
    """Any PIL mode -> RGB: alpha composited on white, 16-bit/float rescaled to 0..255."""
    if image.mode in ("I;16", "I;16B", "I;16L", "I", "F"):
        array = np.asarray(image, dtype=np.float64)
        top = 65535.0 if image.mode.startswith("I;16") or array.max() > 255 else 255.0
        if image.mode == "F":
            top = max(float(array.max()), 1.0)
        array = np.clip(array / top * 255.0, 0, 255).astype(np.uint8)
        image = Image.fromarray(array, "L")
    if image.mode == "P" and "transparency" in image.info:
        image = image.convert("RGBA")
    if image.mode in ("RGBA", "LA", "PA"):
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(background, rgba).convert("RGB")
    return image.convert("RGB")


# --- characters ----------------------------------------------------------------------------


def character_array(image: Image.Image, size: int = CHARACTER_SIZE) -> np.ndarray:
    """A drawing or photo of one character -> (size, size) float32, ink = 1, background = 0.

    Normalised like Omniglot: grayscale, a light-on-dark image is inverted, cropped to the
    ink with a margin so the character fills about as much of the frame as in Omniglot,
    then resized with LANCZOS.
    """
    gray = np.asarray(to_rgb(image).convert("L"), dtype=np.float32) / 255.0
    border = np.concatenate([gray[0], gray[-1], gray[:, 0], gray[:, -1]])
    if float(np.median(border)) < 0.5:  # light ink on a dark background
        gray = 1.0 - gray
    ink = 1.0 - gray
    mask = ink > 0.25
    if mask.any():
        rows = np.flatnonzero(mask.any(1))
        cols = np.flatnonzero(mask.any(0))
        top, bottom, left, right = rows[0], rows[-1] + 1, cols[0], cols[-1] + 1
        side = max(bottom - top, right - left)
        # Omniglot characters span about 70% of their frame after resizing
        # (measured on the 28 px set).
        frame = int(np.ceil(side / 0.7)) + 2
        cy, cx = (top + bottom) / 2.0, (left + right) / 2.0
        canvas = np.zeros((frame, frame), dtype=np.float32)
        y0, x0 = int(round(cy - frame / 2.0)), int(round(cx - frame / 2.0))
        sy0, sx0 = max(y0, 0), max(x0, 0)
        sy1, sx1 = min(y0 + frame, ink.shape[0]), min(x0 + frame, ink.shape[1])
        canvas[sy0 - y0 : sy1 - y0, sx0 - x0 : sx1 - x0] = ink[sy0:sy1, sx0:sx1]
        ink = canvas
    resized = Image.fromarray((ink * 255).astype(np.uint8), "L").resize(
        (size, size), Image.Resampling.LANCZOS
    )
    return np.asarray(resized, dtype=np.float32) / 255.0


def omniglot_array(image: Image.Image, size: int = CHARACTER_SIZE) -> np.ndarray:
    """A 105x105 Omniglot drawing -> (size, size) float32, ink = 1 (the benchmark protocol:
    a plain resize of the whole frame, no cropping)."""
    gray = image.convert("L").resize((size, size), Image.Resampling.LANCZOS)
    return 1.0 - np.asarray(gray, dtype=np.float32) / 255.0


# --- photos --------------------------------------------------------------------------------


def photo_array(image: Image.Image, size: int = PHOTO_SIZE, crop: float = 1.0) -> np.ndarray:
    """A photo -> (3, size, size) float32 scaled as (x - 127) / 128, the EfficientNet-Lite
    convention. The largest centred square is kept, and of it the central `crop` fraction of
    each side (1: all of it; 0.8: a closer view, as ImageNet evaluation's 224 of 256 is
    0.875), resized to `size` x `size`."""
    if not 0.0 < crop <= 1.0:
        raise ValueError(f"crop must be in (0, 1], got {crop}")
    bleed = (1.0 - crop) / 2.0
    rgb = ImageOps.fit(to_rgb(image), (size, size), Image.Resampling.BICUBIC, bleed=bleed)
    array = np.asarray(rgb, dtype=np.float32)  # a new array: scaled in place, (x - 127) / 128
    array -= 127.0
    array *= 1.0 / 128.0  # exact: the same floats as dividing by 128, without a temporary
    return array.transpose(2, 0, 1)


# --- what kind of image is it --------------------------------------------------------------


def looks_like_character(image: Image.Image) -> tuple[bool, str]:
    """Guess whether an image is a drawn character (two tones, no colour) or a photo.

    Returns (is_character, a sentence saying why) for the app's model suggestion.
    """
    small = to_rgb(image).resize((64, 64))
    rgb = np.asarray(small, dtype=np.float32) / 255.0
    saturation = float((rgb.max(-1) - rgb.min(-1)).mean())
    gray = rgb.mean(-1)
    two_tone = float(((gray < 0.2) | (gray > 0.8)).mean())
    if saturation < 0.08 and two_tone > 0.85:
        return True, (
            f"{two_tone:.0%} of its pixels are near black or white and it has almost no "
            "colour, like a drawn character"
        )
    return False, (
        f"it has colour or many grey levels ({1 - two_tone:.0%} mid-tone pixels), like a photo"
    )
