"""Accuracy against examples per class (lab.shots): one line per learner, with its 95% band."""

from __future__ import annotations

from collections.abc import Sequence

import plotly.graph_objects as go

from lab.shots import ShotCurve
from lab.style import PALETTE, PLOT_LAYOUT

SYMBOLS = ("circle", "square", "diamond")  # learners differ in shape too, not colour alone
TITLE = "Accuracy on the held-out images (plain: share of all of them right), by examples per class"


def _rgba(colour: str, alpha: float) -> str:
    red, green, blue = (int(colour[i : i + 2], 16) for i in (1, 3, 5))
    return f"rgba({red}, {green}, {blue}, {alpha})"


def shots_figure(curves: Sequence[ShotCurve], n_classes: int) -> go.Figure:
    """Mean accuracy (%) against shots, a band for its 95% interval, and the random-guess
    level (1 in N: a uniform guess scores that on any set of queries).

    Args:
        curves: one per learner, colours in the order given (PALETTE).
        n_classes: N, for the random-guess line.
    """
    figure = go.Figure()
    shots = sorted({p.shots for curve in curves for p in curve.points})
    for index, curve in enumerate(curves):
        colour = PALETTE[index % len(PALETTE)]
        x = [p.shots for p in curve.points]
        mean = [100 * p.mean for p in curve.points]
        half = [0.0 if p.ci95 != p.ci95 else 100 * p.ci95 for p in curve.points]  # nan: 0
        upper = [min(100.0, m + h) for m, h in zip(mean, half, strict=True)]
        lower = [max(0.0, m - h) for m, h in zip(mean, half, strict=True)]
        figure.add_scatter(
            x=x + x[::-1],
            y=upper + lower[::-1],
            fill="toself",
            fillcolor=_rgba(colour, 0.15),
            line={"width": 0},
            hoverinfo="skip",
            legendgroup=curve.name,
            showlegend=False,
            name=f"{curve.name}: 95% interval",
        )
        figure.add_scatter(
            x=x,
            y=mean,
            mode="lines+markers",
            name=curve.name,
            legendgroup=curve.name,
            line={"color": colour, "width": 3},
            marker={"size": 9, "color": colour, "symbol": SYMBOLS[index % len(SYMBOLS)]},
            error_y={"type": "data", "array": half, "visible": True, "color": colour, "width": 4},
            customdata=[
                [h, len(p.accuracies), p.queries] for h, p in zip(half, curve.points, strict=True)
            ],
            hovertemplate=(
                f"{curve.name}, %{{x}} per class: %{{y:.1f}}% ± %{{customdata[0]:.1f}} "
                "(95% interval, %{customdata[1]} splits of %{customdata[2]} images each)"
                "<extra></extra>"
            ),
        )
    if shots:
        figure.add_scatter(
            x=[shots[0] - 0.3, shots[-1] + 0.3],
            y=[100 / n_classes] * 2,
            mode="lines",
            line={"color": "#666666", "dash": "dot", "width": 1.5},
            name=f"random guess (1 in {n_classes})",
            hoverinfo="skip",
        )
    figure.update_layout(
        **PLOT_LAYOUT,
        height=420,
        title={"text": TITLE, "font": {"size": 15}},
        xaxis={
            "title": "examples per class (shots); the rest of each class is scored",
            "tickmode": "array",
            "tickvals": shots,
            "range": [shots[0] - 0.3, shots[-1] + 0.3] if shots else None,
        },
        yaxis={"title": "accuracy (%): mean and 95% interval", "range": [0, 103]},
        legend={"orientation": "h", "y": -0.22},
        hovermode="closest",
    )
    return figure
