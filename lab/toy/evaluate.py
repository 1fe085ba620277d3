"""Adaptation to new tasks after training: traced for the step player, averaged for tests."""

from __future__ import annotations

from dataclasses import dataclass

import torch

from lab.toy.config import ToyConfig, check_counts, check_steps, make_generator
from lab.toy.learn import adapt_tasks
from lab.toy.mlp import Params, detach_params, mlp_forward, per_task_loss
from lab.toy.tasks import sample_tasks


@dataclass
class AdaptTrace:
    """The inner loop on one task, recorded step by step.

    Attributes:
        params: ``steps + 1`` parameter dicts (unbatched, detached); entry 0 is the start.
        support_losses: ``steps + 1`` support losses, entry s measured with params[s].
        query_losses: ``steps + 1`` query losses, or empty when no query set was given.
        query_accuracies: ``steps + 1`` query accuracies (2-D families only), else empty.
    """

    params: list[Params]
    support_losses: list[float]
    query_losses: list[float]
    query_accuracies: list[float]

    @property
    def steps(self) -> int:
        """Inner steps recorded (entries minus the start)."""
        return len(self.params) - 1


def adapt(
    config: ToyConfig,
    params: Params,
    support_inputs: torch.Tensor,
    support_targets: torch.Tensor,
    steps: int,
    query_inputs: torch.Tensor | None = None,
    query_targets: torch.Tensor | None = None,
) -> AdaptTrace:
    """Run the inner loop on one task from ``params`` and keep every step for plotting.

    ``params`` is not modified: each step returns new tensors (theta_{s+1} = theta_s - alpha
    grad L_support(theta_s), eq. 1 of Finn et al. 2017, with alpha = ``config.inner_lr``).

    Args:
        config: the lesson (``inner_lr``, and the family that picks the loss).
        params: unbatched parameters (shapes as in ``init_mlp_params``).
        support_inputs: (S, D_in).
        support_targets: (S, 1).
        steps: inner steps, 0 or more.
        query_inputs: optional (Q, D_in) held-out points of the same task.
        query_targets: optional (Q, 1).

    Returns:
        AdaptTrace with ``steps + 1`` entries per list.
    """
    check_steps(steps)
    if support_inputs.dim() != 2 or support_targets.shape != (support_inputs.shape[0], 1):
        raise ValueError(
            f"expected support inputs (S, D_in) and targets (S, 1), got "
            f"{tuple(support_inputs.shape)} and {tuple(support_targets.shape)}"
        )
    has_query = query_inputs is not None and query_targets is not None
    current = detach_params(params)
    trace = AdaptTrace(params=[], support_losses=[], query_losses=[], query_accuracies=[])
    for step in range(steps + 1):
        trace.params.append(current)
        with torch.enable_grad():
            leaves = {name: value.detach().requires_grad_() for name, value in current.items()}
            outputs = mlp_forward(leaves, support_inputs).unsqueeze(0)
            loss = per_task_loss(config, outputs, support_targets.unsqueeze(0))[0]
            trace.support_losses.append(loss.item())
            if step < steps:
                names = list(leaves)
                grads = torch.autograd.grad(loss, [leaves[n] for n in names])
                current = {
                    n: (leaves[n] - config.inner_lr * g).detach() for n, g in zip(names, grads)
                }
        if has_query:
            with torch.no_grad():
                query_outputs = mlp_forward(trace.params[-1], query_inputs)
                query_loss = per_task_loss(
                    config, query_outputs.unsqueeze(0), query_targets.unsqueeze(0)
                )
            trace.query_losses.append(query_loss.item())
            if config.is_classification:
                accuracy = ((query_outputs > 0).float() == query_targets).float().mean()
                trace.query_accuracies.append(accuracy.item())
    return trace


@dataclass
class Evaluation:
    """Mean query loss (and accuracy, 2-D only) over new tasks after each inner step.

    Attributes:
        losses: ``steps + 1`` mean query losses; ``losses[-1]`` is post-adaptation.
        accuracies: ``steps + 1`` mean query accuracies, empty for the sine family.
    """

    losses: list[float]
    accuracies: list[float]


def evaluate(
    config: ToyConfig, params: Params, num_tasks: int, steps: int, seed: int
) -> Evaluation:
    """Adapt ``params`` to ``num_tasks`` new tasks (all at once) and measure the query loss.

    Args:
        config: the lesson (family, shots, inner_lr).
        params: unbatched starting parameters; not modified.
        num_tasks: new tasks to average over.
        steps: inner steps on each task's support set.
        seed: seed of the new tasks; use one that training did not use.

    Returns:
        Evaluation with the query loss after 0, 1, ..., ``steps`` inner steps.
    """
    check_counts(num_tasks=num_tasks)
    check_steps(steps)
    tasks = sample_tasks(config, num_tasks, make_generator(seed))
    leaves = {name: value.detach().requires_grad_() for name, value in params.items()}
    losses, accuracies = [], []
    for step in range(steps + 1):
        # Re-running the loop for each length keeps the code simple; it is tiny.
        with torch.enable_grad():
            adapted, _ = adapt_tasks(
                config, leaves, tasks.support_inputs, tasks.support_targets, step, False
            )
        with torch.no_grad():
            outputs = mlp_forward({n: v.detach() for n, v in adapted.items()}, tasks.query_inputs)
            losses.append(per_task_loss(config, outputs, tasks.query_targets).mean().item())
            if config.is_classification:
                correct = (outputs > 0).float() == tasks.query_targets
                accuracies.append(correct.float().mean().item())
    return Evaluation(losses=losses, accuracies=accuracies)
