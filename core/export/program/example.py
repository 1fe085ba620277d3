"""Classify images with the exported Few-Shot Lab classifier.

pip install numpy pillow onnxruntime
python example.py IMAGE [IMAGE ...]
"""

import json
import sys
from pathlib import Path

import numpy as np
import onnxruntime
from PIL import Image, ImageOps

# The preparation copies the app's (Few-Shot Lab's core.images: character_array and
# photo_array, after decode_image's orientation and to_rgb) in plain PIL and numpy, so
# nothing of the project is needed to run this file.


def preprocess(image, size, crops=None):
    """One image (PIL) -> one row of the graph's input, prepared as the app prepares it:
    a photo's views when `crops` is given (a photo model), else a character. The arguments
    are classes.json's "preprocessing" "arguments"."""
    if crops is None:
        return preprocess_character(image, size)
    return preprocess_photo(image, size, crops)


def _on_white(image):
    image = ImageOps.exif_transpose(image)
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")  # transparent pixels on white
        image = Image.alpha_composite(Image.new("RGBA", rgba.size, (255,) * 4), rgba)
    return image


def preprocess_character(image, size):
    """One character (PIL image) -> (1, size, size) float32, ink 1, background 0."""
    image = _on_white(image)
    gray = np.asarray(image.convert("RGB").convert("L"), dtype=np.float32) / 255.0
    border = np.concatenate([gray[0], gray[-1], gray[:, 0], gray[:, -1]])
    if np.median(border) < 0.5:  # light ink on a dark background
        gray = 1.0 - gray
    ink = 1.0 - gray
    mask = ink > 0.25
    if mask.any():  # a square frame around the ink, the character about 70% of it
        rows, cols = np.flatnonzero(mask.any(1)), np.flatnonzero(mask.any(0))
        top, bottom, left, right = rows[0], rows[-1] + 1, cols[0], cols[-1] + 1
        frame = int(np.ceil(max(bottom - top, right - left) / 0.7)) + 2
        y0 = int(round((top + bottom) / 2.0 - frame / 2.0))
        x0 = int(round((left + right) / 2.0 - frame / 2.0))
        canvas = np.zeros((frame, frame), dtype=np.float32)
        sy0, sx0 = max(y0, 0), max(x0, 0)
        sy1, sx1 = min(y0 + frame, ink.shape[0]), min(x0 + frame, ink.shape[1])
        canvas[sy0 - y0 : sy1 - y0, sx0 - x0 : sx1 - x0] = ink[sy0:sy1, sx0:sx1]
        ink = canvas
    small = Image.fromarray((ink * 255).astype(np.uint8), "L").resize(
        (size, size), Image.Resampling.LANCZOS
    )
    return (np.asarray(small, dtype=np.float32) / 255.0)[None]


def preprocess_photo(image, size, crops):
    """One photo (PIL image) -> (len(crops), 3, size, size) float32, one view per crop."""
    image = _on_white(image).convert("RGB")
    views = [
        ImageOps.fit(image, (size, size), Image.Resampling.BICUBIC, bleed=(1.0 - crop) / 2.0)
        for crop in crops
    ]
    pixels = np.stack([np.asarray(view, dtype=np.float32).transpose(2, 0, 1) for view in views])
    return (pixels - 127.0) / 128.0


if __name__ == "__main__":
    here = Path(__file__).resolve().parent
    info = json.loads((here / "classes.json").read_text(encoding="utf-8"))
    session = onnxruntime.InferenceSession(str(here / "model.onnx"))
    paths = sys.argv[1:]
    if not paths:
        sys.exit(__doc__)
    arguments = info["preprocessing"]["arguments"]
    batch = np.stack([preprocess(Image.open(path), **arguments) for path in paths])
    (probabilities,) = session.run(None, {info["input"]["name"]: batch})
    for path, row in zip(paths, probabilities):
        print(f"{path}: {info['classes'][row.argmax()]} ({row.max():.1%})")
