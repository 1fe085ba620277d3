"""The step player's charts: one panel per start (and ProtoNet in the plane), one timeline.

Which figures the page shows at a step, built from a ``TaskPlay``; the figures themselves are
in ``lab.toy.figures``. No streamlit here.
"""

from __future__ import annotations

from dataclasses import dataclass

import plotly.graph_objects as go

from lab.toy.figures import START_COLOURS, plane_step_figure, sine_step_figure, step_curves_figure
from lab.toy.player import TaskPlay


@dataclass(frozen=True)
class PlayerFigures:
    """The step player's charts at one inner step.

    Attributes:
        panels: panel name (every start of the play, then "ProtoNet" on the plane) -> figure.
        timeline: query error (sine) or accuracy (plane) of every start over the inner steps.
    """

    panels: dict[str, go.Figure]
    timeline: go.Figure


def player_figures(play: TaskPlay, step: int) -> PlayerFigures:
    """Every chart of the step player for ``play`` after ``step`` inner steps.

    Args:
        play: a new task adapted from every start (``lab.toy.player.new_task``).
        step: the inner step to draw, in [0, play.steps].
    """
    if not 0 <= step <= play.steps:
        raise ValueError(f"step {step} outside [0, {play.steps}]")
    if play.config.family == "sine":
        return _sine_player_figures(play, step)
    return _plane_player_figures(play, step)


def _sine_player_figures(play: TaskPlay, step: int) -> PlayerFigures:
    curve_inputs, truth = play.sine_truth()
    support_inputs, support_targets = play.tasks.support_inputs[0], play.tasks.support_targets[0]
    panels = {
        start: sine_step_figure(
            curve_inputs,
            truth,
            play.curve_predictions(start, curve_inputs),
            step,
            support_inputs,
            support_targets,
            f"{start} start",
            START_COLOURS[start],
        )
        for start in play.traces
    }
    timeline = step_curves_figure(
        {start: trace.query_losses for start, trace in play.traces.items()},
        step,
        "error on unseen points (MSE)",
        "Inner loop: error after each step",
    )
    return PlayerFigures(panels=panels, timeline=timeline)


def _plane_player_figures(play: TaskPlay, step: int) -> PlayerFigures:
    grid_axis, grid_points = play.grid()
    tasks, boundary = play.tasks, play.true_boundary()
    points = (
        tasks.support_inputs[0],
        tasks.support_targets[0],
        tasks.query_inputs[0],
        tasks.query_targets[0],
    )
    panels = {}
    for start, trace in play.traces.items():
        panels[start] = plane_step_figure(
            grid_axis,
            play.grid_probability(start, step, grid_points),
            *points,
            play.query_predictions(start, step),
            f"{start} start, step {step}: {trace.query_accuracies[step]:.0%} of queries right",
            true_boundary=boundary,
        )
    protonet = play.protonet(grid_points)
    panels["ProtoNet"] = plane_step_figure(
        grid_axis,
        protonet.grid_class1_probability,
        *points,
        protonet.query_predictions,
        f"ProtoNet (no steps): {protonet.query_accuracy:.0%} of queries right",
        prototypes=protonet.prototypes,
        true_boundary=boundary,
    )
    timeline = step_curves_figure(
        {start: trace.query_accuracies for start, trace in play.traces.items()},
        step,
        "queries classified right",
        "Inner loop: accuracy after each step",
        flat_lines={"ProtoNet": protonet.query_accuracy},
        as_percent=True,
    )
    return PlayerFigures(panels=panels, timeline=timeline)
