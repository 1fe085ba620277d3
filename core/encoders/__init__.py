"""Encoders turn PIL images into the tensors a model's network takes.

A model card names its encoder ({"type": "character"}, or the photo network's timm name:
{"type": "efficientnet_lite0", ...} or {"type": "tf_efficientnet_lite0", ...}).
The photo encoder (core.encoders.photo) needs timm and the ImageNet weights: it is imported
only when a card asks for it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

import numpy as np
import torch
from PIL import Image

from core.images import CHARACTER_SIZE, character_array

PHOTO_ENCODERS = ("efficientnet_lite0", "tf_efficientnet_lite0")  # efficientnet.NETWORKS
ENCODER_TYPES = ("character", *PHOTO_ENCODERS)


class Encoder(Protocol):
    """images -> (B, ...) network inputs; the same image always gives the same row."""

    def __call__(self, images: Sequence[Image.Image]) -> torch.Tensor: ...


class CharacterEncoder:
    """One handwritten character per image -> (B, 1, 28, 28), ink = 1 (see core.images)."""

    def __init__(self, size: int = CHARACTER_SIZE) -> None:
        self.size = size

    def spec(self) -> dict[str, Any]:
        """The model-card entry that rebuilds this encoder (build_encoder)."""
        return {"type": "character"} | ({} if self.size == CHARACTER_SIZE else {"size": self.size})

    def __call__(self, images: Sequence[Image.Image]) -> torch.Tensor:
        if not images:
            return torch.zeros(0, 1, self.size, self.size)
        arrays = np.stack([character_array(image, self.size) for image in images])
        return torch.from_numpy(arrays).unsqueeze(1)


def build_encoder(spec: dict[str, Any]) -> Encoder:
    """The encoder a model card's "encoder" entry describes; its other keys are options."""
    kind = spec.get("type")
    options = {k: v for k, v in spec.items() if k != "type"}
    if kind == "character":
        return CharacterEncoder(**options)
    if kind in PHOTO_ENCODERS:
        from core.encoders.photo import PhotoEncoder  # timm and the weights: only when asked

        return PhotoEncoder(network=kind, **options)
    raise ValueError(f"unknown encoder type {kind!r}; expected one of {sorted(ENCODER_TYPES)}")
