"""MAML's inner loop as curves: support loss and accuracy per step, and a query's answer;
and one step of the moving-embeddings animation as a still figure."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from lab.labels import plot_text
from lab.style import NEUTRAL, PALETTE, PLOT_LAYOUT, class_colour, legend_height
from lab.viz.bars import percent

LOSS_FLOOR = 1e-8  # a loss of exactly 0 is drawn here: a log axis has no 0
PERCENT_TICKS = (0.0, 0.25, 0.5, 0.75, 1.0)


def _percent_axis(title: str) -> dict[str, Any]:
    """A y-axis for a share: 0 to 100% with ticks every 25%, written by percent()."""
    return {
        "title_text": title,
        "range": [-0.03, 1.03],
        "tickmode": "array",
        "tickvals": list(PERCENT_TICKS),
        "ticktext": [percent(v) for v in PERCENT_TICKS],
    }


def inner_loop_figure(
    steps: Sequence[int],
    support_losses: Sequence[float],
    support_accuracies: Sequence[float],
    class_names: Sequence[str],
    query_probabilities: np.ndarray | None = None,
    query_name: str = "query 1",
    total_steps: int | None = None,
    current_step: int | None = None,
) -> go.Figure:
    """Loss and accuracy on the support set per inner step, each in its own panel; with a
    query, its class probabilities as stacked bars per step in a third.

    The loss axis is logarithmic with ticks in powers of ten (10⁻⁵), so a loss that falls
    from 1 to 0.00002 stays readable; a loss of exactly 0 is drawn at LOSS_FLOOR and its
    hover text gives the value. Accuracy and probabilities share one axis style: 0 to 100%
    in steps of 25%, written by percent().

    Args:
        steps: the steps recorded so far (0 is before any update).
        support_losses, support_accuracies: one value per recorded step.
        class_names: N names, in the classifier's class order.
        query_probabilities: (T, N) probabilities of one query image at each recorded step.
        query_name: the query's name, for the third panel's title.
        total_steps: K, fixes the x-axis so a live chart grows into it.
        current_step: marks one step (the slider's) with a vertical line.
    """
    steps = list(steps)
    losses = [float(v) for v in support_losses]
    accuracies = [float(v) for v in support_accuracies]
    has_query = query_probabilities is not None and len(query_probabilities) > 0
    panels = 3 if has_query else 2
    titles = ("Loss", "Accuracy")  # short: the chart may sit in a narrow column
    figure = make_subplots(
        rows=1,
        cols=panels,
        subplot_titles=titles
        + ((f"Probabilities for {plot_text(query_name)}",) if has_query else ()),
        horizontal_spacing=0.13 if has_query else 0.2,
    )
    figure.add_scatter(
        x=steps,
        y=[max(v, LOSS_FLOOR) for v in losses],
        customdata=[f"{v:.3g}" for v in losses],
        hovertemplate="loss %{customdata}<extra>step %{x}</extra>",
        mode="lines+markers",
        name="loss",
        line={"color": PALETTE[0], "width": 3},
        showlegend=False,
        row=1,
        col=1,
    )
    figure.add_scatter(
        x=steps,
        y=accuracies,
        customdata=[percent(v) for v in accuracies],
        hovertemplate="accuracy %{customdata}<extra>step %{x}</extra>",
        mode="lines+markers",
        name="accuracy",
        line={"color": PALETTE[1], "width": 3, "dash": "dash"},
        marker={"symbol": "square"},
        showlegend=False,
        row=1,
        col=2,
    )
    end = total_steps if total_steps is not None else (max(steps) if steps else 1)
    figure.update_xaxes(title_text="inner step", range=[-0.5, end + 0.5], dtick=_step_tick(end))
    figure.update_yaxes(
        title_text="loss on your examples", type="log", exponentformat="power", row=1, col=1
    )
    figure.update_yaxes(**_percent_axis("accuracy on your examples"), row=1, col=2)
    if has_query:
        probabilities = np.asarray(query_probabilities, dtype=float)
        for k, name in enumerate(class_names):
            figure.add_bar(
                x=steps,
                y=probabilities[:, k].tolist(),
                customdata=[percent(p, 2) for p in probabilities[:, k]],
                name=plot_text(str(name)),
                marker_color=class_colour(k),
                row=1,
                col=3,
                hovertemplate="%{fullData.name}: %{customdata}<extra>step %{x}</extra>",
            )
        figure.update_layout(barmode="stack")
        figure.update_yaxes(**_percent_axis("probability"), row=1, col=3)
    if current_step is not None:
        figure.add_vline(x=current_step, line={"color": "#777777", "dash": "dot"})
    figure.update_layout(
        **PLOT_LAYOUT,
        height=330 + legend_height(len(class_names) if has_query else 0),
        legend={"orientation": "h", "y": -0.25, "yanchor": "top", "traceorder": "normal"},
        uirevision="inner",
    )
    return figure


def _step_tick(end: int) -> int | None:
    """Tick spacing for steps 0..end in a third of the page: every step up to 10 steps; every
    5th up to 50 (at 20 steps, a label per step ran into the next: seen in Chromium)."""
    if end <= 10:
        return 1
    return 5 if end <= 50 else None


def trace_figure(
    records: Sequence[Any],
    class_names: Sequence[str],
    *,
    total_steps: int,
    query_index: int | None = None,
    query_name: str = "",
    current_step: int | None = None,
) -> go.Figure:
    """inner_loop_figure of the step records an adaptation gave (core.maml.StepRecord).

    Args:
        records: the T records so far, step 0 first.
        query_index: whose probabilities to show (records hold them for every query), or
            None for the support curves only. Records without query probabilities show none.
        total_steps, query_name, current_step: as in inner_loop_figure.
    """
    probabilities = None
    if query_index is not None and records and records[0].query_probabilities is not None:
        probabilities = np.stack([r.query_probabilities[query_index].numpy() for r in records])
    return inner_loop_figure(
        [r.step for r in records],
        [r.support_loss for r in records],
        [r.support_accuracy for r in records],
        class_names,
        probabilities,
        query_name=query_name,
        total_steps=total_steps,
        current_step=current_step,
    )


def tensor_label(name: str) -> str:
    """A parameter tensor's name in words: "encoder.2.0.weight" -> "block 3 conv weights",
    "encoder.2.1.bias" -> "block 3 batch-norm shift", "head.weight" -> "classifier weights";
    the photo head's "net.weight" -> "projection weights", "scale" -> "output scale".
    Other names are returned as they are."""
    photo_head = {
        "scale": "output scale",
        "net.weight": "projection weights",
        "net.bias": "projection bias",
    }
    if name in photo_head:
        return photo_head[name]
    parts = name.split(".")
    if parts[0] == "head" and len(parts) == 2:
        return {"weight": "classifier weights", "bias": "classifier bias"}.get(parts[1], name)
    if parts[0] == "encoder" and len(parts) == 4 and parts[1].isdigit():
        layer = {"0": "conv", "1": "batch-norm"}.get(parts[2])
        kind = {
            ("conv", "weight"): "conv weights",
            ("conv", "bias"): "conv bias",
            ("batch-norm", "weight"): "batch-norm scale",
            ("batch-norm", "bias"): "batch-norm shift",
        }.get((layer, parts[3]))
        if kind:
            return f"block {int(parts[1]) + 1} {kind}"
    return name


def step_sizes_figure(start: dict[str, float], learned: dict[str, float]) -> go.Figure:
    """MAML's per-tensor inner step sizes: where meta-training started them and where it left
    them, one row per parameter tensor (first layer at the top), on a log axis.

    Args:
        start, learned: tensor name -> step size (the model card's maml.lr_start and
            maml.lr); the rows are the names of `learned` whose step is above 0 (the tensors
            the inner loop moves; a log axis has no 0), in its order.
    """
    names = [name for name in learned if learned[name] > 0]
    labels = [tensor_label(name) for name in names]
    fig = go.Figure()
    for a, b, label in zip((start.get(n) for n in names), (learned[n] for n in names), labels):
        if a is not None:
            fig.add_trace(
                go.Scatter(
                    x=[a, b],
                    y=[label, label],
                    mode="lines",
                    line={"color": NEUTRAL, "width": 2},
                    hoverinfo="skip",
                    showlegend=False,
                )
            )
    fig.add_trace(
        go.Scatter(
            x=[start.get(n) for n in names],
            y=labels,
            mode="markers",
            name="start of meta-training",
            marker={"symbol": "circle-open", "size": 9, "color": PALETTE[7]},
            hovertemplate="%{y}: started at %{x:.3g}<extra></extra>",
        )
    )
    fig.add_trace(
        go.Scatter(
            x=[learned[n] for n in names],
            y=labels,
            mode="markers",
            name="meta-learned",
            marker={"symbol": "circle", "size": 9, "color": PALETTE[0]},
            hovertemplate="%{y}: learned %{x:.3g}<extra></extra>",
        )
    )
    fig.update_layout(**PLOT_LAYOUT)
    fig.update_layout(
        height=120 + 22 * len(names),
        xaxis={"type": "log", "title_text": "inner step size (log scale)"},
        yaxis={"autorange": "reversed", "title_text": ""},
        legend={"orientation": "h", "y": 1.02, "yanchor": "bottom", "x": 0},
    )
    return fig
