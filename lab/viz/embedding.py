"""Embedding-space pictures: support images, class centres and queries in 2-D.

Support examples are circles, class centres (prototypes) large stars, queries diamonds
outlined in the predicted class's colour; every trace is named, so nothing relies on colour
alone. The 2-D positions come from lab.embedding.project_together.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import plotly.graph_objects as go

from lab.labels import plot_text
from lab.style import PLOT_LAYOUT, class_colour, class_symbol, legend_height


def _add_points(
    figure: go.Figure,
    xy: np.ndarray,
    kind: tuple[str, str],
    indices: Iterable[int],
    text: list[str],
    **scatter: Any,
) -> None:
    """Add (M, 2) points as markers whose customdata is [kind, index] and whose hover shows
    `text` (one per point) and kind[1] (the kind in words)."""
    figure.add_scatter(
        x=xy[:, 0].tolist(),
        y=xy[:, 1].tolist(),
        mode="markers",
        customdata=[[kind[0], int(i)] for i in indices],
        text=text,
        hovertemplate=f"%{{text}}<extra>{kind[1]}</extra>",
        **scatter,
    )


def embedding_figure(
    class_names: Sequence[str],
    support_xy: np.ndarray,
    support_labels: Sequence[int],
    prototype_xy: np.ndarray | None = None,
    query_xy: np.ndarray | None = None,
    query_predictions: Sequence[int] | None = None,
    support_names: Sequence[str] | None = None,
    query_names: Sequence[str] | None = None,
    title: str = "",
    lines_to_prototypes: bool = True,
    centres_label: str = "class centres (prototypes)",
    centre_name: str = "centre",
) -> go.Figure:
    """Support images (circles), class centres (stars) and queries (diamonds) in 2-D.

    Args:
        support_xy: (S, 2); support_labels: (S,) class indices.
        prototype_xy: (N, 2), row k the centre of class k.
        query_xy: (Q, 2); query_predictions: (Q,) predicted class indices.
        lines_to_prototypes: draw a dotted line from each query to its predicted class's
            centre (with one legend entry for them all).
        centres_label: the stars' legend entry; centre_name: a star in words ("centre";
            MAML's stars are class means, not prototypes).
    Every point's customdata is [kind, index] ("support" / "prototype" / "query"), so a
    selection can be mapped back to the image.
    """
    support_xy = np.asarray(support_xy, dtype=float).reshape(-1, 2)
    labels = np.asarray(list(support_labels), dtype=int)
    if labels.size != support_xy.shape[0]:
        raise ValueError(f"{support_xy.shape[0]} support points but {labels.size} labels")
    # User text (class and file names) is shown as typed: Plotly would read HTML in it.
    class_names = [plot_text(name) for name in class_names]
    support_names = [
        plot_text(name) for name in support_names or [f"image {i + 1}" for i in range(len(labels))]
    ]
    query_names = None if query_names is None else [plot_text(name) for name in query_names]
    figure = go.Figure()
    if prototype_xy is not None:
        prototype_xy = np.asarray(prototype_xy, dtype=float).reshape(-1, 2)
        if lines_to_prototypes and query_xy is not None and query_predictions is not None:
            query_xy_arr = np.asarray(query_xy, dtype=float).reshape(-1, 2)
            for q, k in enumerate(query_predictions):
                # The first line stands in the legend for all of them (each is drawn in its
                # predicted class's colour).
                figure.add_scatter(
                    x=[query_xy_arr[q, 0], prototype_xy[k, 0]],
                    y=[query_xy_arr[q, 1], prototype_xy[k, 1]],
                    mode="lines",
                    line={"color": class_colour(int(k)), "dash": "dot", "width": 1.5},
                    name=f"dotted: query → nearest {centre_name}",
                    showlegend=q == 0,
                    hoverinfo="skip",
                    legendgroup="query lines" if q == 0 else str(k),
                )
        _add_points(
            figure,
            prototype_xy,
            ("prototype", "prototype"),
            range(len(prototype_xy)),
            [f"{centre_name} of {name}" for name in class_names],
            name=centres_label,
            marker={
                "symbol": "star",
                "size": 26,
                "opacity": 0.9,
                "color": [class_colour(k) for k in range(len(prototype_xy))],
                "line": {"color": "black", "width": 1.5},
            },
        )
    # Examples are drawn over the class centres: a centre sits among its examples.
    for k, name in enumerate(class_names):
        idx = np.flatnonzero(labels == k)
        _add_points(
            figure,
            support_xy[idx],
            ("support", "example"),
            idx,
            [f"{name}: {support_names[i]}" for i in idx],
            name=f"{name} (examples)",
            legendgroup=str(k),
            marker={
                "symbol": class_symbol(k),
                "size": 9,
                "color": class_colour(k),
                "line": {"color": "white", "width": 1},
            },
        )
    if query_xy is not None and len(query_xy):
        query_xy = np.asarray(query_xy, dtype=float).reshape(-1, 2)
        predictions = list(query_predictions or [None] * len(query_xy))
        query_names = list(query_names or [f"query {i + 1}" for i in range(len(query_xy))])
        text = [
            f"{query_names[i]} → {class_names[int(k)]}" if k is not None else query_names[i]
            for i, k in enumerate(predictions)
        ]
        predicted = sorted({int(k) for k in predictions if k is not None})
        diamond = {"symbol": "diamond", "size": 15, "color": "#F4F4F4"}
        outline = [class_colour(int(k)) if k is not None else "black" for k in predictions]
        _add_points(
            figure,
            query_xy,
            ("query", "query"),
            range(len(query_xy)),
            text,
            name="images to check (queries)",
            # With predictions the legend has one diamond per predicted class instead.
            showlegend=not predicted,
            marker={**diamond, "line": {"color": outline, "width": 3}},
        )
        for k in predicted:
            figure.add_scatter(
                x=[None],
                y=[None],
                mode="markers",
                name=f"images to check → {class_names[k]} (queries)",
                marker={**diamond, "line": {"color": class_colour(k), "width": 3}},
                hoverinfo="skip",
            )
    figure.update_layout(
        **PLOT_LAYOUT,
        title=title or None,
        height=430 + legend_height(2 * len(class_names) + 1),
        xaxis={"showticklabels": False, "zeroline": False, "title": None},
        yaxis={"showticklabels": False, "zeroline": False, "title": None, "scaleanchor": "x"},
        legend={"orientation": "h", "y": -0.05},
        uirevision="embedding",
    )
    return figure


def embedding_steps_figure(
    class_names: Sequence[str],
    support_xy: np.ndarray,
    support_labels: Sequence[int],
    query_xy: np.ndarray | None = None,
    query_predictions: np.ndarray | None = None,
    step: int | None = None,
    controls: bool = True,
) -> go.Figure:
    """How the embeddings move during MAML's inner loop, as an animation.

    With controls=False the figure shows `step` only, without frames, Play button or
    slider (for a page whose own slider picks the step): the other steps' traces are then
    never built.

    Args:
        support_xy: (T, S, 2) support points at each of the T recorded steps, all projected
            together so that positions are comparable between steps.
        query_xy: (T, Q, 2); query_predictions: (T, Q) predicted class per step.
        step: the frame shown first (default: the last). A play button runs all frames, and
            faint lines show the path of each point from step 0.
    """
    support_xy = np.asarray(support_xy, dtype=float)
    n_steps = support_xy.shape[0]
    if n_steps == 0:
        raise ValueError("need at least one recorded step")
    step = n_steps - 1 if step is None else int(np.clip(step, 0, n_steps - 1))
    labels = list(support_labels)

    def frame_traces(t: int) -> list[go.Scatter]:
        preds = None if query_predictions is None else np.asarray(query_predictions)[t]
        base = embedding_figure(
            class_names,
            support_xy[t],
            labels,
            query_xy=None if query_xy is None else np.asarray(query_xy)[t],
            query_predictions=None if preds is None else preds.tolist(),
        )
        return list(base.data)

    figure = go.Figure()
    # Paths from step 0 to the last step, drawn once under the moving points.
    paths = [support_xy]
    if query_xy is not None:
        paths.append(np.asarray(query_xy, dtype=float))
    for block in paths:
        for i in range(block.shape[1]):
            figure.add_scatter(
                x=block[:, i, 0].tolist(),
                y=block[:, i, 1].tolist(),
                mode="lines",
                line={"color": "#CCCCCC", "width": 1},
                showlegend=False,
                hoverinfo="skip",
            )
    n_paths = len(figure.data)
    for trace in frame_traces(step):
        figure.add_trace(trace)
    figure.update_layout(
        **{**PLOT_LAYOUT, "margin": {"l": 10, "r": 10, "t": 60, "b": 10}},
        # The legend goes below the plot and the chart grows with it: above, 20 classes'
        # entries covered the title and half the plot (issue 31).
        height=500 + legend_height(2 * len(class_names) + 1),
        title={
            "text": f"Embeddings at inner step {step} (grey lines: the path from step 0)",
            "y": 0.97,
        },
        xaxis={"showticklabels": False, "zeroline": False},
        yaxis={"showticklabels": False, "zeroline": False, "scaleanchor": "x"},
        legend={"orientation": "h", "y": -0.02, "yanchor": "top", "x": 0},
    )
    if not controls:
        return figure
    moving = list(range(n_paths, len(figure.data)))
    figure.frames = [
        go.Frame(data=frame_traces(t), traces=moving, name=str(t)) for t in range(n_steps)
    ]
    slider_steps = [
        {
            "label": str(t),
            "method": "animate",
            "args": [[str(t)], {"mode": "immediate", "frame": {"duration": 0, "redraw": True}}],
        }
        for t in range(n_steps)
    ]
    figure.update_layout(
        updatemenus=[
            {
                "type": "buttons",
                "showactive": False,
                "x": 1,
                "y": 1.1,
                "xanchor": "right",
                "buttons": [
                    {
                        "label": "▶ Play",
                        "method": "animate",
                        "args": [
                            None,
                            {
                                "frame": {"duration": 600, "redraw": True},
                                "fromcurrent": False,
                                "transition": {"duration": 300},
                            },
                        ],
                    }
                ],
            }
        ],
        sliders=[
            {"active": step, "steps": slider_steps, "currentvalue": {"prefix": "step "}, "y": -0.02}
        ],
    )
    return figure
