"""Fine-tune from scratch: the baseline with no meta-learning at all.

Images (B, C, H, W), e.g. handwritten characters: the same Conv-4 architecture as the
meta-trained models (Vinyals et al. 2016), randomly initialised, plus a linear layer.
Features (B, D), e.g. a photo model's frozen 1280-d EfficientNet-Lite0 features: a linear
model (multinomial logistic regression) on them, the "linear probe" of Chen et al. 2019
("A Closer Look at Few-shot Classification"), with nothing learned across tasks.
Either is trained with Adam on the support set only. It shows what meta-training buys: with
one to five examples per class, a network that starts from nothing mostly memorises them
(Finn et al. 2017 and Snell et al. 2017 both compare against such baselines).

Randomness is explicit: the seed fixes the initial weights, and the global RNG is left as it
was. Batch norm learns its statistics from the support set during training and uses them
frozen at prediction time, so one image alone gets the same answer as inside a batch.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass, field

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from core.networks import Conv4

MAX_SIDE = 84  # larger inputs (photos, 224 px) are resized to mini-ImageNet's 84 px first


@dataclass(frozen=True)
class BaselineConfig:
    """How the baseline is trained on one support set."""

    steps: int = 100  # Adam steps on the whole support set (full batch)
    lr: float = 1e-3  # Adam learning rate
    hidden: int = 64  # Conv-4 channels, as in the meta-trained models
    seed: int = 0  # fixes the random initial weights

    def __post_init__(self) -> None:
        if not 1 <= self.steps <= 2000:
            raise ValueError(f"steps must be between 1 and 2000, got {self.steps}")
        if not self.lr > 0:
            raise ValueError(f"lr must be positive, got {self.lr}")


@dataclass
class BaselineStep:
    step: int  # 1-based Adam step
    loss: float  # support cross-entropy before the step
    accuracy: float  # support accuracy before the step


class _Net(nn.Module):
    def __init__(self, in_channels: int, hidden: int, n_classes: int, side: int) -> None:
        super().__init__()
        self.backbone = Conv4(in_channels, hidden)
        with torch.no_grad():
            dim = self.backbone(torch.zeros(1, in_channels, side, side)).shape[1]
        self.head = nn.Linear(dim, n_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.backbone(_shrink(x)))


def _new_net(support_inputs: torch.Tensor, hidden: int, n_classes: int) -> nn.Module:
    """A randomly initialised network for these inputs: (S, D) features get a linear model,
    (S, C, H, W) images a Conv-4 + linear head."""
    if support_inputs.dim() == 2:
        return nn.Linear(int(support_inputs.shape[1]), n_classes)
    side = min(int(support_inputs.shape[-1]), MAX_SIDE)
    return _Net(int(support_inputs.shape[1]), hidden, n_classes, side)


def _shrink(x: torch.Tensor) -> torch.Tensor:
    if x.shape[-1] > MAX_SIDE:
        return F.interpolate(x, size=(MAX_SIDE, MAX_SIDE), mode="bilinear", align_corners=False)
    return x


@dataclass
class BaselineClassifier:
    """A network trained from scratch on one support set. Same surface as AdaptedClassifier
    for what the compare page needs: classes and predict_proba_tensors."""

    classes: tuple[Hashable, ...]
    net: nn.Module  # Conv-4 + linear layer on images, or one linear layer on features
    history: list[BaselineStep] = field(default_factory=list)

    def predict_proba_tensors(self, inputs: torch.Tensor) -> np.ndarray:
        """(B, C, H, W) images or (B, D) features, as in training -> (B, N) probabilities."""
        if inputs.shape[0] == 0:
            return np.zeros((0, len(self.classes)), dtype=np.float32)
        self.net.eval()
        with torch.no_grad():
            return self.net(inputs).softmax(-1).cpu().numpy()


def fit_baseline(
    support_inputs: torch.Tensor,
    support_labels: torch.Tensor,
    classes: Sequence[Hashable],
    config: BaselineConfig = BaselineConfig(),
    on_step: Callable[[BaselineStep], None] | None = None,
) -> BaselineClassifier:
    """Train a randomly initialised network on the support set: a Conv-4 + linear head on
    images, one linear layer on features.

    Args:
        support_inputs: (S, C, H, W) encoded support images, or (S, D) frozen features (e.g.
            model.encode(images) of a character model, or of a photo model: (S, 1280)).
        support_labels: (S,) class indices into `classes`; every class needs an example.
        classes: the N class labels, in output order.
        config: steps, learning rate, width and seed.
        on_step: called after each Adam step with that step's loss and accuracy.

    Returns:
        A BaselineClassifier; `history` holds one BaselineStep per step.
    """
    classes = tuple(classes)
    n_classes = len(classes)
    if support_inputs.dim() not in (2, 4):
        raise ValueError(
            "expected (S, C, H, W) images or (S, D) features, got shape "
            f"{tuple(support_inputs.shape)}"
        )
    if support_labels.shape != support_inputs.shape[:1]:
        raise ValueError(
            f"{support_inputs.shape[0]} inputs but labels of shape {tuple(support_labels.shape)}"
        )
    if n_classes < 2:
        raise ValueError(f"need at least 2 classes, got {n_classes}")
    counts = torch.bincount(support_labels, minlength=n_classes)
    if counts.numel() > n_classes or bool((counts == 0).any()):
        raise ValueError("every class needs at least one image, and labels must be < N")
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(config.seed)
        net = _new_net(support_inputs, config.hidden, n_classes)
    optimiser = torch.optim.Adam(net.parameters(), lr=config.lr)
    history = []
    net.train()
    with torch.enable_grad():
        for step in range(1, config.steps + 1):
            logits = net(support_inputs)
            loss = F.cross_entropy(logits, support_labels)
            record = BaselineStep(
                step,
                float(loss.detach()),
                float((logits.argmax(-1) == support_labels).float().mean()),
            )
            optimiser.zero_grad(set_to_none=True)
            loss.backward()
            optimiser.step()
            history.append(record)
            if on_step is not None:
                on_step(record)
    net.eval()
    for parameter in net.parameters():
        parameter.requires_grad_(False)
    return BaselineClassifier(classes, net, history)


def fit_baseline_on_labels(
    support_inputs: torch.Tensor,
    support_labels: Sequence[Hashable],
    classes: Sequence[Hashable],
    config: BaselineConfig = BaselineConfig(),
    on_step: Callable[[BaselineStep], None] | None = None,
) -> BaselineClassifier:
    """fit_baseline with the S support labels given as members of `classes` (for example
    the app's class ids) instead of indices into it."""
    classes = tuple(classes)
    indices = torch.tensor([classes.index(label) for label in support_labels])
    return fit_baseline(support_inputs, indices, classes, config, on_step)
