"""A corpus of awkward image files, generated in memory for the tests (no files committed).

Each entry: name -> (bytes, expected) where expected is "ok" or a fragment of the reason
core.images.decode_image must give.
"""

from __future__ import annotations

import io
import struct
import zlib

import numpy as np
from PIL import Image


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def bomb_png(width: int = 30000, height: int = 30000) -> bytes:
    """A valid-looking PNG header declaring width x height pixels, with almost no data."""
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)  # 8-bit grayscale
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", header)
        + _png_chunk(b"IDAT", zlib.compress(b"\x00" * 64))
        + _png_chunk(b"IEND", b"")
    )


def encode(image: Image.Image, fmt: str, **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **options)
    return buffer.getvalue()


def with_orientation(orientation: int) -> bytes:
    """A 40x20 JPEG whose top-left quarter is black, tagged with an EXIF orientation."""
    image = Image.new("RGB", (40, 20), "white")
    image.paste((0, 0, 0), (0, 0, 20, 10))
    exif = Image.Exif()
    exif[0x0112] = orientation
    return encode(image, "JPEG", exif=exif.tobytes(), quality=95)


def corpus() -> dict[str, tuple[bytes, str]]:
    rng = np.random.default_rng(0)
    photo = Image.fromarray(rng.integers(0, 255, (64, 64, 3), dtype=np.uint8))
    png, jpeg = encode(photo, "PNG"), encode(photo, "JPEG")
    gray16 = Image.fromarray(np.full((32, 32), 32768, dtype=np.uint16))
    palette = Image.new("P", (32, 32), 0)
    palette.putpalette([255, 0, 0] + [0, 0, 255] * 255)
    palette.paste(1, (0, 0, 16, 32))
    rgba = Image.new("RGBA", (32, 32), (0, 0, 0, 0))
    rgba.paste((0, 0, 0, 255), (0, 0, 16, 32))
    frames = [Image.new("RGB", (32, 32), c) for c in ("red", "green", "blue")]
    gif = io.BytesIO()
    frames[0].save(gif, "GIF", save_all=True, append_images=frames[1:], duration=100, loop=0)
    entries = {
        "empty.png": (b"", "empty"),
        "random.bin": (rng.integers(0, 255, 5000, dtype=np.uint8).tobytes(), "not an image"),
        "truncated.png": (png[: len(png) // 2], "damaged or truncated"),
        "truncated.jpg": (jpeg[: len(jpeg) // 2], "damaged or truncated"),
        "bomb.png": (bomb_png(), "decompression bomb"),
        "big.png": (bomb_png(9000, 9000), "9000x9000 pixels; the limit is 40 megapixels"),
        "one_pixel.png": (encode(Image.new("L", (1, 1)), "PNG"), "at least 8x8"),
        "gray16.png": (encode(gray16, "PNG"), "ok"),
        "cmyk.jpg": (encode(Image.new("CMYK", (32, 32), (0, 255, 255, 0)), "JPEG"), "ok"),
        "palette_transparent.png": (encode(palette, "PNG", transparency=0), "ok"),
        "rgba.png": (encode(rgba, "PNG"), "ok"),
        "animated.gif": (gif.getvalue(), "ok"),
        "drawing.svg": (
            b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10">'
            b'<circle cx="5" cy="5" r="4"/></svg>',
            "not an image",
        ),
        "page.png": (b"<!DOCTYPE html><html><body>hello</body></html>", "not an image"),
        "document.pdf": (b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n", "not an image"),
        "huge.png": (b"\x89PNG" + b"\x00" * (11 * 1024 * 1024), "limit is 10 MB"),
        "photo.png": (png, "ok"),
        "photo.jpg": (jpeg, "ok"),
    }
    for orientation in range(1, 9):
        entries[f"exif_{orientation}.jpg"] = (with_orientation(orientation), "ok")
    return entries
