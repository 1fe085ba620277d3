"""MAML on the toy MLP: one batched inner adaptation, one outer loop for every trainer.

MAML (Finn, Abbeel & Levine, ICML 2017) is implemented on parameter dicts, vectorised over the
tasks of a meta-batch: every parameter is expanded to a leading task axis ``(T, ...)``, so one
batched matmul runs all the inner loops together and ``torch.autograd.grad`` returns one
gradient per task. Second-order MAML keeps the inner gradients in the graph
(``create_graph=True``); first-order MAML (section 5.2 of the paper) drops them.

``outer_loop`` is the one Adam loop over sampled meta-batches; MAML (``meta_train``) and the
pretrained-on-all-tasks baseline (``pretrain``) differ only in the loss of a step, which they
pass in (``maml_step_loss``, ``pretrain_step_loss``).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import torch

from lab.toy.config import ToyConfig, check_counts, check_steps, make_generator
from lab.toy.mlp import (
    Params,
    detach_params,
    expand_params,
    init_mlp_params,
    mlp_forward,
    per_task_loss,
)
from lab.toy.tasks import TaskBatch, sample_tasks

StepCallback = Callable[[int, float], None]
StopCheck = Callable[[], bool]
# (config, parameters theta being trained, the step's meta-batch) -> scalar loss to minimise.
StepLoss = Callable[[ToyConfig, Params, TaskBatch], torch.Tensor]

_THREADS_LOCK = threading.Lock()
_THREADS_USERS = 0  # trainings inside ``one_torch_thread`` now
_THREADS_BEFORE = 0  # torch's thread count before the first of them


@contextmanager
def one_torch_thread() -> Iterator[None]:
    """Run torch's intra-op work on one thread while the block runs, then restore the count.

    The toy tensors are tiny (a 40-unit MLP, 25 tasks), so a second OpenMP thread only adds
    synchronisation: on two shared cores a step took 40-90 ms with two threads and 5-9 ms
    with one (``python -m scripts.playground_lesson``). The setting is process-wide for new
    threads, so nested or concurrent trainings count themselves in and the last one out
    restores the count the first one found.
    """
    global _THREADS_USERS, _THREADS_BEFORE
    with _THREADS_LOCK:
        if _THREADS_USERS == 0:
            _THREADS_BEFORE = torch.get_num_threads()
        _THREADS_USERS += 1
        torch.set_num_threads(1)
    try:
        yield
    finally:
        with _THREADS_LOCK:
            _THREADS_USERS -= 1
            if _THREADS_USERS == 0:
                torch.set_num_threads(_THREADS_BEFORE)


def adapt_tasks(
    config: ToyConfig,
    params: Params,
    support_inputs: torch.Tensor,
    support_targets: torch.Tensor,
    steps: int,
    create_graph: bool,
) -> tuple[Params, list[torch.Tensor]]:
    """Adapt one parameter copy per task by ``steps`` gradient steps on its support set.

    theta'_i = theta - alpha grad L_Ti(theta), eq. 1 of Finn et al. 2017, for all tasks at
    once: the loss is a sum over tasks, and each task's copy only touches its own loss, so
    the gradient with respect to the (T, ...) copies is the per-task gradient.

    Args:
        config: the lesson (``inner_lr`` is alpha; the family picks the loss).
        params: unbatched parameters theta (shapes as in ``init_mlp_params``), requiring grad.
        support_inputs: (T, S, D_in).
        support_targets: (T, S, 1).
        steps: number of inner steps, 0 or more.
        create_graph: keep the inner gradients differentiable (second-order MAML).

    Returns:
        (adapted parameters batched over tasks (T, ...), support losses (T,) before each step
        and after the last one: ``steps + 1`` entries).
    """
    check_steps(steps)
    num_tasks = support_inputs.shape[0]
    task_params = expand_params(params, num_tasks)
    losses = []
    for _ in range(steps):
        loss = per_task_loss(config, mlp_forward(task_params, support_inputs), support_targets)
        losses.append(loss)
        names = list(task_params)
        grads = torch.autograd.grad(
            loss.sum(), [task_params[n] for n in names], create_graph=create_graph
        )
        task_params = {n: task_params[n] - config.inner_lr * g for n, g in zip(names, grads)}
    losses.append(per_task_loss(config, mlp_forward(task_params, support_inputs), support_targets))
    return task_params, losses


@dataclass
class TrainResult:
    """What a training run leaves behind.

    Attributes:
        params: trained parameters, detached.
        losses: the training loss of every outer step (for MAML the meta-loss: mean query loss
            after adaptation, eq. 3 of Finn et al. 2017).
        stopped: True when ``should_stop`` ended the run early.
        seconds: wall-clock time of the run.
    """

    params: Params
    losses: list[float]
    stopped: bool = False
    seconds: float = 0.0


def maml_step_loss(config: ToyConfig, params: Params, tasks: TaskBatch) -> torch.Tensor:
    """The meta-loss: mean query loss of the copies adapted to each support set (eq. 3).

    With ``config.first_order`` the inner gradients are treated as constants.
    """
    adapted, _ = adapt_tasks(
        config,
        params,
        tasks.support_inputs,
        tasks.support_targets,
        config.inner_steps,
        create_graph=not config.first_order,
    )
    query_outputs = mlp_forward(adapted, tasks.query_inputs)  # (T, Q, 1)
    return per_task_loss(config, query_outputs, tasks.query_targets).mean()


def pretrain_step_loss(config: ToyConfig, params: Params, tasks: TaskBatch) -> torch.Tensor:
    """The baseline's loss: theta itself fitted to the support and query points of all tasks."""
    inputs = torch.cat([tasks.support_inputs, tasks.query_inputs], dim=1)  # (T, S+Q, D_in)
    targets = torch.cat([tasks.support_targets, tasks.query_targets], dim=1)  # (T, S+Q, 1)
    return per_task_loss(config, mlp_forward(params, inputs), targets).mean()


def outer_loop(
    config: ToyConfig,
    step_loss: StepLoss,
    steps: int,
    generator: torch.Generator,
    loss_name: str,
    callback: StepCallback | None = None,
    should_stop: StopCheck | None = None,
) -> TrainResult:
    """Adam (``outer_lr``) on a fresh MLP, one sampled meta-batch per step.

    Args:
        config: the lesson (``meta_batch_size`` tasks per step, ``outer_lr``, network width).
        step_loss: the loss of one step, differentiable with respect to the parameters.
        steps: outer steps to run.
        generator: draws the initialisation, then every meta-batch, in that order.
        loss_name: what the loss is called in the divergence error.
        callback: called as ``callback(step, loss)`` after every step (step from 1).
        should_stop: polled before every step; returning True ends training early.

    Returns:
        TrainResult with the trained parameters and the loss curve.

    Raises:
        ValueError: when the loss stops being finite (learning rates too large).
    """
    params = init_mlp_params(config.input_dim, config.hidden_units, generator)
    optimiser = torch.optim.Adam(list(params.values()), lr=config.outer_lr)
    losses: list[float] = []
    start, stopped = time.perf_counter(), False
    with one_torch_thread():
        for step in range(1, steps + 1):
            if should_stop is not None and should_stop():
                stopped = True
                break
            tasks = sample_tasks(config, config.meta_batch_size, generator)
            loss = step_loss(config, params, tasks)
            if not torch.isfinite(loss):
                raise ValueError(
                    f"the {loss_name} became {loss.item()} at step {step}; lower the learning rates"
                )
            optimiser.zero_grad(set_to_none=True)
            loss.backward()
            optimiser.step()
            losses.append(loss.item())
            if callback is not None:
                callback(step, losses[-1])
    return TrainResult(
        params=detach_params(params),
        losses=losses,
        stopped=stopped,
        seconds=time.perf_counter() - start,
    )


def meta_train(
    config: ToyConfig,
    callback: StepCallback | None = None,
    should_stop: StopCheck | None = None,
) -> TrainResult:
    """MAML, algorithm 2 (regression) / eq. 3 (classification) of Finn et al. 2017.

    Each outer step samples ``meta_batch_size`` tasks, adapts a copy of theta to every support
    set with ``inner_steps`` steps of size ``inner_lr``, and moves theta with Adam
    (``outer_lr``) down the mean query loss of the adapted copies, ``meta_steps`` times.

    Args:
        config: the lesson; ``seed`` fixes the initialisation and every task.
        callback: called as ``callback(step, meta_loss)`` after every outer step (step from 1).
        should_stop: polled before every outer step; returning True ends training early.

    Returns:
        TrainResult with the meta-learned initialisation and the meta-loss curve.

    Raises:
        ValueError: when the meta-loss stops being finite (learning rates too large).
    """
    generator = make_generator(config.seed)
    return outer_loop(
        config, maml_step_loss, config.meta_steps, generator, "meta-loss", callback, should_stop
    )


def pretrain(
    config: ToyConfig,
    callback: StepCallback | None = None,
    should_stop: StopCheck | None = None,
) -> TrainResult:
    """The baseline of Finn et al. 2017 (section 5.1): one network trained by Adam to fit
    all tasks at once, with no inner loop. On sines it learns roughly the mean function, so
    a few fine-tuning steps from it barely help on a new task.

    Args and returns as ``meta_train``; uses ``pretrain_steps``, ``outer_lr``,
    ``meta_batch_size`` tasks per step and their support and query points together.
    """
    generator = make_generator(config.seed + 1)  # not the tasks MAML saw, not its init
    return outer_loop(
        config,
        pretrain_step_loss,
        config.pretrain_steps,
        generator,
        "pretraining loss",
        callback,
        should_stop,
    )


def estimate_seconds(config: ToyConfig, probe_steps: int = 8) -> float | None:
    """The lesson's training time (MAML then the baseline), from a few timed steps of each.

    Each trainer runs ``probe_steps + 1`` outer steps; the first one (warm-up) is not timed,
    and the median time of the others is scaled to ``meta_steps`` and ``pretrain_steps``
    (the median, since on a shared machine one step in a few waits for a time slice). It
    measures this machine now, so a busy machine gets a longer estimate.

    Args:
        config: the lesson to estimate.
        probe_steps: timed steps per trainer, at least 1.

    Returns:
        Estimated seconds, or None when a probe diverged (training would fail quickly).
    """
    check_counts(probe_steps=probe_steps)
    total = 0.0
    for step_loss, steps in (
        (maml_step_loss, config.meta_steps),
        (pretrain_step_loss, config.pretrain_steps),
    ):
        stamps: list[float] = []
        try:
            outer_loop(
                config,
                step_loss,
                probe_steps + 1,
                make_generator(config.seed),
                "probe loss",
                lambda step, loss, stamps=stamps: stamps.append(time.perf_counter()),
            )
        except ValueError:
            return None
        step_seconds = sorted(later - earlier for earlier, later in zip(stamps, stamps[1:]))
        total += steps * step_seconds[len(step_seconds) // 2]
    return total
