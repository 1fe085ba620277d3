"""The two toy task families, their sampling, and the grids the figures draw on.

* Sine-wave regression (Finn, Abbeel & Levine, "Model-Agnostic Meta-Learning for Fast
  Adaptation of Deep Networks", ICML 2017, section 5.1): amplitude in [0.1, 5.0], phase in
  [0, pi], inputs in [-5, 5].
* 2-D binary classification: two Gaussian blobs (``"blobs"``) or a randomly rotated straight
  boundary (``"linear"``), each task at a random position and angle.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import torch

from lab.toy.config import Family, ToyConfig, check_counts, uniform

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
        """T, the number of tasks."""
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
    check_counts(num_tasks=num_tasks, support_points=support_points, query_points=query_points)
    amplitude = uniform((num_tasks,), *SINE_AMPLITUDE_RANGE, generator)  # (T,)
    phase = uniform((num_tasks,), *SINE_PHASE_RANGE, generator)  # (T,)
    points = support_points + query_points
    inputs = uniform((num_tasks, points, 1), *SINE_INPUT_RANGE, generator)  # (T, K+Q, 1)
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
    check_counts(
        num_tasks=num_tasks, shots_per_class=shots_per_class, queries_per_class=queries_per_class
    )
    centre = uniform((num_tasks, 2), *PLANE_CENTRE_RANGE, generator)  # (T, 2)
    angle = uniform((num_tasks,), 0.0, 2 * math.pi, generator)  # (T,)
    normal = torch.stack([torch.cos(angle), torch.sin(angle)], dim=-1)  # (T, 2)
    along = torch.stack([-normal[:, 1], normal[:, 0]], dim=-1)  # (T, 2), along the boundary
    points = 2 * (shots_per_class + queries_per_class)
    labels = (torch.arange(points) % 2).float().expand(num_tasks, points)  # (T, P)
    sign = (2 * labels - 1).unsqueeze(-1)  # (T, P, 1), -1 for class 0
    task_params = {"centre": centre, "normal": normal}
    if family == "blobs":
        separation = uniform((num_tasks,), *BLOB_SEPARATION_RANGE, generator)  # (T,)
        offset = sign * 0.5 * separation.view(-1, 1, 1) * normal.unsqueeze(1)  # (T, P, 2)
        noise = BLOB_STD * torch.randn((num_tasks, points, 2), generator=generator)
        inputs = centre.unsqueeze(1) + offset + noise
        task_params["separation"] = separation
    else:
        margin = uniform((num_tasks, points, 1), *LINEAR_MARGIN_RANGE, generator)
        position = uniform((num_tasks, points, 1), *LINEAR_ALONG_RANGE, generator)
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


def true_plane_labels(tasks: TaskBatch, points: torch.Tensor) -> torch.Tensor:
    """Ground-truth class of arbitrary points for the first task of ``tasks``.

    Args:
        tasks: a batch of 2-D tasks; only the first is used.
        points: (G, 2).

    Returns:
        (G,) 0/1 labels: the side of the boundary (linear) or the nearer blob centre (blobs,
        the Bayes decision for equal isotropic Gaussians).
    """
    if tasks.family == "sine":
        raise ValueError("true_plane_labels needs a 2-D task family, got 'sine'")
    centre, normal = tasks.task_params["centre"][0], tasks.task_params["normal"][0]
    return (((points - centre) @ normal) > 0).long()


def sine_curve_inputs(points: int = 200) -> torch.Tensor:
    """(points, 1) evenly spaced inputs over [-5, 5] for drawing curves."""
    check_counts(points=points)
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
