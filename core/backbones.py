"""Embedding networks.

Conv-4 (Vinyals et al. 2016; used by both Snell et al. 2017 and Finn et al. 2017): four
blocks of 3x3 conv (64 channels), batch norm, ReLU and 2x2 max-pool. A 1x28x28 character
becomes a 64-d vector. Batch norm keeps running statistics and is used in eval mode at
prediction time, so one image alone gets the same embedding as inside a batch.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn


def conv_block(in_channels: int, out_channels: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(in_channels, out_channels, kernel_size=3, padding=1),
        nn.BatchNorm2d(out_channels),
        nn.ReLU(),
        nn.MaxPool2d(2),
    )


class Conv4(nn.Module):
    """(B, C, H, W) -> (B, D); D = hidden for 28x28 inputs, hidden * 25 for 84x84."""

    def __init__(self, in_channels: int = 1, hidden: int = 64) -> None:
        super().__init__()
        self.encoder = nn.Sequential(
            conv_block(in_channels, hidden),
            conv_block(hidden, hidden),
            conv_block(hidden, hidden),
            conv_block(hidden, hidden),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.encoder(x).flatten(1)


class FeatureHead(nn.Module):
    """A small head over fixed features (used over a frozen pretrained backbone):
    Linear -> ReLU -> Linear, or a single Linear when hidden == 0."""

    def __init__(self, in_features: int, out_features: int, hidden: int = 0) -> None:
        super().__init__()
        if hidden:
            self.net: nn.Module = nn.Sequential(
                nn.Linear(in_features, hidden), nn.ReLU(), nn.Linear(hidden, out_features)
            )
        else:
            self.net = nn.Linear(in_features, out_features)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


def build_network(spec: dict[str, Any]) -> nn.Module:
    """Build the trainable network a model card describes, e.g. {"type": "conv4",
    "in_channels": 1, "hidden": 64}. Raises ValueError for an unknown type."""
    kind = spec.get("type")
    if kind == "conv4":
        return Conv4(int(spec.get("in_channels", 1)), int(spec.get("hidden", 64)))
    if kind == "feature_head":
        return FeatureHead(
            int(spec["in_features"]), int(spec["out_features"]), int(spec.get("hidden", 0))
        )
    raise ValueError(f"unknown network type {kind!r}; expected 'conv4' or 'feature_head'")
