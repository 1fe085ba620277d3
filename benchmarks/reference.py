"""Hand-written references for the rows no peer library computes: written from the papers on
the textbook Conv-4 (conv, nn.BatchNorm2d, ReLU, max-pool modules) with plain autograd, so
they share none of core's formulations (folded or patch-moment batch norm, torch.func).

A row checked against one of these is "ours only": its float64 check says our faster form
computes what the textbook form does, not that a peer library computes it.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F

from benchmarks.common import StepResult, backward_and_step
from benchmarks.peers import PeerStep, TextbookConv4
from benchmarks.tasks import Episodes
from core import maml


def class_means(features: torch.Tensor, ways: int) -> torch.Tensor:
    """(N*K, D) features grouped by class (labels 0 K times, then 1, ...) -> (N, D) means."""
    return features.view(ways, -1, features.shape[-1]).mean(1)


def protonet_single_pass(
    net: TextbookConv4, optimizer: torch.optim.Optimizer, episode: Episodes
) -> StepResult:
    """Snell et al. 2017 as our Trainer trains it: one training-mode forward over support and
    queries together (one set of batch statistics), squared Euclidean distance, cross-entropy.
    """
    net.train()
    embedded = net(torch.cat([episode.support, episode.query]))  # (N*K + N*Q, D)
    split = len(episode.support)
    prototypes = class_means(embedded[:split], episode.ways)  # (N, D)
    logits = -((embedded[split:, None] - prototypes[None]) ** 2).sum(-1)  # (N*Q, N)
    loss = F.cross_entropy(logits, episode.query_labels)
    return backward_and_step(loss, optimizer, net.named_parameters())


def starting_head(features: torch.Tensor, ways: int, head_init: str) -> list[torch.Tensor]:
    """[weight (N, D), bias (N,)]: zero, or Proto-MAML's 2 c_k and -||c_k||^2 (Triantafillou
    et al. 2020) from the (N*K, D) support features, differentiable through them."""
    if head_init == "zero":  # leaves that take gradients, as the zero head does in ours
        zeros = [features.new_zeros(ways, features.shape[1]), features.new_zeros(ways)]
        return [z.requires_grad_() for z in zeros]
    centres = class_means(features, ways)
    return [2.0 * centres, -(centres**2).sum(-1)]


def maml_meta_step(
    net: TextbookConv4, optimizer: torch.optim.Optimizer, batch: Episodes, loop: maml.InnerLoop
) -> StepResult:
    """Finn et al. 2017 by hand: per task, `loop.steps` torch.autograd.grad steps on the
    support loss over backbone and head (rates per tensor name when loop.lr is a dict; the
    head's start, zero or class centres, is differentiated only in the outer loop), the
    query loss after them; the mean over tasks, backward, the optimiser step. Batch norm on
    stored statistics (eval mode), as in our meta-training."""
    net.eval()
    names = [name for name, _ in net.named_parameters()]
    rates = maml.step_sizes(loop.lr, [*names, maml.HEAD_WEIGHT, maml.HEAD_BIAS])
    rates = [float(rates[name]) for name in [*names, maml.HEAD_WEIGHT, maml.HEAD_BIAS]]
    total: Any = 0.0
    tasks = batch.support.shape[0]
    for t in range(tasks):

        def logits(weights: list[torch.Tensor], images: torch.Tensor) -> torch.Tensor:
            features = torch.func.functional_call(net, dict(zip(names, weights)), (images,))
            return features @ weights[-2].T + weights[-1]

        backbone = list(net.parameters())
        features = torch.func.functional_call(net, dict(zip(names, backbone)), (batch.support[t],))
        # The head is a variable of the inner loop like the backbone: its gradient steps take
        # partial derivatives. Its start depends on the leaves, so the steps run from copies
        # of them (clone(): the same values, a node the head does not depend on).
        fast = [
            *(p.clone() for p in backbone),
            *starting_head(features, batch.ways, loop.head_init),
        ]
        for _ in range(loop.steps):
            loss = F.cross_entropy(logits(fast, batch.support[t]), batch.support_labels[t])
            grads = torch.autograd.grad(loss, fast, create_graph=not loop.first_order)
            fast = [w - rate * g for w, rate, g in zip(fast, rates, grads)]
        total = total + F.cross_entropy(logits(fast, batch.query[t]), batch.query_labels[t])
    return backward_and_step(total / tasks, optimizer, net.named_parameters())


def reference_step(step: Any) -> PeerStep:
    """A reference as the other side of a float64 check: it runs on the textbook Conv-4."""
    return PeerStep(wrap=lambda net: net, step=step)
