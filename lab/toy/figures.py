"""Plotly figures for the meta-learning playground: data in, figure out.

Visual language (lab/style.py, shared by every figure): the Okabe-Ito colour-blind-safe
palette; one colour per class everywhere; support examples are circles, prototypes large
stars, queries diamonds outlined in the predicted class's colour; every trace is named so
that nothing relies on colour alone.
No streamlit here, and no computation beyond formatting: the numbers come from the other
modules of lab.toy.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import plotly.graph_objects as go
import torch

from lab.style import OKABE_ITO, PLOT_LAYOUT, class_colour

CLASS_COLOURS = (class_colour(0), class_colour(1))  # class A, class B
CLASS_NAMES = ("class A", "class B")
# One colour per starting point of the inner loop, the same in every chart of the page.
START_COLOURS = {
    "MAML": OKABE_ITO["bluish_green"],
    "Random": OKABE_ITO["reddish_purple"],
    "Pretrained": OKABE_ITO["vermillion"],
    "ProtoNet": OKABE_ITO["sky_blue"],
}
TRUTH_COLOUR = OKABE_ITO["black"]


def _values(data: torch.Tensor | Sequence[float]) -> list:
    """A tensor (any shape) or a sequence as a plain list, flattened for 1-column tensors."""
    if isinstance(data, torch.Tensor):
        tensor = data.detach().cpu()
        if tensor.dim() == 2 and tensor.shape[1] == 1:
            tensor = tensor[:, 0]
        return tensor.tolist()
    return list(data)


def meta_loss_figure(
    meta_losses: Sequence[float],
    total_steps: int | None = None,
    smoothing: int = 50,
    max_points: int | None = None,
) -> go.Figure:
    """The outer-loop curve: meta-loss (query loss after adaptation) per outer step.

    Args:
        meta_losses: one value per completed outer step.
        total_steps: fixes the x-axis to the whole run so the curve grows into it.
        smoothing: window of the running mean drawn over the noisy raw curve.
        max_points: draw at most about this many points per line (every k-th step, the
            last one always), so a live redraw stays cheap; None draws every step.
    """
    if smoothing < 1:
        raise ValueError(f"smoothing must be at least 1, got {smoothing}")
    if max_points is not None and max_points < 2:
        raise ValueError(f"max_points must be at least 2, got {max_points}")
    steps = list(range(1, len(meta_losses) + 1))
    losses = list(meta_losses)
    smoothed, running = [], 0.0
    for index, value in enumerate(losses):
        running += value
        if index >= smoothing:
            running -= losses[index - smoothing]
        smoothed.append(running / min(index + 1, smoothing))
    if max_points is not None and len(steps) > max_points:
        stride = -(-len(steps) // max_points)  # ceil
        keep = list(range(len(steps) - 1, -1, -stride))[::-1]  # ends on the last step
        steps, losses, smoothed = (
            [values[i] for i in keep] for values in (steps, losses, smoothed)
        )
    figure = go.Figure()
    figure.add_scatter(
        x=steps,
        y=losses,
        mode="lines",
        name="meta-loss (each step)",
        line={"color": OKABE_ITO["sky_blue"], "width": 1},
        opacity=0.5,
    )
    figure.add_scatter(
        x=steps,
        y=smoothed,
        mode="lines",
        name=f"running mean ({smoothing} steps)",
        line={"color": OKABE_ITO["blue"], "width": 3},
    )
    figure.update_layout(
        **PLOT_LAYOUT,
        title="Outer loop: loss after adaptation (meta-loss)",
        xaxis_title="outer step (meta-update)",
        yaxis_title="meta-loss",
        height=300,
        legend={"orientation": "h", "y": -0.3},
    )
    if total_steps:
        figure.update_xaxes(range=[0, total_steps])
    return figure


def sine_step_figure(
    curve_inputs: torch.Tensor,
    true_values: torch.Tensor,
    predictions_per_step: Sequence[torch.Tensor],
    current_step: int,
    support_inputs: torch.Tensor,
    support_targets: torch.Tensor,
    title: str,
    colour: str,
) -> go.Figure:
    """One panel of the inner-loop player for a sine task.

    Args:
        curve_inputs: (P,) or (P, 1) inputs on which the curves are drawn.
        true_values: (P,) the task's true sine.
        predictions_per_step: steps + 1 tensors (P,), the network after 0, 1, ... steps.
        current_step: the step to draw in bold; earlier steps are drawn faintly.
        support_inputs: (K,) or (K, 1) the examples the inner loop sees.
        support_targets: (K,) or (K, 1).
        title: panel title, e.g. "MAML start".
        colour: colour of this starting point's curves.
    """
    if not 0 <= current_step < len(predictions_per_step):
        raise ValueError(
            f"current_step {current_step} outside [0, {len(predictions_per_step) - 1}]"
        )
    xs = _values(curve_inputs)
    figure = go.Figure()
    for step in range(current_step):
        figure.add_scatter(
            x=xs,
            y=_values(predictions_per_step[step]),
            mode="lines",
            showlegend=step == 0,
            name="earlier steps",
            legendgroup="earlier",
            hoverinfo="skip",
            line={"color": colour, "width": 1},
            opacity=0.15 + 0.35 * step / max(current_step, 1),
        )
    figure.add_scatter(
        x=xs,
        y=_values(true_values),
        mode="lines",
        name="true function",
        line={"color": TRUTH_COLOUR, "dash": "dash", "width": 2},
    )
    figure.add_scatter(
        x=xs,
        y=_values(predictions_per_step[current_step]),
        mode="lines",
        name=f"network after step {current_step}",
        line={"color": colour, "width": 3},
    )
    figure.add_scatter(
        x=_values(support_inputs),
        y=_values(support_targets),
        mode="markers",
        name="examples it learns from (support set)",
        marker={
            "symbol": "circle",
            "size": 10,
            "color": TRUTH_COLOUR,
            "line": {"color": "white", "width": 1},
        },
        hovertemplate="x=%{x:.2f}<br>y=%{y:.2f}<extra>support</extra>",
    )
    figure.update_layout(
        **PLOT_LAYOUT,
        title=title,
        height=330,
        showlegend=True,
        legend={"orientation": "h", "y": -0.25, "font": {"size": 10}},
    )
    figure.update_yaxes(range=[-6, 6], title="y")
    figure.update_xaxes(range=[-5, 5], title="x")
    return figure


def _class_scale() -> list[list]:
    """Colour scale from class A (0) through white (undecided, 0.5) to class B (1)."""
    return [[0.0, CLASS_COLOURS[0]], [0.5, "#FFFFFF"], [1.0, CLASS_COLOURS[1]]]


def _marker(
    symbol: str, size: float, colour: str, outline: str | list[str], outline_width: float, **extra
) -> dict:
    """A plotly marker: ``symbol`` filled with ``colour`` and outlined in ``outline``."""
    return {
        "symbol": symbol,
        "size": size,
        "color": colour,
        **extra,
        "line": {"color": outline, "width": outline_width},
    }


def _add_points(
    figure: go.Figure,
    points: torch.Tensor,
    name: str,
    marker: dict,
    hovertemplate: str,
    text: list[str] | None = None,
) -> None:
    """One named marker trace of ``points`` (N, 2)."""
    figure.add_scatter(
        x=points[:, 0].tolist(),
        y=points[:, 1].tolist(),
        mode="markers",
        name=name,
        text=text,
        marker=marker,
        hovertemplate=hovertemplate,
    )


def plane_step_figure(
    grid_axis: torch.Tensor,
    class1_probability: torch.Tensor,
    support_points: torch.Tensor,
    support_labels: torch.Tensor,
    query_points: torch.Tensor,
    query_labels: torch.Tensor,
    query_predictions: torch.Tensor,
    title: str,
    prototypes: torch.Tensor | None = None,
    true_boundary: tuple[torch.Tensor, torch.Tensor] | None = None,
) -> go.Figure:
    """A 2-D task with the classifier's regions shaded and its boundary (p = 0.5) drawn.

    Args:
        grid_axis: (R,) coordinates of the square grid (both axes).
        class1_probability: (R * R,) or (R, R) probability of class B on the grid, rows along
            y (as ``lab.toy.tasks.plane_grid`` lays it out).
        support_points: (S, 2) drawn as circles in their class colour.
        support_labels: (S,) or (S, 1) classes 0/1.
        query_points: (Q, 2) drawn as diamonds filled in the true class colour and outlined
            in the predicted class colour.
        query_labels: (Q,) or (Q, 1) true classes.
        query_predictions: (Q,) predicted classes.
        title: panel title.
        prototypes: optional (2, 2) class prototypes, drawn as large stars.
        true_boundary: optional (centre (2,), normal (2,)) of the true linear boundary,
            drawn as a dashed line.
    """
    resolution = grid_axis.shape[0]
    probability = class1_probability.detach().reshape(resolution, resolution)
    axis = _values(grid_axis)
    figure = go.Figure()
    figure.add_contour(
        x=axis,
        y=axis,
        z=probability.tolist(),
        zmin=0.0,
        zmax=1.0,
        colorscale=_class_scale(),
        opacity=0.45,
        showscale=False,
        name="P(class B)",
        contours={"start": 0.0, "end": 1.0, "size": 0.1, "coloring": "fill", "showlines": False},
        hovertemplate="x=%{x:.1f}, y=%{y:.1f}<br>P(class B)=%{z:.2f}<extra></extra>",
    )
    figure.add_contour(
        x=axis,
        y=axis,
        z=probability.tolist(),
        showscale=False,
        name="decision boundary",
        contours={"start": 0.5, "end": 0.5, "size": 1.0, "coloring": "lines"},
        line={"width": 3, "color": OKABE_ITO["black"]},
        colorscale=[[0, "black"], [1, "black"]],
        hoverinfo="skip",
    )
    if true_boundary is not None:
        centre, normal = (_values(t) for t in true_boundary)
        along = (-normal[1], normal[0])
        span = 20.0
        figure.add_scatter(
            x=[centre[0] - span * along[0], centre[0] + span * along[0]],
            y=[centre[1] - span * along[1], centre[1] + span * along[1]],
            mode="lines",
            name="true boundary",
            line={"color": OKABE_ITO["black"], "dash": "dash", "width": 1.5},
        )
    support = support_points.detach()
    support_classes = [int(c) for c in _values(support_labels)]
    query = query_points.detach()
    query_truth = [int(c) for c in _values(query_labels)]
    query_guess = [int(c) for c in _values(query_predictions)]
    for cls, (colour, name) in enumerate(zip(CLASS_COLOURS, CLASS_NAMES)):
        rows = [i for i, c in enumerate(support_classes) if c == cls]
        _add_points(
            figure,
            support[rows],
            f"{name} examples (support)",
            _marker("circle", 11, colour, "white", 1.5),
            f"{name} (support)<br>x=%{{x:.2f}}, y=%{{y:.2f}}<extra></extra>",
        )
        rows = [i for i, c in enumerate(query_truth) if c == cls]
        outline = [CLASS_COLOURS[query_guess[i]] for i in rows]
        verdict = [
            f"{name} (query), predicted {CLASS_NAMES[query_guess[i]]}"
            + ("" if query_guess[i] == cls else " (wrong)")
            for i in rows
        ]
        _add_points(
            figure,
            query[rows],
            f"{name} to check (queries)",
            _marker("diamond", 9, colour, outline, 2.5, opacity=0.85),
            "%{text}<br>x=%{x:.2f}, y=%{y:.2f}<extra></extra>",
            text=verdict,
        )
    if prototypes is not None:
        protos = prototypes.detach()
        for cls, (colour, name) in enumerate(zip(CLASS_COLOURS, CLASS_NAMES)):
            _add_points(
                figure,
                protos[cls : cls + 1],
                f"{name} centre (prototype)",
                _marker("star", 24, colour, "black", 2),
                f"{name} prototype<br>x=%{{x:.2f}}, y=%{{y:.2f}}<extra></extra>",
            )
    low, high = axis[0], axis[-1]
    figure.update_layout(
        **PLOT_LAYOUT,
        title=title,
        height=440,
        showlegend=True,
        legend={"orientation": "h", "y": -0.22, "yanchor": "top", "font": {"size": 10}},
    )
    figure.update_xaxes(range=[low, high], title="x1", constrain="domain")
    figure.update_yaxes(range=[low, high], title="x2", scaleanchor="x", scaleratio=1)
    return figure


def step_curves_figure(
    curves: Mapping[str, Sequence[float]],
    current_step: int,
    y_title: str,
    title: str,
    flat_lines: Mapping[str, float] | None = None,
    as_percent: bool = False,
) -> go.Figure:
    """The inner-loop timeline: one curve per starting point over steps 0..K.

    Args:
        curves: label (a key of START_COLOURS, or any name) -> steps + 1 values.
        current_step: marked by a vertical line.
        y_title: axis title, e.g. "error on unseen points (MSE)".
        title: chart title.
        flat_lines: label -> value for methods with no steps (ProtoNet), drawn dotted.
        as_percent: format the y-axis as percentages (for accuracies in [0, 1]).
    """
    figure = go.Figure()
    for label, values in curves.items():
        colour = START_COLOURS.get(label, OKABE_ITO["black"])
        figure.add_scatter(
            x=list(range(len(values))),
            y=list(values),
            mode="lines+markers",
            name=label,
            line={"color": colour, "width": 3},
            marker={"size": 7},
        )
    for label, value in (flat_lines or {}).items():
        figure.add_hline(
            y=value,
            line={"color": START_COLOURS.get(label, "black"), "dash": "dot", "width": 2},
            annotation_text=label,
            annotation_position="top left",
        )
    figure.add_vline(x=current_step, line={"color": "grey", "dash": "dash", "width": 1})
    figure.update_layout(
        **PLOT_LAYOUT,
        title=title,
        height=300,
        xaxis_title="inner step",
        yaxis_title=y_title,
        legend={"orientation": "h", "y": -0.3},
    )
    figure.update_xaxes(dtick=1)
    if as_percent:
        figure.update_yaxes(tickformat=".0%", range=[0, 1.02])
    return figure
