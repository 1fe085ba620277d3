"""Figures for checking a classifier on images of known class (lab.check): accuracy per
class, and the confusion matrix in the class colours."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go

from lab.labels import plot_text
from lab.style import PLOT_LAYOUT, class_colour
from lab.viz.bars import _class_bars, percent

WHITE = (255, 255, 255)


def accuracy_bars(
    class_names: Sequence[str], right: Sequence[int], images: Sequence[int]
) -> go.Figure:
    """One bar per true class in its colour: the share of its check images answered with it,
    labelled "50% (1 of 2)"; "no images" for a class without check images.

    Args:
        class_names: C names, in the classifier's class order.
        right: (C,) images of each class answered with that class.
        images: (C,) check images of each class.
    """
    if not len(right) == len(images) == len(class_names):
        raise ValueError(
            f"{len(class_names)} class names, {len(right)} counts right, {len(images)} counts"
        )
    accuracies = [r / n if n else 0.0 for r, n in zip(right, images, strict=True)]
    labels = [
        f"{percent(a)} ({r} of {n})" if n else "no images"
        for a, r, n in zip(accuracies, right, images, strict=True)
    ]
    figure, values = _class_bars(
        class_names,
        accuracies,
        "accuracies",
        text=labels,
        customdata=labels,
        hovertemplate="%{y}: %{customdata}<extra>accuracy</extra>",
        name="accuracy",
    )
    figure.update_layout(
        **{**PLOT_LAYOUT, "margin": {"l": 10, "r": 10, "t": 40, "b": 5}},
        title="Accuracy per true class",
        height=max(120, 32 * len(values) + 60),
        xaxis={"range": [0, 1.45], "tickformat": ".0%", "tickvals": [0, 0.5, 1]},
    )
    return figure


def _rgb(colour: str) -> tuple[int, int, int]:
    value = colour.lstrip("#")
    return int(value[0:2], 16), int(value[2:4], 16), int(value[4:6], 16)


def _blend(colour: str, share: float) -> tuple[float, float, float]:
    """The colour at `share` of the way from white to `colour`."""
    return tuple(w + share * (c - w) for w, c in zip(WHITE, _rgb(colour), strict=True))


def _is_dark(rgb: tuple[float, float, float]) -> bool:
    """Whether white text reads better than black on this colour (WCAG relative luminance)."""

    def channel(value: float) -> float:
        value /= 255
        return value / 12.92 if value <= 0.03928 else ((value + 0.055) / 1.055) ** 2.4

    red, green, blue = (channel(v) for v in rgb)
    return 0.2126 * red + 0.7152 * green + 0.0722 * blue < 0.18


def class_tick(index: int, name: str) -> str:
    """An axis label: a dot in the class's colour, then the name as typed (the name carries
    the meaning; the colour only repeats it)."""
    return f'<span style="color:{class_colour(index)}">●</span> {plot_text(name)}'


def confusion_figure(
    class_names: Sequence[str],
    confusion: np.ndarray,
    selected: tuple[int, int] | None = None,
) -> go.Figure:
    """The confusion matrix: a row per true class, a column per answered (predicted) class.

    Each row is a heatmap from white to its class's colour, so a cell's shade is the share of
    that true class's images answered with the column's class: a good classifier draws a
    dark diagonal. The count is written in every cell that holds images.

    For clicks, an invisible square marker sits on every cell (Plotly cannot select a
    heatmap's cells: in Streamlit 1.67 a click on a heatmap reports no points): the last
    trace, named "cells", its point t * C + p at x = p, y = t for cell (t, p), with
    customdata [t, p, count]. Streamlit's on_select reports the marker that was clicked.

    Args:
        class_names: C names, in the classifier's class order.
        confusion: (C, C) counts, rows true, columns answered (lab.check.CheckResult).
        selected: (true, answered) of the cell to outline, if one is chosen.
    """
    confusion = np.asarray(confusion, dtype=int)
    size = len(class_names)
    if confusion.shape != (size, size):
        raise ValueError(f"{size} class names but a confusion matrix of shape {confusion.shape}")
    names = [plot_text(str(name)) for name in class_names]
    positions = list(range(size))
    totals = confusion.sum(1)
    shares = np.divide(confusion, np.maximum(totals, 1)[:, None])
    figure = go.Figure()
    for t in positions:
        figure.add_heatmap(
            x=positions,
            y=[t],
            z=[shares[t].tolist()],
            zmin=0,
            zmax=1,
            colorscale=[[0, "#FFFFFF"], [1, class_colour(t)]],
            showscale=False,
            hoverinfo="skip",
            xgap=2,
            ygap=2,
            name=f"true {names[t]}",
        )
    cells = [(t, p) for t in positions for p in positions]
    figure.add_scatter(
        x=[p for _, p in cells],
        y=[t for t, _ in cells],
        mode="markers+text",
        text=[str(confusion[t, p]) if confusion[t, p] else "" for t, p in cells],
        textfont={
            "size": 15,
            "color": [
                "#FFFFFF" if _is_dark(_blend(class_colour(t), shares[t, p])) else "#000000"
                for t, p in cells
            ],
        },
        marker={"symbol": "square", "size": 28, "color": "rgba(0,0,0,0)"},
        selected={"marker": {"opacity": 0}, "textfont": {"color": "#000000"}},
        unselected={"marker": {"opacity": 0}},
        customdata=[[t, p, int(confusion[t, p])] for t, p in cells],
        hovertext=[
            f"true {names[t]}, answered {names[p]}: {confusion[t, p]} image(s)"
            + (f" ({percent(shares[t, p])} of {names[t]})" if totals[t] else "")
            + ("<br>click to see them" if confusion[t, p] else "")
            for t, p in cells
        ],
        hovertemplate="%{hovertext}<extra></extra>",
        name="cells",
        showlegend=False,
    )
    if selected is not None:
        t, p = selected
        figure.add_shape(
            type="rect",
            x0=p - 0.5,
            x1=p + 0.5,
            y0=t - 0.5,
            y1=t + 0.5,
            line={"color": "#000000", "width": 3},
        )
    ticks = [class_tick(i, name) for i, name in enumerate(class_names)]
    axis = {
        "tickvals": positions,
        "ticktext": ticks,
        "tickfont": {"size": 13, "color": "#222222"},
        "showgrid": False,
        "zeroline": False,
    }
    figure.update_layout(
        **{**PLOT_LAYOUT, "margin": {"l": 10, "r": 10, "t": 40, "b": 10}},
        title="Confusion matrix: click a cell to see its images",
        height=max(260, 46 * size + 150),
        xaxis={
            **axis,
            "title": "answered (predicted) class",
            "range": [-0.5, size - 0.5],
            "fixedrange": True,
        },
        yaxis={
            **axis,
            "title": "true class",
            "range": [size - 0.5, -0.5],  # first class on top
            "fixedrange": True,
        },
        plot_bgcolor="#E5E5E5",  # shows between the cells (xgap, ygap): the grid
        hoverdistance=-1,  # a click anywhere in a cell picks that cell's marker
        showlegend=False,
    )
    return figure
