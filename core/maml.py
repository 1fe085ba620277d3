"""Model-Agnostic Meta-Learning (Finn, Abbeel & Levine, ICML 2017) with torch.func.

Parameters are dicts passed to torch.func.functional_call, so adaptation is a pure function:
it returns new parameters and never touches the module it was given.

The classifier head is not a meta-parameter: it is built per task from the support set
("proto" or "zero", core.maml_head). The inner loop then updates every parameter (backbone
and head) with plain gradient steps; where the backbone's step sizes are all 0 it computes
the features once (core.maml_head.head_steps). Batch norm runs in eval mode on stored
statistics. Records of a loop and their reports are in core.inner_trace, the network as a
function of its tensors in core.functional; their names are imported here too.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch.func import grad, vmap

from core.functional import (  # noqa: F401 - also maml's names
    Params,
    frozen_features,
    make_features_fn,
    module_lock,
    split_state,
    swaps_tensors,
)
from core.inner_trace import (  # noqa: F401 - also maml's names
    Adapted,
    Divergence,
    FirstStep,
    StepRecord,
    class_mean_verdicts,
    divergence,
    first_step_report,
)
from core.maml_head import (  # noqa: F401 - also maml's names
    HEAD_BIAS,
    HEAD_WEIGHT,
    HeadInit,
    adapts_head_only,
    balanced_cross_entropy,
    cross_entropies,
    head_logits,
    head_loss,
    head_steps,
    init_head,
    step_sizes,
    task_step_sizes,
    zero_head_step,
)


@dataclass(frozen=True)
class InnerLoop:
    """How a task is adapted: the one definition shared by training, evaluation and the app."""

    steps: int = 1  # gradient steps on the support set
    # inner learning rate alpha: one number, or one per parameter tensor (learned in
    # meta-training, as in Meta-SGD, Li et al. 2017, per tensor like MAML++'s LSLR)
    lr: float | dict[str, float] = 0.1
    first_order: bool = False  # drop the second-order terms of the meta-gradient (FOMAML)
    head_init: HeadInit = "proto"
    # The classifier's step sizes are per class: multiplied by N, the task's number of
    # classes. From a zero head the mean loss's gradient for a class row is (mean support
    # feature - class mean) / N, so plain steps move the head 4x less in a 20-way task than
    # in a 5-way one, and 2.5x more in a 2-way one; scaled, every N gets the same step.
    head_lr_per_class: bool = False

    def __post_init__(self) -> None:
        if not 0 <= self.steps <= 100:
            raise ValueError(f"inner steps must be between 0 and 100, got {self.steps}")
        rates = self.lr.values() if isinstance(self.lr, dict) else [self.lr]
        rates = [float(r.detach()) if isinstance(r, torch.Tensor) else float(r) for r in rates]
        if not all(float(r) >= 0 for r in rates):
            raise ValueError(f"inner learning rates must be >= 0, got {self.lr}")
        if self.head_init not in ("proto", "zero"):
            raise ValueError(f"head_init must be 'proto' or 'zero', got {self.head_init!r}")


def soft_cross_entropy(logits: torch.Tensor, one_hot: torch.Tensor) -> torch.Tensor:
    """The query loss: mean cross-entropy with one-hot float targets (runs under vmap)."""
    return cross_entropies(logits, one_hot).mean()


def support_loss(logits: torch.Tensor, one_hot: torch.Tensor) -> torch.Tensor:
    """The inner loop's loss: every class weighs the same (with even shots, the mean)."""
    return balanced_cross_entropy(logits, one_hot).mean()


def _summed_support_loss(features_fn, params, buffers, x, one_hot):
    """The support loss, summed over any leading task dimension: x (T, S, ...) or (S, ...)."""
    return head_loss(features_fn(params, buffers, x), one_hot, params)[0].sum()


def _unbind_tasks(params: Params) -> list[Params]:
    """{name: (T, ...)} -> T dicts {name: (...)}."""
    names = list(params)
    return [dict(zip(names, task)) for task in zip(*(params[n].unbind(0) for n in names))]


def _support_loss_and_outputs(features_fn, params, buffers, x, one_hot):
    """The support loss, with (logits, features) as auxiliary outputs for the trace."""
    features = features_fn(params, buffers, x)
    logits = head_logits(features, params)
    return support_loss(logits, one_hot), (logits.detach(), features.detach())


def _starting_head(features_fn, params, buffers, support_x, support_one_hot, config):
    """The head before the first inner step. The zero head needs only the feature size,
    read from one image without a graph: a full support forward here would be wasted."""
    if config.head_init == "zero":
        with torch.no_grad():
            probe = features_fn(params, buffers, support_x[:1])  # (1, D)
        return init_head(probe, support_one_hot, "zero")
    return init_head(features_fn(params, buffers, support_x), support_one_hot, config.head_init)


def _step_zero_features(features_fn, params, buffers, support_x, config):
    """The support features at θ for zero_head_step (no graph for first order)."""
    with torch.set_grad_enabled(torch.is_grad_enabled() and not config.first_order):
        return features_fn(params, buffers, support_x)


def _gradient_steps(features_fn, fast, buffers, x, support_one_hot, config, steps, at=None):
    """`steps` plain gradient steps on the support loss from `fast` (backbone and head), the
    support inputs x. A leading task dimension sums the tasks' losses (each gets its own
    gradient). at: x's features at fast's backbone if already computed."""
    rates = task_step_sizes(config, fast, support_one_hot.shape[-1])
    if steps and adapts_head_only(rates):  # the backbone stays: its features once
        head = {k: fast[k] for k in (HEAD_WEIGHT, HEAD_BIAS)}
        features = features_fn(fast, buffers, x) if at is None else at
        head = head_steps(features, support_one_hot, head, rates, steps, config.first_order)
        return {**fast, **head}
    step_grad = grad(lambda p: _summed_support_loss(features_fn, p, buffers, x, support_one_hot))
    for _ in range(steps):
        grads = step_grad(fast)
        if config.first_order:
            grads = {k: g.detach() for k, g in grads.items()}
        fast = {k: fast[k] - rates[k] * grads[k] for k in fast}
    return fast


def inner_loop(
    features_fn: Callable[[Params, Params, torch.Tensor], torch.Tensor],
    params: Params,
    buffers: Params,
    support_x: torch.Tensor,
    support_one_hot: torch.Tensor,
    config: InnerLoop,
) -> Params:
    """θ -> θ' after config.steps gradient steps on the support loss (eq. 1 of the paper).

    Differentiable with respect to `params` (second order unless config.first_order).
    Pure and integer-free, so torch.func.vmap can batch it over tasks. From the zero head the
    first step is taken in closed form (zero_head_step): the same θ', without a backward.

    Args:
        support_x: (S, ...) support inputs; support_one_hot: (S, N) float one-hot labels.
    """
    features = None
    if config.head_init == "zero" and config.steps > 0:
        features = _step_zero_features(features_fn, params, buffers, support_x, config)
        head = zero_head_step(features, support_one_hot, config)
        steps = config.steps - 1
    else:
        head = _starting_head(features_fn, params, buffers, support_x, support_one_hot, config)
        steps = config.steps
    fast = {**params, **head}
    return _gradient_steps(
        features_fn, fast, buffers, support_x, support_one_hot, config, steps, at=features
    )


def task_loss(
    features_fn: Callable[[Params, Params, torch.Tensor], torch.Tensor],
    params: Params,
    buffers: Params,
    support_x: torch.Tensor,
    support_one_hot: torch.Tensor,
    query_x: torch.Tensor,
    query_one_hot: torch.Tensor,
    config: InnerLoop,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Query loss and accuracy after adaptation: the MAML meta-objective for one task."""
    fast = inner_loop(features_fn, params, buffers, support_x, support_one_hot, config)
    logits = head_logits(features_fn(fast, buffers, query_x), fast)
    accuracy = (logits.argmax(-1) == query_one_hot.argmax(-1)).float().mean()
    return soft_cross_entropy(logits, query_one_hot), accuracy.detach()


def meta_loss(
    features_fn: Callable[[Params, Params, torch.Tensor], torch.Tensor],
    params: Params,
    buffers: Params,
    support_x: torch.Tensor,
    support_one_hot: torch.Tensor,
    query_x: torch.Tensor,
    query_one_hot: torch.Tensor,
    config: InnerLoop,
    vectorize: bool | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Mean query loss over a meta-batch of T tasks (eq. 3 of the paper) and mean accuracy.

    Args:
        support_x: (T, S, ...), support_one_hot: (T, S, N), query_x: (T, Q, ...),
            query_one_hot: (T, Q, N).
        vectorize: vmap over tasks (fast on a GPU: 18x over a loop on an H100) or loop over
            them (faster on a CPU, where vmap's batched convolutions were 2x slower).
            None picks by the device of the inputs.
    Returns:
        (loss, accuracy): loss is differentiable w.r.t. `params`; call .backward() on it.
    """
    if vectorize is None:
        vectorize = support_x.device.type == "cuda"
    if config.head_init == "zero" and config.steps > 0:
        return _zero_head_meta_loss(
            features_fn, params, buffers, support_x, support_one_hot, query_x, query_one_hot,
            config, vectorize,
        )  # fmt: skip

    def one(sx, sy, qx, qy):
        return task_loss(features_fn, params, buffers, sx, sy, qx, qy, config)

    if vectorize:
        losses, accuracies = vmap(one, randomness="error")(
            support_x, support_one_hot, query_x, query_one_hot
        )
        return losses.mean(), accuracies.mean()
    results = [one(*task) for task in zip(support_x, support_one_hot, query_x, query_one_hot)]
    losses = torch.stack([r[0] for r in results])
    accuracies = torch.stack([r[1] for r in results])
    return losses.mean(), accuracies.mean()


# Tasks whose inner steps run as one grouped convolution (meta_loss on a CPU). 32 at once
# made 32 MB activations, above glibc's mmap threshold (mapped and page-faulted afresh);
# 8 keep them at 8 MB: 1.21 s a 5-step meta-step instead of 1.44 s (16: 1.38 s; 4: 1.23 s;
# docs/results/maml-task-groups-2026-12-01.txt, python -m scripts.time_task_groups).
TASKS_PER_GROUP = 8


def _zero_head_meta_loss(
    features_fn, params, buffers, support_x, support_one_hot, query_x, query_one_hot, config,
    vectorize,
):  # fmt: skip
    """meta_loss from the zero head, the same loss and gradients as task_loss per task.

    Every task's first step starts from the same θ, so one forward of all tasks' support
    images gives every task's closed-form first step (zero_head_step). On a CPU the remaining
    steps then run for TASKS_PER_GROUP tasks at once when the network can (over_tasks: one
    grouped convolution per layer instead of one per task), then each task's query pass.
    """
    tasks, shots = support_x.shape[:2]
    all_support = support_x.flatten(0, 1)
    support_features = _step_zero_features(features_fn, params, buffers, all_support, config)
    support_features = support_features.unflatten(0, (tasks, shots))
    heads = zero_head_step(support_features, support_one_hot, config)
    remaining = config.steps - 1
    rates = task_step_sizes(config, {**params, **heads}, support_one_hot.shape[-1])
    if adapts_head_only(rates):  # one backbone pass for every task's support and queries
        queries = features_fn(params, buffers, query_x.flatten(0, 1)).unflatten(0, (tasks, -1))
        heads = head_steps(
            support_features, support_one_hot, heads, rates, remaining, config.first_order
        )
        losses, accuracies = head_loss(queries, query_one_hot, heads, balanced=False)
        return losses.mean(), accuracies.mean()
    over_tasks = getattr(features_fn, "over_tasks", None)

    def query_loss(fast, qx, qy):
        return head_loss(features_fn(fast, buffers, qx), qy, fast, balanced=False)

    if remaining and over_tasks is not None and not vectorize:
        results = []
        for start in range(0, tasks, TASKS_PER_GROUP):
            group = slice(start, start + TASKS_PER_GROUP)
            size = support_x[group].shape[0]
            fast = {
                **{k: v.expand(size, *v.shape) for k, v in params.items()},
                **{k: v[group] for k, v in heads.items()},
            }
            fast = _gradient_steps(
                over_tasks, fast, buffers, support_x[group], support_one_hot[group], config,
                remaining,
            )  # fmt: skip
            tasks_of_group = zip(_unbind_tasks(fast), query_x[group], query_one_hot[group])
            results += [query_loss(*task) for task in tasks_of_group]
    else:

        def one(sx, sy, qx, qy, weight, bias):
            fast = {**params, HEAD_WEIGHT: weight, HEAD_BIAS: bias}
            fast = _gradient_steps(features_fn, fast, buffers, sx, sy, config, remaining)
            return query_loss(fast, qx, qy)

        head = (heads[HEAD_WEIGHT], heads[HEAD_BIAS])
        inputs = (support_x, support_one_hot, query_x, query_one_hot, *head)
        if vectorize:
            losses, accuracies = vmap(one, randomness="error")(*inputs)
            return losses.mean(), accuracies.mean()
        results = [one(*task) for task in zip(*inputs)]
    losses = torch.stack([r[0] for r in results])
    accuracies = torch.stack([r[1] for r in results])
    return losses.mean(), accuracies.mean()


@torch.no_grad()
def _record(
    features_fn,
    fast,
    buffers,
    step,
    logits,
    support_features,
    support_one_hot,
    query_x,
    keep_features,
):
    """The StepRecord of `fast`, from its support logits and features (S, N), (S, D)."""
    record = StepRecord(
        step=step,
        # + 0.0: a loss that rounds to zero is 0, not -0 (a cross-entropy is never negative)
        support_loss=float(support_loss(logits, support_one_hot)) + 0.0,
        support_accuracy=float((logits.argmax(-1) == support_one_hot.argmax(-1)).float().mean()),
    )
    if query_x is not None and query_x.shape[0] > 0:
        query_features = features_fn(fast, buffers, query_x)
        record.query_probabilities = head_logits(query_features, fast).softmax(-1)
        if keep_features:
            record.query_features = query_features
    if keep_features:
        record.support_features = support_features
    return record


def adapt_with_trace(
    features_fn: Callable[[Params, Params, torch.Tensor], torch.Tensor],
    params: Params,
    buffers: Params,
    support_x: torch.Tensor,
    support_one_hot: torch.Tensor,
    config: InnerLoop,
    query_x: torch.Tensor | None = None,
    keep_features: bool = False,
    on_step: Callable[[StepRecord], None] | None = None,
) -> Adapted:
    """Adapt for prediction (no meta-gradient), recording every step from 0 to K; on_step,
    if given, is called with each record as soon as it exists (live plots)."""
    params = {k: v.detach() for k, v in params.items()}
    with torch.no_grad():
        head = _starting_head(features_fn, params, buffers, support_x, support_one_hot, config)
    fast = {**params, **head}
    rates = {
        k: float(v) for k, v in task_step_sizes(config, fast, support_one_hot.shape[-1]).items()
    }
    if adapts_head_only(rates):  # the backbone stays: each image's features once
        features_fn = frozen_features(features_fn, params, buffers)
    # The forward that gives a step's gradient also gives its record: one support pass a step.
    step_grad = grad(
        lambda p: _support_loss_and_outputs(features_fn, p, buffers, support_x, support_one_hot),
        has_aux=True,
    )
    trace = []
    for step in range(config.steps + 1):
        if step < config.steps:
            grads, (logits, support_features) = step_grad(fast)
        else:
            grads = None
            with torch.no_grad():
                support_features = features_fn(fast, buffers, support_x)
                logits = head_logits(support_features, fast)
        record = _record(
            features_fn,
            fast,
            buffers,
            step,
            logits,
            support_features,
            support_one_hot,
            query_x,
            keep_features,
        )
        trace.append(record)
        if on_step is not None:
            on_step(record)
        if grads is not None:
            fast = {k: (fast[k] - rates[k] * grads[k]).detach() for k in fast}
    return Adapted(fast, trace)


def predict_logits(
    features_fn: Callable[[Params, Params, torch.Tensor], torch.Tensor],
    adapted: Params,
    buffers: Params,
    x: torch.Tensor,
) -> torch.Tensor:
    """(B, ...) -> (B, N) logits of the adapted network; each row depends on its image only."""
    with torch.no_grad():
        return head_logits(features_fn(adapted, buffers, x), adapted)
