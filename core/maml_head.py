"""MAML's classifier head, built per task from the support set.

The head is not a meta-parameter, so one checkpoint serves any number of classes and any
(uneven) shots, and its predictions do not depend on the order in which classes are given:
  - "proto": W_k = 2 c_k, b_k = -||c_k||^2, with c_k the mean support embedding of class k
    (Proto-MAML, Triantafillou et al., ICLR 2020); before any step the logits equal
    Prototypical Networks' negative squared distances up to a per-query constant.
  - "zero": W = 0, b = 0 (Kao et al., ICLR 2022); every class starts equal and the
    first inner step moves each row towards its class's features (zero_head_step, in
    closed form).
Also here: the inner step sizes, one per parameter tensor, the head's optionally per class,
and the inner loop of a model whose backbone step sizes are all zero (only the classifier
adapts, as in ANIL, Raghu et al., ICLR 2020): the features are computed once and the steps
run on them, the same result as the general loop without a backbone pass per step.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

import torch
import torch.nn.functional as F
from torch.func import grad

from core.functional import Params

if TYPE_CHECKING:
    from core.maml import InnerLoop

HeadInit = Literal["proto", "zero"]
HEAD_WEIGHT, HEAD_BIAS = "head.weight", "head.bias"


def init_head(features: torch.Tensor, one_hot: torch.Tensor, head_init: HeadInit) -> Params:
    """(S, D) support features, (S, N) one-hot labels -> {"head.weight": (N, D),
    "head.bias": (N,)}."""
    if head_init == "zero":
        n, d = one_hot.shape[1], features.shape[1]
        return {HEAD_WEIGHT: features.new_zeros(n, d), HEAD_BIAS: features.new_zeros(n)}
    protos = (one_hot.T @ features) / one_hot.sum(0)[:, None]  # (N, D)
    return {HEAD_WEIGHT: 2.0 * protos, HEAD_BIAS: -(protos**2).sum(-1)}


def head_logits(features: torch.Tensor, params: Params) -> torch.Tensor:
    return features @ params[HEAD_WEIGHT].T + params[HEAD_BIAS]


def step_sizes(lr: float | dict[str, Any], names) -> dict[str, Any]:
    """One step size per parameter name; a scalar applies to all."""
    if isinstance(lr, dict):
        missing = [n for n in names if n not in lr]
        if missing:
            raise ValueError(f"no inner learning rate for {missing[:3]}")
        return {n: lr[n] for n in names}
    return {n: lr for n in names}


def task_step_sizes(config: InnerLoop, names, n_classes: int) -> dict[str, Any]:
    """step_sizes for one task of `n_classes` classes: the classifier's multiplied by N when
    config.head_lr_per_class."""
    rates = step_sizes(config.lr, names)
    if config.head_lr_per_class:
        for name in (HEAD_WEIGHT, HEAD_BIAS):
            rates[name] = rates[name] * n_classes
    return rates


def zero_head_step(
    support_features: torch.Tensor, support_one_hot: torch.Tensor, config: InnerLoop
) -> Params:
    """The head after the first inner step from the zero head, in closed form.

    From W = 0, b = 0 every logit is 0 and the softmax is uniform, so the support loss's
    gradient is w_s (1/N - y) per logit (w: class_weights, 1/S with even shots): the head's
    gradient is R^T F and sum_s R with R = w (1/N - Y), the bias's is 0 and the backbone's
    exactly zero (it reaches the backbone through W = 0). Row k moves along (mean of the class
    means - c_k): the class-mean classifier, with even or uneven shots. It needs one support
    forward and no backward; its graph runs through `support_features` (second order) unless
    config.first_order. Batched over any leading dimensions (tasks).

    Args:
        support_features: (..., S, D) at θ; support_one_hot: (..., S, N).
    """
    n = support_one_hot.shape[-1]
    weights = class_weights(support_one_hot).unsqueeze(-1)
    residual = (1.0 / n - support_one_hot) * weights  # d loss / d logits at zero logits
    grads = {
        HEAD_WEIGHT: residual.transpose(-1, -2) @ support_features,  # (..., N, D)
        HEAD_BIAS: residual.sum(-2),  # (..., N)
    }
    if config.first_order:
        grads = {k: g.detach() for k, g in grads.items()}
    rates = task_step_sizes(config, grads, n)
    return {k: -rates[k] * g for k, g in grads.items()}


def class_weights(one_hot: torch.Tensor) -> torch.Tensor:
    """(..., S, N) one-hot labels -> (..., S) weights 1 / (N x the example's class count):
    every class weighs the same in a loss, whatever its number of examples (with as many in
    every class, each weight is 1/S and the weighted sum is the plain mean)."""
    counts = one_hot.sum(-2, keepdim=True).clamp(min=1.0)
    return (one_hot / counts).sum(-1) / one_hot.shape[-1]


def cross_entropies(logits: torch.Tensor, one_hot: torch.Tensor) -> torch.Tensor:
    """(..., S, N) -> (..., S): each example's cross-entropy with one-hot float targets
    (integer-free, so it runs under vmap)."""
    return -(one_hot * F.log_softmax(logits, -1)).sum(-1)


def balanced_cross_entropy(logits: torch.Tensor, one_hot: torch.Tensor) -> torch.Tensor:
    """(..., S, N) -> (...): the cross-entropy, each class weighing the same (class_weights)."""
    return (class_weights(one_hot) * cross_entropies(logits, one_hot)).sum(-1)


def head_loss(
    features: torch.Tensor, one_hot: torch.Tensor, head: Params, balanced: bool = True
) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-task (loss, accuracy) of features (..., Q, D) under a head (..., N, D), (..., N).
    balanced: every class weighs the same (the support loss); else the mean (queries)."""
    logits = features @ head[HEAD_WEIGHT].transpose(-1, -2) + head[HEAD_BIAS].unsqueeze(-2)
    if balanced:
        losses = balanced_cross_entropy(logits, one_hot)
    else:
        losses = cross_entropies(logits, one_hot).mean(-1)
    accuracy = (logits.argmax(-1) == one_hot.argmax(-1)).float().mean(-1)
    return losses, accuracy.detach()


def adapts_head_only(rates: dict[str, Any]) -> bool:
    """Whether every step size but the classifier's is a constant zero (no meta-gradient)."""
    for name, rate in rates.items():
        if name in (HEAD_WEIGHT, HEAD_BIAS):
            continue
        if isinstance(rate, torch.Tensor) and (rate.requires_grad or rate.numel() != 1):
            return False
        if float(rate) != 0.0:
            return False
    return True


def head_steps(
    features: torch.Tensor,
    one_hot: torch.Tensor,
    head: Params,
    rates: dict[str, Any],
    steps: int,
    first_order: bool,
) -> Params:
    """`steps` gradient steps of the classifier alone on fixed support features.

    Batched over any leading (task) dimensions: the loss is the sum of the tasks' mean
    losses, so each task's gradient is its own. Differentiable through `features` and the
    rates (second order) unless first_order."""
    step_grad = grad(lambda h: head_loss(features, one_hot, h)[0].sum())
    for _ in range(steps):
        grads = step_grad(head)
        if first_order:
            grads = {k: g.detach() for k, g in grads.items()}
        head = {k: head[k] - rates[k] * grads[k] for k in head}
    return head
