"""Bar charts: a classifier's answer for one image, and benchmark accuracies."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import plotly.graph_objects as go

from lab.labels import plot_text
from lab.style import PALETTE, PLOT_LAYOUT, class_colour


def percent(p: float, decimals: int = 0) -> str:
    """A probability for people: the one way the app writes one, in verdicts, bars, tables
    and hover text (decimals=2 where a closer look is wanted).

    Rounded to `decimals` places, but never to a certainty the model does not have: above 0
    yet rounding to 0 reads '<1%' ('<0.01%' with 2 decimals), below 1 yet rounding to 100
    reads '>99%' ('>99.99%'). Exactly 0 and 1 read '0%' and '100%'.

    Examples: 0.923 -> '92%', 0.001 -> '<1%', 0.999993 -> '>99%' (decimals=2: '>99.99%').
    """
    value = 100.0 * float(p)
    half = 0.5 * 10.0**-decimals
    if 0 < value < half:
        return f"<{2 * half:.{decimals}f}%"
    if 100 - half <= value < 100:
        return f">{100 - 2 * half:.{decimals}f}%"
    return f"{value:.{decimals}f}%"


def _class_bars(
    class_names: Sequence[str], values: Sequence[float], what: str, **bar: Any
) -> tuple[go.Figure, np.ndarray]:
    """One horizontal bar per class, in the class's colour, first class on top.

    Args:
        class_names: N names, in the classifier's class order.
        values: (N,) one number per class.
        what: what the values are, for the error message.
        **bar: further go.Bar properties (text, hovertemplate, name...).

    Returns:
        The figure (its layout still to set) and the values as a float array.
    """
    values = np.asarray(values, dtype=float).reshape(-1)
    if len(class_names) != values.size:
        raise ValueError(f"{len(class_names)} class names but {values.size} {what}")
    names = [plot_text(str(name)) for name in class_names]  # as typed, never as HTML
    figure = go.Figure(
        go.Bar(
            x=values.tolist(),
            y=names,
            orientation="h",
            marker_color=[class_colour(i) for i in range(len(names))],
            textposition="outside",
            **bar,
        )
    )
    figure.update_layout(yaxis={"autorange": "reversed"}, showlegend=False)
    return figure, values


def probability_bars(
    class_names: Sequence[str], probabilities: Sequence[float], title: str = ""
) -> go.Figure:
    """One bar per class labelled with a rounded percent (percent); hover gives 2 decimals.

    Args:
        class_names: N names, in the classifier's class order.
        probabilities: (N,) probabilities for one image.
    """
    values = np.asarray(probabilities, dtype=float).reshape(-1)
    figure, values = _class_bars(
        class_names,
        values,
        "probabilities",
        text=[percent(p) for p in values],
        customdata=[percent(p, 2) for p in values],
        hovertemplate="%{y}: %{customdata}<extra></extra>",
        name="probability",
    )
    figure.update_layout(
        **{**PLOT_LAYOUT, "margin": {"l": 10, "r": 10, "t": 30 if title else 5, "b": 5}},
        title=title or None,
        height=max(90, 28 * len(values) + 40),
        xaxis={"range": [0, 1.3], "tickformat": ".0%", "showticklabels": False},
    )
    return figure


def benchmark_figure(
    labels: Sequence[str],
    accuracies: Sequence[float],
    ci95: Sequence[float],
    paper: Sequence[float | None],
    paper_name: str = "paper",
) -> go.Figure:
    """Our accuracy (with its 95% interval) beside the paper's number, in percent.

    Each run gets its own slot on the x axis, so two runs with the same label stand side by
    side instead of being stacked into one bar.

    Args:
        labels: one label per run, e.g. "omniglot-protonet 5w1s"; may repeat.
        accuracies, ci95: the run's mean accuracy and the half-width of its interval.
        paper: the paper's accuracy for the same setting, None where not reported.
        paper_name: the legend entry of the paper's bars, e.g. "paper, Conv-4 from scratch"
            beside a photo model, whose pretrained backbone the papers did not have.
    """
    positions = list(range(len(labels)))  # one slot per run, even for a repeated label
    figure = go.Figure()
    figure.add_bar(
        x=positions,
        y=list(accuracies),
        customdata=list(labels),
        hovertemplate="%{customdata}: %{y:.2f}%<extra>this app</extra>",
        name="this app",
        error_y={"type": "data", "array": list(ci95), "visible": True},
        marker_color=PALETTE[0],
        text=[f"{a:.1f}%" for a in accuracies],
        textposition="inside",
    )
    figure.add_bar(
        x=positions,
        y=[p if p is not None else 0 for p in paper],
        customdata=list(labels),
        hovertemplate="%{customdata}: %{text}<extra>" + paper_name + "</extra>",
        name=paper_name,
        marker_color=PALETTE[1],
        text=[f"{p:.1f}%" if p is not None else "n/a" for p in paper],
        textposition="inside",
    )
    low = min(
        [a - c for a, c in zip(accuracies, ci95, strict=True)] + [p for p in paper if p] + [100.0]
    )
    figure.update_layout(
        **PLOT_LAYOUT,
        barmode="group",
        height=320,
        title="Accuracy on the test classes (%)",
        yaxis={"range": [max(0.0, low - 10), 100.5]},
        xaxis={"tickvals": positions, "ticktext": list(labels)},
    )
    return figure
