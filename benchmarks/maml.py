"""MAML meta-training step, ours against learn2learn's (Finn et al. 2017, arXiv:1703.03400).

Ours is core.training.Trainer.maml_step's computation: core.maml.meta_loss, backward, Adam,
batch norm on stored statistics. The rows of config.maml_settings start the head at zero, the
head start learn2learn can express: its canonical clone()/adapt() loop over a textbook Conv-4
and a zero head is checked equal in float64 and timed beside ours (ours takes the first
step in closed form and the rest grouped over tasks: core.maml.meta_loss). The shipped
model's inner loop (per-tensor rates; or a class-centre head start) has no learn2learn
equivalent: its row is ours only, checked against benchmarks.reference and timed alone.
"""

from __future__ import annotations

from functools import partial
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from benchmarks import reference
from benchmarks.common import BenchConfig, StepResult, backward_and_step, seeded_conv4
from benchmarks.peers import PeerStep, TextbookConv4
from benchmarks.rows import Row, measure
from benchmarks.tasks import Episodes, maml_batch
from core import maml
from core.checkpoints import models_dir, read_card
from core.networks import Conv4

SHIPPED_MODEL = "omniglot-maml"  # its card's inner loop is the shipped head start's row


def ours_maml_step(
    net: Conv4,
    optimizer: torch.optim.Optimizer,
    batch: Episodes,
    loop: maml.InnerLoop,
    group_tasks: bool = True,
) -> StepResult:
    """One meta-step as core.train.Trainer.maml_step computes it: meta_loss, backward, Adam.

    Args:
        batch: T tasks, images (T, N*K, 1, H, W) and (T, N*Q, 1, H, W).
        group_tasks: False runs the inner steps one task at a time instead of grouped over
            tasks: the same arithmetic, for counting FLOPs (benchmarks.roofline), since torch's
            FlopCounterMode counts a grouped convolution's backward once per group too often.

    Returns:
        (meta loss, meta-gradients by parameter name, taken before the optimiser step).
    """
    net.eval()  # batch norm on stored statistics, as in meta-training
    params, buffers = dict(net.named_parameters()), dict(net.named_buffers())
    features = maml.make_features_fn(net)
    if not group_tasks:
        features = partial(features)  # the same function without its .over_tasks
    loss, _ = maml.meta_loss(
        features,
        params,
        buffers,
        batch.support,
        F.one_hot(batch.support_labels, batch.ways).to(batch.support.dtype),
        batch.query,
        F.one_hot(batch.query_labels, batch.ways).to(batch.query.dtype),
        loop,
    )
    return backward_and_step(loss, optimizer, params.items())


def peer_maml_learner(net: TextbookConv4, ways: int, loop: maml.InnerLoop) -> Any:
    """learn2learn's MAML over the Conv-4 and a zero linear head (our head_init="zero")."""
    import learn2learn as l2l

    dtype = next(net.parameters()).dtype
    head = nn.Linear(net.encoder[-1][0].out_channels, ways).to(dtype)
    nn.init.zeros_(head.weight)
    nn.init.zeros_(head.bias)
    model = nn.Sequential(net, head).eval()
    return l2l.algorithms.MAML(model, lr=float(loop.lr), first_order=loop.first_order)


def peer_maml_step(
    learner: Any, optimizer: torch.optim.Optimizer, batch: Episodes, steps: int
) -> StepResult:
    """learn2learn's canonical meta-step: per task clone(), adapt() `steps` times on the
    support loss, query loss / T backward (gradients accumulate on the original), Adam.

    The head starts at zero in every task and is not meta-learned (its gradient is dropped),
    as our zero head.
    """
    optimizer.zero_grad(set_to_none=True)
    tasks, total = batch.support.shape[0], 0.0
    for t in range(tasks):
        clone = learner.clone()
        for _ in range(steps):
            clone.adapt(F.cross_entropy(clone(batch.support[t]), batch.support_labels[t]))
        loss = F.cross_entropy(clone(batch.query[t]), batch.query_labels[t]) / tasks
        loss.backward()
        total += float(loss.detach())
    backbone = learner.module[0]
    grads = {k: v.grad.detach().clone() for k, v in backbone.named_parameters()}
    learner.module[1].weight.grad = learner.module[1].bias.grad = None
    optimizer.step()
    return total, grads


def learn2learn_step(ways: int, loop: maml.InnerLoop) -> PeerStep:
    return PeerStep(
        wrap=lambda net: peer_maml_learner(net, ways, loop),
        step=lambda learner, optimizer, batch: peer_maml_step(
            learner, optimizer, batch, loop.steps
        ),
    )


def shipped_inner_loop(name: str = SHIPPED_MODEL) -> maml.InnerLoop:
    """The inner loop the shipped model's card records for meta-training: its head start,
    steps, order and per-tensor rates (fixed numbers here; training also learns them)."""
    settings = read_card(models_dir() / f"{name}.json")["maml"]
    return maml.InnerLoop(
        int(settings["steps"]),
        {k: float(v) for k, v in settings["lr"].items()},
        bool(settings.get("first_order", False)),
        settings["head_init"],
    )


def maml_row(config: BenchConfig, loop: maml.InnerLoop, peers: bool) -> Row:
    """The zero head start with one inner rate is learn2learn's computation too, so it is
    checked against and timed with learn2learn's loop; learn2learn has no class-centre start
    (its MAML adapts a module's own parameters, and a head built from each task's support
    features would be our code on top of it) and one rate for all tensors, so a "proto" row
    or one with per-tensor rates (the shipped model's) is checked against the hand-written
    reference and timed alone."""
    ours = partial(ours_maml_step, loop=loop)
    shape = f"maml {config.maml_ways}w{config.maml_shots}s {config.maml_queries}q"
    steps = f"{loop.steps} inner step{'s' * (loop.steps > 1)}"
    order = "first" if loop.first_order else "second"
    if loop.head_init == "zero" and not isinstance(loop.lr, dict):
        return Row(
            f"{shape} x{config.meta_batch} tasks, {steps}, {order} order",
            ours,
            learn2learn_step(config.maml_ways, loop) if peers else None,
            "learn2learn",
            True,
            "zero head start, batch norm on stored statistics, one inner rate: as learn2learn",
        )
    rates = "per-tensor rates" if isinstance(loop.lr, dict) else f"inner rate {loop.lr}"
    return Row(
        f"{shape} x{config.meta_batch} tasks, {steps}, {order} order, shipped "
        f"{loop.head_init} head start",
        ours,
        reference.reference_step(partial(reference.maml_meta_step, loop=loop)),
        "hand-written reference",
        False,
        f"ours only, not compared: {SHIPPED_MODEL}'s inner loop ({loop.head_init} head start, "
        f"{rates}); learn2learn has "
        + ("no class-centre head start" if loop.head_init == "proto" else "one inner rate only"),
    )


def bench_maml(config: BenchConfig, peers: bool) -> list[dict[str, Any]]:
    """One entry per (inner steps, first order) of config.maml_settings with the zero head,
    ours timed against learn2learn's (when `peers`) after the float64 check; then the shipped
    model's inner loop, ours only, checked against the hand-written reference."""
    loops = [
        maml.InnerLoop(steps, config.inner_lr, first_order, head_init="zero")
        for steps, first_order in config.maml_settings
    ]
    results = []
    for loop in [*loops, shipped_inner_loop()]:
        net = seeded_conv4(config.hidden, config.seed)
        batch = maml_batch(config, torch.Generator().manual_seed(config.seed + 1))
        entry = measure(
            config, maml_row(config, loop, peers), net, batch, batch.float64(config.check_tasks)
        )
        entry.update(inner_steps=loop.steps, first_order=loop.first_order, head_init=loop.head_init)
        results.append(entry)
    return results
