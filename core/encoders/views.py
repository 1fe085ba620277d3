"""The views of a photo that its feature averages: whole-photo and centre-crop batches."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from PIL import Image

from core.images import PHOTO_SIZE, photo_array


def photo_batch(
    images: Sequence[Image.Image], size: int = PHOTO_SIZE, crop: float = 1.0
) -> torch.Tensor:
    """PIL images (any mode and size) -> (B, 3, size, size) float32, see core.images.photo_array."""
    if not images:
        return torch.zeros(0, 3, size, size)
    return torch.from_numpy(np.stack([photo_array(image, size, crop) for image in images]))


def check_crops(crops: Sequence[float]) -> tuple[float, ...]:
    """The views a photo feature averages: centre crops, each a fraction of the side in (0, 1]."""
    crops = tuple(float(c) for c in crops)
    if not crops or not all(0.0 < c <= 1.0 for c in crops) or len(set(crops)) != len(crops):
        raise ValueError(f"crops must be distinct fractions in (0, 1], at least one; got {crops}")
    return crops
