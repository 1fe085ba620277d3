"""Encoders turn PIL images into the tensors a model's network takes.

A model card names its encoder ({"type": "character"} or {"type": "tf_efficientnet_lite0", ...}).
Encoders for heavy backbones live in their own modules and are imported only when needed.
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from typing import Any, Protocol

import numpy as np
import torch
from PIL import Image

from core.images import CHARACTER_SIZE, character_array


class Encoder(Protocol):
    """images -> (B, ...) network inputs; the same image always gives the same row."""

    def __call__(self, images: Sequence[Image.Image]) -> torch.Tensor: ...


class CharacterEncoder:
    """One handwritten character per image -> (B, 1, 28, 28), ink = 1 (see core.images)."""

    def __init__(self, size: int = CHARACTER_SIZE) -> None:
        self.size = size

    def __call__(self, images: Sequence[Image.Image]) -> torch.Tensor:
        if not images:
            return torch.zeros(0, 1, self.size, self.size)
        arrays = np.stack([character_array(image, self.size) for image in images])
        return torch.from_numpy(arrays).unsqueeze(1)


# type -> "module:factory"; the factory takes the spec's other keys as keyword arguments.
ENCODERS: dict[str, str] = {
    "character": "core.encoders:CharacterEncoder",
    "tf_efficientnet_lite0": "core.photo:PhotoEncoder",
}


def build_encoder(spec: dict[str, Any]) -> Encoder:
    kind = spec.get("type")
    if kind not in ENCODERS:
        raise ValueError(f"unknown encoder type {kind!r}; expected one of {sorted(ENCODERS)}")
    module_name, factory = ENCODERS[kind].split(":")
    options = {k: v for k, v in spec.items() if k != "type"}
    return getattr(importlib.import_module(module_name), factory)(**options)
