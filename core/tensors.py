"""Checks on tensors read from files, before they are loaded into a network."""

from __future__ import annotations

import torch


def state_dict_problem(
    tensors: dict[str, torch.Tensor], expected: dict[str, torch.Tensor]
) -> str | None:
    """Why `tensors` cannot be loaded where the state dict `expected` is, or None if they can:
    names missing or unexpected (the first three of each), or the first shape that differs."""
    if set(tensors) != set(expected):
        missing = sorted(set(expected) - set(tensors))[:3]
        return f"missing {missing}, unexpected {sorted(set(tensors) - set(expected))[:3]}"
    for key, value in tensors.items():
        if value.shape != expected[key].shape:
            return f"{key} has shape {tuple(value.shape)}, expected {tuple(expected[key].shape)}"
    return None
