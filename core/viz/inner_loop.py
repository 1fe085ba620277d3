"""MAML's inner loop as curves: support loss and accuracy per step, and a query's answer."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from core.style import PALETTE, PLOT_LAYOUT, class_colour


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
    """Loss and accuracy on the support set per inner step; with a query, its class
    probabilities as stacked bars per step beside them.

    Args:
        steps: the steps recorded so far (0 is before any update).
        support_losses, support_accuracies: one value per recorded step.
        class_names: N names, in the classifier's class order.
        query_probabilities: (T, N) probabilities of one query image at each recorded step.
        query_name: the query's name, for the second panel's title.
        total_steps: K, fixes the x-axis so a live chart grows into it.
        current_step: marks one step (the slider's) with a vertical line.
    """
    steps = list(steps)
    has_query = query_probabilities is not None and len(query_probabilities) > 0
    figure = make_subplots(
        rows=1,
        cols=2 if has_query else 1,
        subplot_titles=(
            "Examples you teach with (support set)",
            f"Probabilities for {query_name}",
        )[: 2 if has_query else 1],
        specs=[[{"secondary_y": True}] + ([{}] if has_query else [])],
        horizontal_spacing=0.12,
    )
    figure.add_scatter(
        x=steps,
        y=list(support_losses),
        mode="lines+markers",
        name="loss",
        line={"color": PALETTE[0], "width": 3},
        row=1,
        col=1,
        secondary_y=False,
    )
    figure.add_scatter(
        x=steps,
        y=list(support_accuracies),
        mode="lines+markers",
        name="accuracy",
        line={"color": PALETTE[1], "width": 3, "dash": "dash"},
        marker={"symbol": "square"},
        row=1,
        col=1,
        secondary_y=True,
    )
    end = total_steps if total_steps is not None else (max(steps) if steps else 1)
    figure.update_xaxes(
        title_text="inner step",
        range=[-0.5, end + 0.5],
        dtick=1 if end <= 20 else None,
        row=1,
        col=1,
    )
    figure.update_yaxes(title_text="loss", rangemode="tozero", row=1, col=1, secondary_y=False)
    figure.update_yaxes(
        title_text="accuracy", range=[0, 1.05], tickformat=".0%", row=1, col=1, secondary_y=True
    )
    if has_query:
        probabilities = np.asarray(query_probabilities, dtype=float)
        for k, name in enumerate(class_names):
            figure.add_bar(
                x=steps,
                y=probabilities[:, k].tolist(),
                name=str(name),
                marker_color=class_colour(k),
                row=1,
                col=2,
                hovertemplate=f"{name}: " + "%{y:.3f}<extra>step %{x}</extra>",
            )
        figure.update_layout(barmode="stack")
        figure.update_xaxes(title_text="inner step", range=[-0.5, end + 0.5], row=1, col=2)
        figure.update_yaxes(range=[0, 1], tickformat=".0%", row=1, col=2)
    if current_step is not None:
        figure.add_vline(x=current_step, line={"color": "#777777", "dash": "dot"})
    figure.update_layout(
        **PLOT_LAYOUT, height=330, legend={"orientation": "h", "y": -0.2}, uirevision="inner"
    )
    return figure


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
