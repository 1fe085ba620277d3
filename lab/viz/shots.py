"""Accuracy against examples per class (lab.shots): one line per learner, with 95% intervals."""

from __future__ import annotations

from collections.abc import Sequence

import plotly.graph_objects as go

from lab.shots import ShotCurve
from lab.style import PALETTE, PLOT_LAYOUT

DODGE = 0.08  # shots between two learners' points at the same shot count
SYMBOLS = ("circle", "square", "diamond")  # learners differ in shape too, not colour alone
TITLE = "Accuracy on the held-out images (plain: share of all of them right), by examples per class"


def shots_figure(curves: Sequence[ShotCurve], n_classes: int) -> go.Figure:
    """Mean accuracy (%) against shots with error bars for its 95% interval, and the random-guess
    level (1 in N: a uniform guess scores that on any set of queries).

    Args:
        curves: one per learner, colours in the order given (PALETTE).
        n_classes: N, for the random-guess line.
    """
    figure = go.Figure()
    shots = sorted({p.shots for curve in curves for p in curve.points})
    for index, curve in enumerate(curves):
        colour = PALETTE[index % len(PALETTE)]
        # Each learner a little to the side, so that equal points (all 100%) stay visible.
        offset = DODGE * (index - (len(curves) - 1) / 2)
        mean = [100 * p.mean for p in curve.points]
        half = [0.0 if p.ci95 != p.ci95 else 100 * p.ci95 for p in curve.points]  # nan: 0
        figure.add_scatter(
            x=[p.shots + offset for p in curve.points],
            y=mean,
            mode="lines+markers",
            name=curve.name,
            line={"color": colour, "width": 2.5},
            marker={"size": 9, "color": colour, "symbol": SYMBOLS[index % len(SYMBOLS)]},
            error_y={  # the interval, cut at 0% and 100% where it would pass them
                "type": "data",
                "symmetric": False,
                "array": [min(h, 100 - m) for m, h in zip(mean, half, strict=True)],
                "arrayminus": [min(h, m) for m, h in zip(mean, half, strict=True)],
                "visible": True,
                "color": colour,
                "thickness": 1.5,
                "width": 5,
            },
            customdata=[
                [p.shots, h, len(p.accuracies), p.queries]
                for h, p in zip(half, curve.points, strict=True)
            ],
            hovertemplate=(
                f"{curve.name}, %{{customdata[0]}} per class: %{{y:.1f}}% "
                "± %{customdata[1]:.1f} (95% interval over %{customdata[2]} splits, "
                "%{customdata[3]} images scored in each)<extra></extra>"
            ),
        )
    if shots:
        figure.add_scatter(
            x=[shots[0] - 0.4, shots[-1] + 0.4],
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
            "range": [shots[0] - 0.4, shots[-1] + 0.4] if shots else None,
        },
        yaxis={"title": "accuracy (%): mean and 95% interval", "range": [0, 104]},
        legend={"orientation": "h", "y": -0.22},
        hovermode="closest",
    )
    return figure
