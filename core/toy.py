"""Toy meta-learning problems for the teaching playground: both loops of MAML, live.

Two task families, small enough to meta-train on a laptop CPU in seconds:

* Sine-wave regression (Finn, Abbeel & Levine, "Model-Agnostic Meta-Learning for Fast
  Adaptation of Deep Networks", ICML 2017, section 5.1): amplitude in [0.1, 5.0], phase in
  [0, pi], inputs in [-5, 5], an MLP 1-40-40-1 with ReLU, mean squared error.
* 2-D binary classification, the binary cross-entropy form of the MAML objective (eq. 3 of
  the paper): two Gaussian blobs (``"blobs"``) or a randomly rotated straight boundary
  (``"linear"``), each task at a random position and angle; an MLP 2-40-40-1 gives the logit.

MAML is implemented here on parameter dicts, vectorised over the tasks of a meta-batch: every
parameter is expanded to a leading task axis ``(T, ...)``, so one batched matmul runs all the
inner loops together and ``torch.autograd.grad`` returns one gradient per task. Second-order
MAML keeps the inner gradients in the graph (``create_graph=True``); first-order MAML
(section 5.2 of the paper) drops them. Prototypical Networks (Snell et al., NeurIPS 2017) on
the raw 2-D points give the comparison on the same tasks.

Everything is a pure function of its inputs and an explicit ``torch.Generator``; nothing here
imports streamlit.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Literal

import torch
import torch.nn.functional as F

from core.protonet import logits as protonet_logits
from core.protonet import prototypes as protonet_prototypes

Family = Literal["sine", "blobs", "linear"]
FAMILIES: tuple[str, ...] = ("sine", "blobs", "linear")
Params = dict[str, torch.Tensor]

# Sine family of Finn et al. 2017, section 5.1.
SINE_AMPLITUDE_RANGE = (0.1, 5.0)
SINE_PHASE_RANGE = (0.0, math.pi)
SINE_INPUT_RANGE = (-5.0, 5.0)
# 2-D family: task centres in [-2, 2]^2, points spread over roughly [-5, 5]^2.
PLANE_CENTRE_RANGE = (-2.0, 2.0)
PLANE_EXTENT = (-5.0, 5.0)
BLOB_SEPARATION_RANGE = (2.5, 4.5)  # distance between the two blob centres
BLOB_STD = 0.6
LINEAR_MARGIN_RANGE = (0.2, 3.0)  # distance of a point from the boundary
LINEAR_ALONG_RANGE = (-4.0, 4.0)  # position of a point along the boundary


@dataclass(frozen=True)
class ToyConfig:
    """Everything that defines one lesson; the same values drive training and evaluation.

    Defaults are those of Finn et al. 2017 for the sine family, except far fewer outer steps
    (the paper uses 70,000) so that meta-training finishes in seconds on two CPU cores.
    """

    family: Family = "sine"  # "sine" (regression), "blobs" or "linear" (2-D classification)
    shots: int = 10  # K: support points per task (per class for the 2-D families)
    query_points: int = 10  # points per task (per class in 2-D) for the outer, query loss
    inner_steps: int = 1  # gradient steps of the inner loop during meta-training
    inner_lr: float = 0.01  # alpha, the inner-loop (adaptation) learning rate
    outer_lr: float = 0.001  # beta, the outer-loop (meta) learning rate, used by Adam
    meta_batch_size: int = 25  # tasks per outer step
    meta_steps: int = 2000  # outer steps; the paper runs 70,000
    first_order: bool = False  # True drops second derivatives (first-order MAML)
    hidden_units: int = 40  # width of both hidden layers of the MLP
    pretrain_steps: int = 2000  # Adam steps of the pretrained-on-all-tasks baseline
    eval_inner_steps: int = 10  # inner steps played on a new task after meta-training
    seed: int = 0  # one seed makes a lesson repeatable

    def __post_init__(self) -> None:
        if self.family not in FAMILIES:
            raise ValueError(f"unknown task family {self.family!r}; expected one of {FAMILIES}")
        for name in ("shots", "query_points", "meta_batch_size", "hidden_units"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1, got {getattr(self, name)}")
        for name in ("inner_steps", "meta_steps", "pretrain_steps", "eval_inner_steps"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must be at least 0, got {getattr(self, name)}")
        for name in ("inner_lr", "outer_lr"):
            if not getattr(self, name) > 0:
                raise ValueError(f"{name} must be positive, got {getattr(self, name)}")

    @property
    def is_classification(self) -> bool:
        return self.family != "sine"

    @property
    def input_dim(self) -> int:
        return 1 if self.family == "sine" else 2


def default_config(family: Family = "sine", **overrides: object) -> ToyConfig:
    """Defaults tuned per family: the 2-D tasks want a larger inner step than the sine.

    Args:
        family: one of FAMILIES.
        **overrides: any ToyConfig field.
    """
    if family not in FAMILIES:
        raise ValueError(f"unknown task family {family!r}; expected one of {FAMILIES}")
    if family == "sine":
        base = ToyConfig(family="sine")
    else:
        # BCE gradients are small (|dL/dlogit| <= 1), so a larger alpha moves the boundary
        # visibly in a few steps; 5 points per class is the classic 5-shot setting.
        base = ToyConfig(
            family=family, shots=5, query_points=10, inner_lr=0.1, meta_steps=1000,
            pretrain_steps=1000, eval_inner_steps=5,
        )  # fmt: skip
    return replace(base, **overrides)  # type: ignore[arg-type]


def make_generator(seed: int) -> torch.Generator:
    """A CPU generator seeded with ``seed``; all randomness in this module goes through one."""
    generator = torch.Generator()
    generator.manual_seed(int(seed))
    return generator


# ----------------------------------------------------------------------------------------------
# Tasks


@dataclass(frozen=True)
class TaskBatch:
    """T tasks, each with a support set (for the inner loop) and a query set (for the outer).

    Attributes:
        family: the task family.
        support_inputs: (T, S, D_in) with D_in = 1 (sine) or 2 (plane).
        support_targets: (T, S, 1) sine values, or class labels 0./1. for the 2-D families.
        query_inputs: (T, Q, D_in).
        query_targets: (T, Q, 1).
        task_params: what defines each task, for drawing the truth. Sine: ``amplitude`` (T,)
            and ``phase`` (T,). Plane: ``centre`` (T, 2), ``normal`` (T, 2) unit vectors
            pointing towards class 1, and for blobs ``separation`` (T,).
    """

    family: Family
    support_inputs: torch.Tensor
    support_targets: torch.Tensor
    query_inputs: torch.Tensor
    query_targets: torch.Tensor
    task_params: dict[str, torch.Tensor] = field(default_factory=dict)

    @property
    def num_tasks(self) -> int:
        return self.support_inputs.shape[0]

    def task(self, index: int) -> TaskBatch:
        """The single task ``index`` as a batch of one (all tensors keep the task axis)."""
        if not 0 <= index < self.num_tasks:
            raise ValueError(f"task index {index} out of range [0, {self.num_tasks})")
        pick = slice(index, index + 1)
        return TaskBatch(
            family=self.family,
            support_inputs=self.support_inputs[pick],
            support_targets=self.support_targets[pick],
            query_inputs=self.query_inputs[pick],
            query_targets=self.query_targets[pick],
            task_params={name: value[pick] for name, value in self.task_params.items()},
        )


def _uniform(
    shape: tuple[int, ...], low: float, high: float, generator: torch.Generator
) -> torch.Tensor:
    return low + (high - low) * torch.rand(shape, generator=generator)


def sine_values(inputs: torch.Tensor, amplitude: torch.Tensor, phase: torch.Tensor) -> torch.Tensor:
    """y = A sin(x - phase), the ground truth of a sine task.

    Args:
        inputs: (T, N, 1) or (T, N).
        amplitude: (T,).
        phase: (T,).

    Returns:
        Tensor with the shape of ``inputs``.
    """
    extra = (1,) * (inputs.dim() - 1)
    return amplitude.view(-1, *extra) * torch.sin(inputs - phase.view(-1, *extra))


def sample_sine_tasks(
    num_tasks: int, support_points: int, query_points: int, generator: torch.Generator
) -> TaskBatch:
    """Sine regression tasks of Finn et al. 2017, section 5.1.

    Returns:
        TaskBatch with support (T, K, 1) and query (T, Q, 1) inputs uniform in [-5, 5].
    """
    _check_counts(num_tasks=num_tasks, support_points=support_points, query_points=query_points)
    amplitude = _uniform((num_tasks,), *SINE_AMPLITUDE_RANGE, generator)  # (T,)
    phase = _uniform((num_tasks,), *SINE_PHASE_RANGE, generator)  # (T,)
    points = support_points + query_points
    inputs = _uniform((num_tasks, points, 1), *SINE_INPUT_RANGE, generator)  # (T, K+Q, 1)
    targets = sine_values(inputs, amplitude, phase)
    return TaskBatch(
        family="sine",
        support_inputs=inputs[:, :support_points],
        support_targets=targets[:, :support_points],
        query_inputs=inputs[:, support_points:],
        query_targets=targets[:, support_points:],
        task_params={"amplitude": amplitude, "phase": phase},
    )


def sample_plane_tasks(
    family: Family,
    num_tasks: int,
    shots_per_class: int,
    queries_per_class: int,
    generator: torch.Generator,
) -> TaskBatch:
    """Binary classification tasks in the plane, balanced between the two classes.

    Each task has a centre c (uniform in [-2, 2]^2) and a unit normal n at a uniform angle.
    ``"blobs"``: class k is a Gaussian (std 0.6) around c + (k - 1/2) s n, with the
    separation s uniform in [2.5, 4.5]. ``"linear"``: the boundary is the line through c
    orthogonal to n; a point of class k lies at signed distance (2k - 1) m from it, m uniform
    in [0.2, 3], and anywhere in [-4, 4] along it.

    Returns:
        TaskBatch with support (T, 2 K, 2) and query (T, 2 Q, 2) inputs, targets 0./1. in
        (T, ., 1); within a task the classes alternate 0, 1, 0, 1, ...
    """
    if family not in ("blobs", "linear"):
        raise ValueError(f"unknown 2-D task family {family!r}; expected 'blobs' or 'linear'")
    _check_counts(
        num_tasks=num_tasks, shots_per_class=shots_per_class, queries_per_class=queries_per_class
    )
    centre = _uniform((num_tasks, 2), *PLANE_CENTRE_RANGE, generator)  # (T, 2)
    angle = _uniform((num_tasks,), 0.0, 2 * math.pi, generator)  # (T,)
    normal = torch.stack([torch.cos(angle), torch.sin(angle)], dim=-1)  # (T, 2)
    along = torch.stack([-normal[:, 1], normal[:, 0]], dim=-1)  # (T, 2), along the boundary
    points = 2 * (shots_per_class + queries_per_class)
    labels = (torch.arange(points) % 2).float().expand(num_tasks, points)  # (T, P)
    sign = (2 * labels - 1).unsqueeze(-1)  # (T, P, 1), -1 for class 0
    task_params = {"centre": centre, "normal": normal}
    if family == "blobs":
        separation = _uniform((num_tasks,), *BLOB_SEPARATION_RANGE, generator)  # (T,)
        offset = sign * 0.5 * separation.view(-1, 1, 1) * normal.unsqueeze(1)  # (T, P, 2)
        noise = BLOB_STD * torch.randn((num_tasks, points, 2), generator=generator)
        inputs = centre.unsqueeze(1) + offset + noise
        task_params["separation"] = separation
    else:
        margin = _uniform((num_tasks, points, 1), *LINEAR_MARGIN_RANGE, generator)
        position = _uniform((num_tasks, points, 1), *LINEAR_ALONG_RANGE, generator)
        inputs = (
            centre.unsqueeze(1)
            + sign * margin * normal.unsqueeze(1)
            + position * along.unsqueeze(1)
        )
    targets = labels.unsqueeze(-1).clone()  # (T, P, 1)
    support = 2 * shots_per_class
    return TaskBatch(
        family=family,
        support_inputs=inputs[:, :support],
        support_targets=targets[:, :support],
        query_inputs=inputs[:, support:],
        query_targets=targets[:, support:],
        task_params=task_params,
    )


def sample_tasks(config: ToyConfig, num_tasks: int, generator: torch.Generator) -> TaskBatch:
    """Tasks of ``config.family`` with ``config.shots`` support and ``config.query_points``
    query points (per class for the 2-D families)."""
    if config.family == "sine":
        return sample_sine_tasks(num_tasks, config.shots, config.query_points, generator)
    return sample_plane_tasks(
        config.family, num_tasks, config.shots, config.query_points, generator
    )


def _check_counts(**counts: int) -> None:
    for name, value in counts.items():
        if value < 1:
            raise ValueError(f"{name} must be at least 1, got {value}")


# ----------------------------------------------------------------------------------------------
# The MLP as a pure function of a parameter dict


def init_mlp_params(
    input_dim: int, hidden_units: int, generator: torch.Generator, output_dim: int = 1
) -> Params:
    """Parameters of an MLP input_dim-H-H-output_dim, initialised as torch.nn.Linear does
    (uniform in +-1/sqrt(fan_in)), but from ``generator``.

    Returns:
        dict with ``w1`` (H, D_in), ``b1`` (H,), ``w2`` (H, H), ``b2`` (H,), ``w3`` (O, H),
        ``b3`` (O,); leaf tensors that require grad.
    """
    _check_counts(input_dim=input_dim, hidden_units=hidden_units, output_dim=output_dim)
    shapes = {
        "1": (hidden_units, input_dim),
        "2": (hidden_units, hidden_units),
        "3": (output_dim, hidden_units),
    }
    params: Params = {}
    for layer, (fan_out, fan_in) in shapes.items():
        bound = 1.0 / math.sqrt(fan_in)
        params[f"w{layer}"] = _uniform((fan_out, fan_in), -bound, bound, generator)
        params[f"b{layer}"] = _uniform((fan_out,), -bound, bound, generator)
    return {name: value.requires_grad_() for name, value in params.items()}


def mlp_forward(params: Params, inputs: torch.Tensor) -> torch.Tensor:
    """Forward pass of the ReLU MLP, for one set of parameters or one set per task.

    Args:
        params: from ``init_mlp_params``; either unbatched (``w1`` of shape (H, D_in)) or
            batched over tasks (``w1`` of shape (T, H, D_in), ``b1`` (T, H), ...).
        inputs: (N, D_in) or (T, N, D_in).

    Returns:
        (N, 1) or (T, N, 1): a regression value or a class-1 logit per point.
    """
    hidden = inputs
    for layer in ("1", "2", "3"):
        weight, bias = params[f"w{layer}"], params[f"b{layer}"]
        hidden = hidden @ weight.transpose(-1, -2) + bias.unsqueeze(-2)  # (..., N, out)
        if layer != "3":
            hidden = torch.relu(hidden)
    return hidden


def per_task_loss(config: ToyConfig, outputs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """Mean squared error (sine) or binary cross-entropy on logits (2-D), per task.

    Args:
        outputs: (T, N, 1) network outputs.
        targets: (T, N, 1).

    Returns:
        (T,) loss of each task, averaged over its points.
    """
    if config.is_classification:
        pointwise = F.binary_cross_entropy_with_logits(outputs, targets, reduction="none")
    else:
        pointwise = (outputs - targets) ** 2
    return pointwise.flatten(1).mean(1)


def expand_params(params: Params, num_tasks: int) -> Params:
    """One copy of every parameter per task, (T, ...), sharing memory with ``params`` and
    differentiable back to it."""
    return {
        name: value.unsqueeze(0).expand(num_tasks, *value.shape) for name, value in params.items()
    }


def inner_loop(
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
        params: unbatched parameters theta (shapes as in ``init_mlp_params``).
        support_inputs: (T, S, D_in).
        support_targets: (T, S, 1).
        steps: number of inner steps, 0 or more.
        create_graph: keep the inner gradients differentiable (second-order MAML).

    Returns:
        (adapted parameters batched over tasks (T, ...), support losses (T,) before each step
        and after the last one: ``steps + 1`` entries).
    """
    if steps < 0:
        raise ValueError(f"steps must be at least 0, got {steps}")
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


# ----------------------------------------------------------------------------------------------
# Outer loops: MAML and the pretrained baseline


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


StepCallback = Callable[[int, float], None]
StopCheck = Callable[[], bool]


def meta_train(
    config: ToyConfig,
    callback: StepCallback | None = None,
    should_stop: StopCheck | None = None,
) -> TrainResult:
    """MAML, algorithm 2 (regression) / eq. 3 (classification) of Finn et al. 2017.

    Each outer step samples ``meta_batch_size`` tasks, adapts a copy of theta to every support
    set with ``inner_steps`` steps of size ``inner_lr``, and moves theta with Adam
    (``outer_lr``) down the mean query loss of the adapted copies. With
    ``first_order=True`` the inner gradients are treated as constants.

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
    params = init_mlp_params(config.input_dim, config.hidden_units, generator)
    optimiser = torch.optim.Adam(list(params.values()), lr=config.outer_lr)
    losses: list[float] = []
    start, stopped = time.perf_counter(), False
    for step in range(1, config.meta_steps + 1):
        if should_stop is not None and should_stop():
            stopped = True
            break
        tasks = sample_tasks(config, config.meta_batch_size, generator)
        adapted, _ = inner_loop(
            config,
            params,
            tasks.support_inputs,
            tasks.support_targets,
            config.inner_steps,
            create_graph=not config.first_order,
        )
        query_outputs = mlp_forward(adapted, tasks.query_inputs)  # (T, Q, 1)
        meta_loss = per_task_loss(config, query_outputs, tasks.query_targets).mean()
        _check_finite(meta_loss, step, "meta-loss")
        optimiser.zero_grad(set_to_none=True)
        meta_loss.backward()
        optimiser.step()
        losses.append(meta_loss.item())
        if callback is not None:
            callback(step, losses[-1])
    return TrainResult(
        params=detach_params(params),
        losses=losses,
        stopped=stopped,
        seconds=time.perf_counter() - start,
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
    params = init_mlp_params(config.input_dim, config.hidden_units, generator)
    optimiser = torch.optim.Adam(list(params.values()), lr=config.outer_lr)
    losses: list[float] = []
    start, stopped = time.perf_counter(), False
    for step in range(1, config.pretrain_steps + 1):
        if should_stop is not None and should_stop():
            stopped = True
            break
        tasks = sample_tasks(config, config.meta_batch_size, generator)
        inputs = torch.cat([tasks.support_inputs, tasks.query_inputs], dim=1)
        targets = torch.cat([tasks.support_targets, tasks.query_targets], dim=1)
        loss = per_task_loss(config, mlp_forward(params, inputs), targets).mean()
        _check_finite(loss, step, "pretraining loss")
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


def _check_finite(loss: torch.Tensor, step: int, what: str) -> None:
    if not torch.isfinite(loss):
        raise ValueError(
            f"the {what} became {loss.item()} at step {step}; lower the learning rates"
        )


def random_init(config: ToyConfig) -> Params:
    """A fresh, untrained initialisation (the "no prior knowledge" comparison)."""
    return detach_params(
        init_mlp_params(config.input_dim, config.hidden_units, make_generator(config.seed + 2))
    )


def detach_params(params: Params) -> Params:
    """Detached copies that share nothing with the autograd graph or the optimiser."""
    return {name: value.detach().clone() for name, value in params.items()}


# ----------------------------------------------------------------------------------------------
# Adaptation on one new task, traced for the step player


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
        params: unbatched parameters (shapes as in ``init_mlp_params``).
        support_inputs: (S, D_in).
        support_targets: (S, 1).
        steps: inner steps, 0 or more.
        query_inputs: optional (Q, D_in) held-out points of the same task.
        query_targets: optional (Q, 1).

    Returns:
        AdaptTrace with ``steps + 1`` entries per list.
    """
    if steps < 0:
        raise ValueError(f"steps must be at least 0, got {steps}")
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
    _check_counts(num_tasks=num_tasks)
    if steps < 0:
        raise ValueError(f"steps must be at least 0, got {steps}")
    tasks = sample_tasks(config, num_tasks, make_generator(seed))
    leaves = {name: value.detach().requires_grad_() for name, value in params.items()}
    losses, accuracies = [], []
    for step in range(steps + 1):
        # Re-running the loop for each length keeps the code simple; it is tiny.
        with torch.enable_grad():
            adapted, _ = inner_loop(
                config, leaves, tasks.support_inputs, tasks.support_targets, step, False
            )
        with torch.no_grad():
            outputs = mlp_forward({n: v.detach() for n, v in adapted.items()}, tasks.query_inputs)
            losses.append(per_task_loss(config, outputs, tasks.query_targets).mean().item())
            if config.is_classification:
                correct = (outputs > 0).float() == tasks.query_targets
                accuracies.append(correct.float().mean().item())
    return Evaluation(losses=losses, accuracies=accuracies)


# ----------------------------------------------------------------------------------------------
# Plotting helpers: grids and predictions


def sine_curve_inputs(points: int = 200) -> torch.Tensor:
    """(points, 1) evenly spaced inputs over [-5, 5] for drawing curves."""
    _check_counts(points=points)
    return torch.linspace(*SINE_INPUT_RANGE, points).unsqueeze(-1)


def plane_grid(
    resolution: int = 60, extent: tuple[float, float] = PLANE_EXTENT
) -> tuple[torch.Tensor, torch.Tensor]:
    """A square grid over the plane for decision regions.

    Returns:
        (axis (R,), points (R * R, 2)) with points[i * R + j] = (axis[j], axis[i]), i.e. rows
        vary y, matching plotly's ``z[row][column]`` convention after ``.view(R, R)``.
    """
    if resolution < 2:
        raise ValueError(f"resolution must be at least 2, got {resolution}")
    axis = torch.linspace(extent[0], extent[1], resolution)
    grid_y, grid_x = torch.meshgrid(axis, axis, indexing="ij")
    return axis, torch.stack([grid_x.flatten(), grid_y.flatten()], dim=-1)


@torch.no_grad()
def predict(params: Params, inputs: torch.Tensor) -> torch.Tensor:
    """(N, D_in) -> (N,) network outputs (regression value or class-1 logit)."""
    return mlp_forward(params, inputs).squeeze(-1)


@torch.no_grad()
def class1_probability(params: Params, inputs: torch.Tensor) -> torch.Tensor:
    """(N, 2) -> (N,) probability of class 1 under the MLP classifier."""
    return torch.sigmoid(predict(params, inputs))


# ----------------------------------------------------------------------------------------------
# Prototypical Networks on the raw 2-D points


@dataclass
class ProtoNetResult:
    """ProtoNet with the identity embedding on one 2-D task.

    Attributes:
        prototypes: (N, 2) class means of the support points (Snell et al. 2017, eq. 1).
        grid_labels: (R * R,) nearest-prototype class of every grid point (Voronoi regions).
        grid_class1_probability: (R * R,) softmax probability of class 1 (eq. 2), for N = 2.
        query_predictions: (Q,) predicted class of every query point.
        query_accuracy: fraction of queries classified correctly, or None without labels.
    """

    prototypes: torch.Tensor
    grid_labels: torch.Tensor
    grid_class1_probability: torch.Tensor
    query_predictions: torch.Tensor
    query_accuracy: float | None


def protonet_on_plane(
    support_points: torch.Tensor,
    support_labels: torch.Tensor,
    grid_points: torch.Tensor,
    query_points: torch.Tensor,
    query_labels: torch.Tensor | None = None,
    n_classes: int = 2,
) -> ProtoNetResult:
    """Prototypes and nearest-prototype decision regions, squared Euclidean distance.

    With the identity embedding the regions are the Voronoi cells of the prototypes; for two
    classes the boundary is the perpendicular bisector of the two class means.

    Args:
        support_points: (S, 2).
        support_labels: (S,) integer classes in [0, n_classes), or (S, 1) floats 0./1.
        grid_points: (G, 2) from ``plane_grid``.
        query_points: (Q, 2).
        query_labels: optional (Q,) or (Q, 1) labels, for the accuracy.
        n_classes: number of classes N.
    """
    if support_points.dim() != 2 or support_points.shape[-1] != 2:
        raise ValueError(f"expected support points (S, 2), got {tuple(support_points.shape)}")
    labels = support_labels.reshape(-1).long()
    protos = protonet_prototypes(support_points, labels, n_classes)  # (N, 2)
    grid_logits = protonet_logits(grid_points, protos)  # (G, N)
    query_predictions = protonet_logits(query_points, protos).argmax(-1)  # (Q,)
    accuracy = None
    if query_labels is not None:
        truth = query_labels.reshape(-1).long()
        accuracy = (query_predictions == truth).float().mean().item()
    class1 = grid_logits.softmax(-1)[:, 1] if n_classes >= 2 else torch.zeros(len(grid_points))
    return ProtoNetResult(
        prototypes=protos,
        grid_labels=grid_logits.argmax(-1),
        grid_class1_probability=class1,
        query_predictions=query_predictions,
        query_accuracy=accuracy,
    )


def true_plane_labels(tasks: TaskBatch, points: torch.Tensor) -> torch.Tensor:
    """Ground-truth class of arbitrary points for the first task of ``tasks``.

    Args:
        points: (G, 2).

    Returns:
        (G,) 0/1 labels: the side of the boundary (linear) or the nearer blob centre (blobs,
        the Bayes decision for equal isotropic Gaussians).
    """
    if tasks.family == "sine":
        raise ValueError("true_plane_labels needs a 2-D task family, got 'sine'")
    centre, normal = tasks.task_params["centre"][0], tasks.task_params["normal"][0]
    return (((points - centre) @ normal) > 0).long()
