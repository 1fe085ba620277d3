"""Inputs of a feature head meta-trained over cached photo features, for the Trainer.

The head (core.networks.FeatureHead) reads (B, 1280) EfficientNet-Lite0 features, computed
once per dataset and view (core.features) and averaged over the views, as PhotoEncoder
computes them for the app.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from core.data import first_images, load_dataset
from core.encoders.efficientnet import FEATURE_DIM, load_backbone
from core.encoders.photo import PhotoEncoder
from core.features import FeatureTable, dataset_features, views_key
from core.papers import CAVEAT, PAPER_CONV4
from core.training.config import HeadConfig
from core.training.trainer import Trainer


def head_spec(config: HeadConfig) -> dict[str, Any]:
    """The model card's "network" entry of the head `config` describes."""
    return {
        "type": "feature_head",
        "in_features": FEATURE_DIM,
        "out_features": config.out_features,
        "hidden": config.hidden_features,
        "center": config.center,
        "normalize": config.normalize,
        "normalize_output": config.normalize_output,
        "scale": config.init_scale,
        "power": config.power,
    }


def initial_projection(config: HeadConfig, generator: torch.Generator) -> torch.Tensor:
    """(D, 1280) starting weight of a Linear head.

    "imagenet_svd": S_D V_D^T from the SVD W = U S V^T of the backbone's own ImageNet
    classifier (1000, 1280). For centred features x, ||S V^T x|| and the inner products
    between such vectors equal those of the centred ImageNet logits W x (U is orthonormal),
    so ProtoNet on the head's unit-normalised output starts as ProtoNet on centred,
    normalised ImageNet logits, truncated to the D largest singular values: the head starts
    from the backbone's ImageNet-1k label knowledge (see core.papers.CAVEAT).
    "orthogonal": init_scale times random orthonormal rows (a random projection).
    """
    if config.init == "imagenet_svd":
        classifier = load_backbone(config.network).classifier.weight.detach()  # (1000, 1280)
        _, singular, right = torch.linalg.svd(classifier, full_matrices=False)
        return singular[: config.out_features, None] * right[: config.out_features]
    weight = torch.empty(config.out_features, FEATURE_DIM)
    nn.init.orthogonal_(weight, generator=generator)
    return weight if config.normalize_output else weight * config.init_scale


class HeadInputs:
    """Cached (B, 1280) features of config.dataset over config.crops views; CPU only."""

    inputs_hint = "pass the same --size and --crops"
    augment = None

    def __init__(self, config: HeadConfig) -> None:
        self.config = config
        self.device = torch.device("cpu")
        self.network_spec = head_spec(config)
        self.encoder_spec = PhotoEncoder(
            config.size, crops=config.crops, network=config.network
        ).spec()

    def key(self) -> str:
        return views_key(self.config.size, self.config.crops, self.config.network)

    def load(self, split: str, quiet: bool) -> FeatureTable:
        c = self.config
        data = load_dataset(c.dataset, split)
        data = first_images(
            data, c.images_per_class if split == c.train_split else c.val_images_per_class
        )
        features = dataset_features(
            data, c.size, crops=c.crops, progress=not quiet, network=c.network
        )
        return FeatureTable(features)

    def initialise(self, net: nn.Module, generator: torch.Generator) -> None:
        """A Linear head starts from initial_projection and a zero bias."""
        if self.config.hidden_features == 0:
            with torch.no_grad():
                net.net.weight.copy_(initial_projection(self.config, generator))
                net.net.bias.zero_()

    def prepare(self, net: nn.Module, train: FeatureTable) -> None:
        """With config.center, the head subtracts the mean (powered) training feature."""
        if self.config.center:
            with torch.no_grad():
                net.center.copy_(net.powered(train.rows).mean(0))  # (1280,)

    def card(self, algorithm: str) -> dict[str, Any]:
        return {
            "input": "photo",
            "description": self.config.description
            or f"{algorithm} over a frozen ImageNet EfficientNet-Lite0: a head meta-trained on "
            "mini-ImageNet features; for one photo per image.",
            "caveat": CAVEAT,
        }

    def card_extras(self) -> dict[str, Any]:
        return {"paper_conv4_from_scratch": PAPER_CONV4}

    data_name = "mini-ImageNet (Ravi & Larochelle split) features"

    def hardware_note(self) -> str:
        return f", {torch.get_num_threads()} threads"


def head_trainer(config: HeadConfig, command: str) -> Trainer:
    """The Trainer of a photo head over cached features (python -m core.photo train)."""
    return Trainer(config, HeadInputs(config), command)
