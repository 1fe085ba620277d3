"""Checkpoints: safetensors weights + a JSON model card, and the registry of assets/models.

Nothing is ever unpickled: weights are safetensors, metadata is JSON. A truncated or
tampered file gives CheckpointError naming the file.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file
from torch import nn

from core.files import atomic_write, atomic_write_bytes
from core.networks import build_network
from core.tensors import state_dict_problem

SCHEMA_VERSION = 1
MODELS_DIR = Path(__file__).resolve().parent.parent / "assets" / "models"
REQUIRED_CARD_KEYS = ("schema", "name", "algorithm", "input", "network")


class CheckpointError(ValueError):
    """A checkpoint or model card that cannot be used; the message names the file."""


def models_dir() -> Path:
    return Path(os.environ.get("FEWSHOT_MODELS", MODELS_DIR))


def save_checkpoint(net: nn.Module, card: dict[str, Any], directory: Path | None = None) -> Path:
    """Write <name>.safetensors then <name>.json, each atomically. Returns the weights path."""
    directory = Path(directory or models_dir())
    name = card["name"]
    card = {"schema": SCHEMA_VERSION, **card}
    tensors = {k: v.detach().cpu().contiguous() for k, v in net.state_dict().items()}
    weights = directory / f"{name}.safetensors"
    atomic_write(weights, lambda tmp: save_file(tensors, str(tmp), metadata={"name": name}))
    write_card(directory / f"{name}.json", card)
    return weights


def write_card(path: Path, card: dict[str, Any]) -> None:
    """Write a model card atomically, as save_checkpoint and read_card expect it (the scripts
    that edit a shipped card write it back with this)."""
    atomic_write_bytes(path, json.dumps(card, indent=2).encode())


def read_card(path: Path) -> dict[str, Any]:
    try:
        card = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise CheckpointError(f"{path}: not a readable JSON model card ({error})") from None
    if not isinstance(card, dict):
        raise CheckpointError(f"{path}: a model card must be a JSON object")
    missing = [k for k in REQUIRED_CARD_KEYS if k not in card]
    if missing:
        raise CheckpointError(f"{path}: model card lacks {', '.join(missing)}")
    if card["schema"] != SCHEMA_VERSION:
        raise CheckpointError(
            f"{path}: model card schema {card['schema']!r}; this version reads {SCHEMA_VERSION}"
        )
    return card


def load_checkpoint(name: str, directory: Path | None = None) -> tuple[nn.Module, dict[str, Any]]:
    """(network in eval mode with its weights, model card). Raises CheckpointError."""
    directory = Path(directory or models_dir())
    card_path, weights_path = directory / f"{name}.json", directory / f"{name}.safetensors"
    if not card_path.exists() or not weights_path.exists():
        known = ", ".join(list_checkpoints(directory)) or "none"
        raise CheckpointError(f"no model named {name!r} in {directory} (available: {known})")
    card = read_card(card_path)
    try:
        net = build_network(card["network"])
    except (KeyError, TypeError, ValueError) as error:
        raise CheckpointError(f"{card_path}: bad network description ({error})") from None
    try:
        tensors = load_file(str(weights_path))
    except (SafetensorError, OSError, ValueError) as error:
        raise CheckpointError(f"{weights_path}: damaged or truncated weights ({error})") from None
    problem = state_dict_problem(tensors, net.state_dict())
    if problem:
        raise CheckpointError(
            f"{weights_path}: tensors do not match the network in {card_path.name} ({problem})"
        )
    for key, value in tensors.items():
        if value.is_floating_point() and not bool(torch.isfinite(value).all()):
            raise CheckpointError(f"{weights_path}: {key} holds non-finite values")
    net.load_state_dict(tensors)
    net.eval()
    for parameter in net.parameters():
        parameter.requires_grad_(False)
    return net, card


def list_checkpoints(directory: Path | None = None) -> list[str]:
    """Names of the models with both a card and weights, sorted."""
    directory = Path(directory or models_dir())
    if not directory.is_dir():
        return []
    return sorted(
        p.stem for p in directory.glob("*.json") if (directory / f"{p.stem}.safetensors").exists()
    )
