"""A new task for the step player: every start adapted to it, and what to draw at each step."""

from __future__ import annotations

from dataclasses import dataclass

import torch

from lab.toy.config import ToyConfig, make_generator
from lab.toy.evaluate import AdaptTrace, adapt
from lab.toy.mlp import Params, class1_probability, predict
from lab.toy.protonet import ProtoNetResult, protonet_on_plane
from lab.toy.tasks import TaskBatch, plane_grid, sample_tasks, sine_curve_inputs, sine_values

# The starting points of the inner loop, in the order the page shows them.
STARTS = ("MAML", "Random", "Pretrained")
PLAYER_GRID_RESOLUTION = 60  # R: decision regions are drawn on an R x R grid


@dataclass(frozen=True)
class TaskPlay:
    """One new task and the inner loop from every start, traced step by step.

    Attributes:
        config: the lesson the starts were trained with.
        number: 1 for the first task of a lesson, then 2, 3, ...
        tasks: the task, as a batch of one.
        traces: start name (one of STARTS) -> its traced inner loop on the task.
    """

    config: ToyConfig
    number: int
    tasks: TaskBatch
    traces: dict[str, AdaptTrace]

    @property
    def steps(self) -> int:
        """Inner steps recorded for every start."""
        return self.config.eval_inner_steps

    def sine_truth(self) -> tuple[torch.Tensor, torch.Tensor]:
        """(curve inputs (P, 1), the task's true sine on them (P,))."""
        curve_inputs = sine_curve_inputs()
        params = self.tasks.task_params
        truth = sine_values(curve_inputs.T, params["amplitude"], params["phase"])[0]
        return curve_inputs, truth

    def curve_predictions(self, start: str, curve_inputs: torch.Tensor) -> list[torch.Tensor]:
        """``steps + 1`` tensors (P,): the network of ``start`` after 0, 1, ... steps."""
        return [predict(params, curve_inputs) for params in self.traces[start].params]

    def params_at(self, start: str, step: int) -> Params:
        """The parameters of ``start`` after ``step`` inner steps."""
        return self.traces[start].params[step]

    def grid(self) -> tuple[torch.Tensor, torch.Tensor]:
        """(axis (R,), points (R * R, 2)) of the plane the regions are drawn on."""
        return plane_grid(PLAYER_GRID_RESOLUTION)

    def grid_probability(self, start: str, step: int, grid_points: torch.Tensor) -> torch.Tensor:
        """(R * R,) probability of class 1 on the grid for ``start`` after ``step`` steps."""
        return class1_probability(self.params_at(start, step), grid_points)

    def query_predictions(self, start: str, step: int) -> torch.Tensor:
        """(Q,) 0/1 predicted classes of the queries for ``start`` after ``step`` steps."""
        return (predict(self.params_at(start, step), self.tasks.query_inputs[0]) > 0).long()

    def protonet(self, grid_points: torch.Tensor) -> ProtoNetResult:
        """ProtoNet on the same task (2-D families): no steps, one result."""
        return protonet_on_plane(
            self.tasks.support_inputs[0],
            self.tasks.support_targets[0],
            grid_points,
            self.tasks.query_inputs[0],
            self.tasks.query_targets[0],
        )

    def true_boundary(self) -> tuple[torch.Tensor, torch.Tensor] | None:
        """(centre (2,), normal (2,)) of a straight boundary, or None for other families."""
        if self.config.family != "linear":
            return None
        return self.tasks.task_params["centre"][0], self.tasks.task_params["normal"][0]


def new_task(config: ToyConfig, starts: dict[str, Params], number: int) -> TaskPlay:
    """Task ``number`` of a lesson, from a seed stream no training draws from, adapted from
    every start for ``config.eval_inner_steps`` steps.

    Args:
        config: the lesson.
        starts: start name -> unbatched parameters (see STARTS).
        number: 1, 2, ...: the same lesson and number give the same task.

    Returns:
        TaskPlay with one trace per start.
    """
    generator = make_generator(10_000 + 1_000 * config.seed + number)
    single = sample_tasks(config, 1, generator)  # a batch of one task
    traces = {
        start: adapt(
            config,
            params,
            single.support_inputs[0],
            single.support_targets[0],
            config.eval_inner_steps,
            single.query_inputs[0],
            single.query_targets[0],
        )
        for start, params in starts.items()
    }
    return TaskPlay(config=config, number=number, tasks=single, traces=traces)
