"""Inputs of a Conv-4 meta-trained on Omniglot images (Vinyals split), for the Trainer."""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from core.data import TensorDataset, omniglot
from core.training.config import OmniglotConfig


def pick_device(name: str) -> torch.device:
    """ "auto": CUDA when there is a GPU, else the CPU; any other name as torch reads it."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(name)


def shift_augment(x: torch.Tensor, generator: torch.Generator, max_shift: int = 2) -> torch.Tensor:
    """(B, C, H, W): each image shifted by a random whole number of pixels in
    [-max_shift, max_shift] along each axis, zero fill (one batched grid_sample)."""
    b, _, h, w = x.shape
    shifts = torch.randint(-max_shift, max_shift + 1, (b, 2), generator=generator).to(x)
    theta = torch.zeros(b, 2, 3, device=x.device, dtype=x.dtype)
    theta[:, 0, 0] = theta[:, 1, 1] = 1.0
    theta[:, 0, 2] = -2.0 * shifts[:, 0] / w
    theta[:, 1, 2] = -2.0 * shifts[:, 1] / h
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    return F.grid_sample(x, grid, mode="nearest", padding_mode="zeros", align_corners=False)


class OmniglotInputs:
    """(B, 1, 28, 28) Omniglot images on the run's device, shifted when config.augment."""

    inputs_hint = "pass a model trained on Omniglot characters"

    def __init__(self, config: OmniglotConfig) -> None:
        self.config = config
        self.device = pick_device(config.device)
        self.network_spec = {"type": "conv4", "in_channels": 1, "hidden": config.channels}
        self.encoder_spec: dict[str, Any] = {"type": "character"}
        self.augment = shift_augment if config.augment else None

    def key(self) -> str:
        return ""

    def load(self, split: str, quiet: bool) -> TensorDataset:
        return omniglot(split).to(self.device)

    def initialise(self, net: nn.Module, generator: torch.Generator) -> None:
        """The seeded default initialisation is the start."""

    def prepare(self, net: nn.Module, train: TensorDataset) -> None:
        """Nothing depends on the training data."""

    def card(self, algorithm: str) -> dict[str, Any]:
        return {
            "input": "character",
            "description": self.config.description
            or f"{algorithm} on a Conv-4, meta-trained on Omniglot; for one handwritten "
            "character per image.",
        }

    def card_extras(self) -> dict[str, Any]:
        return {}

    data_name = "Omniglot, Vinyals split"

    def hardware_note(self) -> str:
        return ""
