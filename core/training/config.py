"""Typed configs of a meta-training run: what every run shares, then Omniglot's and a photo
head's own fields. Each field carries its flag's help (core.cli.option), so the CLIs build
their flags from these classes.

`hidden` meant Conv-4 channels in one config and the head's MLP width in the other: the
fields are now `channels` and `hidden_features`, and `--hidden` still sets either, so the
commands recorded in model cards keep their meaning.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from core.cli import option
from core.encoders.efficientnet import BACKBONE, check_network
from core.images import PHOTO_SIZE

ALGORITHMS = ("protonet", "maml")
HEAD_INITS = ("proto", "zero")


def parse_setting(text: str) -> tuple[int, int]:
    """'5w1s' -> (5 ways, 1 shot). Raises ValueError naming the text."""
    try:
        ways, shots = text.lower().rstrip("s").split("w")
        return int(ways), int(shots)
    except ValueError:
        raise ValueError(f"a setting looks like '5w1s' (ways, shots); got {text!r}") from None


@dataclass(frozen=True)
class RunConfig:
    """The fields every meta-training run has; subclasses change defaults and add inputs."""

    # Config keys renamed since older state.pt files and model cards were written.
    renamed: ClassVar[dict[str, str]] = {}

    name: str = option("model", "model name: assets/models/<name>.*")
    algorithm: str = option("protonet", '"protonet" or "maml"')
    dataset: str = option("omniglot", "the dataset meta-trained on")
    train_split: str = option("train", "the split meta-trained on; test is never read here")
    val_split: str = option("val", "model selection only")
    episodes: int = option(1000, "optimiser steps (ProtoNet episodes or MAML meta-batches)")
    ways: tuple[int, ...] = option((5,), "drawn per step; MAML: a mix serves any test ways")
    shots: tuple[int, ...] = option((1, 5), "drawn per step: one checkpoint serves 1 and 5 shots")
    queries: int = option(5, "queries per class")
    lr: float = option(1e-3, "Adam step size")
    weight_decay: float = option(0.0, "Adam (L2) on the network's weights")
    lr_halve_every: int = option(1000, "steps between halvings of the Adam step size")
    meta_batch: int = option(8, "MAML: tasks per meta-step")
    inner_steps: int = option(1, "MAML: inner steps in training")
    inner_lr: float = option(0.1, "MAML: initial inner learning rate")
    test_inner_steps: int = option(10, "MAML: steps at evaluation and in the app")
    first_order: bool = option(False, "MAML: first-order approximation")
    head_init: str = option("proto", 'MAML: "proto" or "zero"')
    head_lr_per_class: bool = option(
        False, "MAML: the classifier's step sizes are per class (x the task's N classes)"
    )
    init_lr_scale: float = option(
        1.0, "MAML: multiply the --init-from model's inner step sizes by this at the start"
    )
    learn_inner_lr: bool = option(True, "MAML: meta-learn one inner lr per parameter tensor")
    inner_backbone: bool = option(
        True, "MAML: the inner loop adapts the backbone too (off: the classifier only, ANIL)"
    )
    inner_lr_lr: float = option(0.003, "MAML: Adam step for the log inner learning rates")
    init_from: str = option("", "start from a shipped model (e.g. MAML from ProtoNet)")
    eval_every: int = option(500, "steps between validations")
    val_episodes: int = option(300, "episodes per validation setting")
    val_settings: tuple[str, ...] = option(("5w1s",), "their mean selects the checkpoint")
    seed: int = option(0, "weight init and episode sampling")
    time_budget_s: float = option(0.0, "stop (keeping the best checkpoint) after this; 0 = none")
    run_dir: str = option("", "default: runs/<name>")
    out_dir: str = option("", "default: assets/models")
    description: str = option("", "the model card's description (default: generated)")
    save_every_s: float = option(300.0, "also write state.pt this often between validations")

    def __post_init__(self) -> None:
        if self.algorithm not in ALGORITHMS:
            raise ValueError(f"algorithm must be 'protonet' or 'maml', got {self.algorithm!r}")
        if self.head_init not in HEAD_INITS:
            raise ValueError(f"head_init must be 'proto' or 'zero', got {self.head_init!r}")
        for setting in self.val_settings:
            parse_setting(setting)

    @classmethod
    def current_names(cls, saved: dict[str, Any]) -> dict[str, Any]:
        """A config dict as saved by an older version, with today's field names."""
        return {cls.renamed.get(k, k): v for k, v in saved.items()}


@dataclass(frozen=True)
class OmniglotConfig(RunConfig):
    """A Conv-4 meta-trained on Omniglot images (python -m core.train)."""

    renamed: ClassVar[dict[str, str]] = {"hidden": "channels"}

    name: str = option("omniglot-protonet", "model name: assets/models/<name>.*")
    dataset: str = option("omniglot", "only 'omniglot' (photo heads: python -m core.photo)")
    train_split: str = option("train", "Vinyals train; the test split is never read here")
    episodes: int = option(20000, "optimiser steps (ProtoNet episodes or MAML meta-batches)")
    ways: tuple[int, ...] = option((60,), "drawn per step; MAML: a mix serves any test ways")
    lr_halve_every: int = option(4000, "steps; the paper halves every 2000 episodes")
    meta_batch: int = option(32, "MAML: tasks per meta-step")
    val_settings: tuple[str, ...] = option(("5w1s", "20w1s"), "their mean selects the checkpoint")
    augment: bool = option(True, "random shifts of up to 2 pixels")
    channels: int = option(64, "Conv-4 channels", aliases=("--hidden",))
    device: str = option("auto", '"auto" (CUDA if present), "cpu", "cuda", "cuda:1", ...')

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.dataset != "omniglot":
            raise ValueError(
                f"core.train meta-trains the Conv-4 on 'omniglot'; got {self.dataset!r} "
                "(photo heads are trained by core.photo)"
            )


@dataclass(frozen=True)
class HeadConfig(RunConfig):
    """A feature head meta-trained over cached photo features (python -m core.photo train)."""

    renamed: ClassVar[dict[str, str]] = {"hidden": "hidden_features"}

    name: str = option("photo-protonet", "model name: assets/models/<name>.*")
    dataset: str = option("miniimagenet", "miniimagenet, or a folder of class subfolders")
    network: str = option(
        BACKBONE, "the backbone network (timm name) whose features the head reads"
    )
    size: int = option(PHOTO_SIZE, "photo side the backbone sees")
    crops: tuple[float, ...] = option(
        (1.0,), "views averaged: centre crops as fractions of the side (1: the whole photo)"
    )
    out_features: int = option(512, "D, the head's embedding size")
    hidden_features: int = option(
        0, "0: one Linear 1280 -> D; else Linear -> ReLU -> Linear", aliases=("--hidden",)
    )
    power: float = option(1.0, "features v -> sign(v)|v|^power first (Tukey; 1 = unchanged)")
    center: bool = option(True, "subtract the mean training feature (stored with the weights)")
    normalize: bool = option(False, "then scale each feature to unit L2 norm")
    normalize_output: bool = option(True, "embeddings = learned scale * unit vectors")
    init: str = option("imagenet_svd", 'Linear head init: "imagenet_svd" or "orthogonal"')
    init_scale: float = option(4.0, "output scale (normalize_output), else W0 = init_scale * W0")
    episodes: int = option(3000, "optimiser steps (ProtoNet episodes or MAML meta-batches)")
    ways: tuple[int, ...] = option((20,), "drawn per step")
    queries: int = option(15, "queries per class")
    inner_lr: float = option(0.01, "MAML: initial inner learning rate")
    eval_every: int = option(250, "steps between validations")
    val_settings: tuple[str, ...] = option(("5w1s", "5w5s"), "their mean selects the checkpoint")
    threads: int = option(2, "torch CPU threads")
    images_per_class: int = option(
        0, "train on the first N photos of each class (0: all): fewer features to compute"
    )
    val_images_per_class: int = option(0, "validate on the first N photos of each class (0: all)")

    def __post_init__(self) -> None:
        super().__post_init__()
        check_network(self.network)
        if self.init not in ("imagenet_svd", "orthogonal"):
            raise ValueError(f"init must be 'imagenet_svd' or 'orthogonal', got {self.init!r}")
        if self.init == "imagenet_svd" and not 1 <= self.out_features <= 1000:
            raise ValueError(f"imagenet_svd needs out_features <= 1000, got {self.out_features}")
        if self.out_features < 1 or self.hidden_features < 0:
            raise ValueError(
                f"need out_features >= 1 and hidden >= 0, got out_features="
                f"{self.out_features}, hidden={self.hidden_features}"
            )
