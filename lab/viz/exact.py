"""The exact picture of the decision (lab.exact) as a plotly figure: the space through the
class centres, with the model's decision regions as background colours and its probability
contours, centres as stars, examples and images to check as points.

2 classes: the exact axis horizontally and each class's probability vertically (the points
sit on their class's curve); 3 classes: the plane, regions and 50%/90% contours; 4 classes:
3-D, with each class's 50% surface. Above 4 classes lab.exact gives a 2-D approximate
picture, drawn like the plane and titled as approximate. Data in, figure out.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go

from lab.exact import ExactSpace
from lab.labels import plot_text
from lab.style import PLOT_LAYOUT, class_colour, class_symbol, legend_height
from lab.viz.embedding import embedding_figure

REGION_OPACITY = 0.22
LEVELS = (0.5, 0.9)  # the probability contours drawn for each class


def exact_caption(space: ExactSpace) -> str:
    """One sentence that says what the picture is, and whether it is exact."""
    n = space.n_classes
    if space.exact:
        where = {1: "line", 2: "plane", 3: "3-D space"}[space.dims]
        through = (
            "through the class centres"
            if space.algorithm == "protonet"
            else "of the differences of MAML's class weights"
        )
        return (
            f"Exact: the {where} {through}. The part of each image that this picture leaves "
            "out is the same for every class, so every answer and probability read here is "
            "the model's own."
        )
    if space.distance == "euclidean":
        return (
            "Answers are exact (the nearest centre on screen is the model's), but with the "
            "plain Euclidean distance the probabilities also depend on how far an image is "
            "from this space: they are drawn for images on it."
        )
    return (
        f"Approximate: {n} classes span {space.basis.shape[0]} dimensions, more than a "
        "picture shows; this is a 2-D PCA inside that space, so the regions are a slice "
        "and a point may sit in a region that is not its answer."
    )


def _names(class_names: Sequence[str]) -> list[str]:
    return [plot_text(name) for name in class_names]


def _region_colours(n: int) -> list[list]:
    """A stepped colour scale: class k's colour for values k - 0.5 .. k + 0.5."""
    scale = []
    for k in range(n):
        scale += [[k / n, class_colour(k)], [(k + 1) / n, class_colour(k)]]
    return scale


def _plane_background(space: ExactSpace, xy: np.ndarray, names: list[str]) -> list:
    """Heatmap of the answer at every place, and each class's probability contours."""
    axes, _, proba = space.grid(xy, steps=120)
    shape = (len(axes[1]), len(axes[0]))
    n = space.n_classes
    traces: list = [
        go.Heatmap(
            x=axes[0],
            y=axes[1],
            z=proba.argmax(1).reshape(shape),
            zmin=-0.5,
            zmax=n - 0.5,
            colorscale=_region_colours(n),
            opacity=REGION_OPACITY,
            showscale=False,
            hoverinfo="skip",
            name="decision regions",
        )
    ]
    for k in range(n):
        traces.append(
            go.Contour(
                x=axes[0],
                y=axes[1],
                z=proba[:, k].reshape(shape),
                contours={
                    "coloring": "lines",
                    "start": LEVELS[0],
                    "end": LEVELS[-1],
                    "size": LEVELS[-1] - LEVELS[0],
                    "showlabels": True,
                    "labelfont": {"size": 10, "color": class_colour(k)},
                    "labelformat": ".0%",
                },
                colorscale=[[0, class_colour(k)], [1, class_colour(k)]],
                line={"width": 1.5, "dash": "dot"},
                showscale=False,
                hoverinfo="skip",
                name=f"{names[k]}: 50% and 90% lines",
                showlegend=False,
            )
        )
    return traces


def exact_figure(
    space: ExactSpace,
    class_names: Sequence[str],
    support_xy: np.ndarray,
    support_labels: Sequence[int],
    centre_xy: np.ndarray,
    query_xy: np.ndarray | None = None,
    query_predictions: Sequence[int] | None = None,
    support_names: Sequence[str] | None = None,
    query_names: Sequence[str] | None = None,
    centre_name: str = "centre",
) -> go.Figure:
    """The picture of lab.exact's space: positions from space.place, centres (N, dims).

    Every point's customdata is [kind, index] as in lab.viz.embedding ("support",
    "prototype", "query"), so a selection maps back to its image.
    """
    support_xy = np.asarray(support_xy, dtype=float).reshape(-1, space.dims)
    centre_xy = np.asarray(centre_xy, dtype=float).reshape(-1, space.dims)
    query_xy = (
        np.zeros((0, space.dims))
        if query_xy is None
        else np.asarray(query_xy, dtype=float).reshape(-1, space.dims)
    )
    everything = np.concatenate([support_xy, centre_xy, query_xy])
    names = _names(class_names)
    title = "Exact" if space.exact else "Approximate"
    if space.dims == 3:
        return _figure_3d(
            space, names, support_xy, support_labels, centre_xy, query_xy, query_predictions,
            everything, title,
        )  # fmt: skip
    common = {
        "support_labels": support_labels,
        "query_predictions": query_predictions,
        "support_names": support_names,
        "query_names": query_names,
        "lines_to_prototypes": False,
        "centres_label": "class centres" if space.algorithm == "protonet" else "class means",
        "centre_name": centre_name,
    }
    if space.dims == 1:
        return _figure_1d(space, class_names, names, support_xy, centre_xy, query_xy, common)
    figure = embedding_figure(
        class_names, support_xy, prototype_xy=centre_xy, query_xy=query_xy, **common
    )
    background = _plane_background(space, everything, names)
    figure.add_traces(background)
    figure.data = figure.data[-len(background) :] + figure.data[: -len(background)]  # under
    figure.update_layout(
        title={"text": f"{title}: the model's decision regions, and its 50% and 90% lines"},
        xaxis={"showgrid": False},
        yaxis={"showgrid": False},
        plot_bgcolor="white",
    )
    return figure


def _figure_1d(space, class_names, names, support_xy, centre_xy, query_xy, common) -> go.Figure:
    """2 classes: the exact axis across, each class's probability up; every point on the
    curve of its class (examples) or of its answer (images to check)."""
    axes, points, proba = space.grid(np.concatenate([support_xy, centre_xy, query_xy]), 300)
    axis = axes[0]
    labels = np.asarray(list(common["support_labels"]), dtype=int)
    support_y = space.proba_at(support_xy)[np.arange(len(labels)), labels]
    centre_p = space.proba_at(centre_xy)
    centre_y = centre_p[np.arange(len(centre_xy)), np.arange(len(centre_xy))]
    query_p = space.proba_at(query_xy)
    predictions = common["query_predictions"]
    if predictions is None:
        predictions = query_p.argmax(1).tolist()
    query_y = query_p[np.arange(len(query_xy)), np.asarray(predictions, dtype=int)]
    figure = embedding_figure(
        class_names,
        np.stack([support_xy[:, 0], support_y], 1),
        prototype_xy=np.stack([centre_xy[:, 0], centre_y], 1),
        query_xy=np.stack([query_xy[:, 0], query_y], 1) if len(query_xy) else None,
        **{**common, "query_predictions": predictions},
    )
    background = [
        go.Heatmap(
            x=axis,
            y=[0.5],
            z=[proba.argmax(1)],
            zmin=-0.5,
            zmax=1.5,
            colorscale=_region_colours(2),
            opacity=REGION_OPACITY,
            showscale=False,
            hoverinfo="skip",
        )
    ]
    background += [
        go.Scatter(
            x=axis,
            y=proba[:, k],
            mode="lines",
            line={"color": class_colour(k), "width": 2},
            name=f"probability of {names[k]}",
            hoverinfo="skip",
        )
        for k in range(2)
    ]
    figure.add_traces(background)
    figure.data = figure.data[-3:] + figure.data[:-3]
    figure.update_layout(
        title={"text": "Exact: the line through the two class centres, and each probability"},
        xaxis={"title": "place on the line through the centres", "showgrid": False},
        yaxis={
            "showticklabels": True,
            "tickformat": ".0%",
            "range": [-0.04, 1.06],
            "title": "probability",
            "scaleanchor": None,
        },
        plot_bgcolor="white",
    )
    return figure


def _figure_3d(
    space, names, support_xy, support_labels, centre_xy, query_xy, predictions, everything, title
) -> go.Figure:
    """4 classes: the 3-D space, each class's 50% surface (where it wins by half)."""
    figure = go.Figure()
    axes, points, proba = space.grid(everything, steps=22)
    for k, name in enumerate(names):
        figure.add_isosurface(
            x=points[:, 0],
            y=points[:, 1],
            z=points[:, 2],
            value=proba[:, k],
            isomin=LEVELS[0],
            isomax=1.0,
            surface={"count": 1},
            caps={"x": {"show": False}, "y": {"show": False}, "z": {"show": False}},
            colorscale=[[0, class_colour(k)], [1, class_colour(k)]],
            opacity=0.18,
            showscale=False,
            hoverinfo="skip",
            name=f"{name}: above 50%",
            showlegend=True,
        )
    labels = np.asarray(list(support_labels), dtype=int)
    for k, name in enumerate(names):
        idx = np.flatnonzero(labels == k)
        figure.add_scatter3d(
            x=support_xy[idx, 0], y=support_xy[idx, 1], z=support_xy[idx, 2],
            mode="markers", name=f"{name} (examples)",
            customdata=[["support", int(i)] for i in idx],
            marker={"symbol": class_symbol(k), "size": 5, "color": class_colour(k)},
        )  # fmt: skip
    figure.add_scatter3d(
        x=centre_xy[:, 0], y=centre_xy[:, 1], z=centre_xy[:, 2], mode="markers",
        name="class centres" if space.algorithm == "protonet" else "class means",
        customdata=[["prototype", k] for k in range(len(centre_xy))],
        marker={"symbol": "diamond-open", "size": 12,
                "color": [class_colour(k) for k in range(len(centre_xy))]},
    )  # fmt: skip
    if len(query_xy):
        answers = list(predictions) if predictions is not None else space.answer_at(query_xy)
        figure.add_scatter3d(
            x=query_xy[:, 0], y=query_xy[:, 1], z=query_xy[:, 2], mode="markers",
            name="images to check (colour: the answer)",
            customdata=[["query", i] for i in range(len(query_xy))],
            marker={"symbol": "x", "size": 6, "color": [class_colour(int(k)) for k in answers]},
        )  # fmt: skip
    blank = {"showticklabels": False, "title": ""}
    figure.update_layout(
        **PLOT_LAYOUT,
        title={"text": f"{title}: the 3-D space through the centres, each class's 50% surface"},
        height=560 + legend_height(len(names) * 2 + 2),
        scene={"xaxis": blank, "yaxis": blank, "zaxis": blank, "aspectmode": "data"},
        legend={"orientation": "h", "y": -0.05},
    )
    return figure
