"""Images inside figures and tables."""

from __future__ import annotations

import base64
import io

from PIL import Image


def thumbnail_uri(image: Image.Image, size: int = 64) -> str:
    """A small PNG of `image` as a data: URI (for image columns in tables)."""
    thumb = image.copy()
    thumb.thumbnail((size, size))
    buffer = io.BytesIO()
    thumb.convert("RGB").save(buffer, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")
