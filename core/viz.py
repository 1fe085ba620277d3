"""Plotly figures for the app's pages: data in, figure out.

Visual language (docs UX.md), the same on every page: one Okabe-Ito colour per class
(Okabe & Ito 2008, colour-blind safe), support examples as circles, class centres
(prototypes) as large stars, queries as diamonds outlined in the predicted class's colour.
Every trace is named, so nothing relies on colour alone. No streamlit here; the only
computation is the 2-D projection of embeddings (PCA or t-SNE) that the plots need.
"""

from __future__ import annotations

import base64
import io
from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go
from PIL import Image
from plotly.subplots import make_subplots

# Okabe-Ito, ordered so that the first classes get the most distinct colours. With more
# than eight classes the colours repeat; names in legends and hover keep classes apart.
PALETTE: tuple[str, ...] = (
    "#0072B2",  # blue
    "#E69F00",  # orange
    "#009E73",  # bluish green
    "#D55E00",  # vermillion
    "#CC79A7",  # reddish purple
    "#56B4E9",  # sky blue
    "#F0E442",  # yellow
    "#000000",  # black
)
NEUTRAL = "#BBBBBB"
_LAYOUT = {"template": "plotly_white", "margin": {"l": 10, "r": 10, "t": 40, "b": 10}}
PROJECTIONS = ("pca", "tsne")


def class_colour(index: int) -> str:
    """The colour of class `index` (0-based) on every page."""
    return PALETTE[index % len(PALETTE)]


def percent(p: float) -> str:
    """A probability for people: 0.923 -> '92%', tiny values -> '<1%'."""
    if 0 < p < 0.005:
        return "<1%"
    if 0.995 < p < 1:
        return ">99%"
    return f"{p:.0%}"


# --- probabilities and distances -----------------------------------------------------------


def probability_bars(
    class_names: Sequence[str], probabilities: Sequence[float], title: str = ""
) -> go.Figure:
    """One horizontal bar per class, in the class's colour, labelled with a rounded percent.

    Args:
        class_names: N names, in the classifier's class order.
        probabilities: (N,) probabilities for one image.
    """
    probabilities = np.asarray(probabilities, dtype=float).reshape(-1)
    if len(class_names) != probabilities.size:
        raise ValueError(f"{len(class_names)} class names but {probabilities.size} probabilities")
    names = [str(name) for name in class_names]
    figure = go.Figure(
        go.Bar(
            x=probabilities.tolist(),
            y=names,
            orientation="h",
            marker_color=[class_colour(i) for i in range(len(names))],
            text=[percent(p) for p in probabilities],
            textposition="outside",
            customdata=probabilities.tolist(),
            hovertemplate="%{y}: %{customdata:.4f}<extra></extra>",
            name="probability",
        )
    )
    figure.update_layout(
        **{**_LAYOUT, "margin": {"l": 10, "r": 10, "t": 30 if title else 5, "b": 5}},
        title=title or None,
        height=max(90, 28 * len(names) + 40),
        xaxis={"range": [0, 1.3], "tickformat": ".0%", "showticklabels": False},
        yaxis={"autorange": "reversed"},
        showlegend=False,
    )
    return figure


def distance_bars(
    class_names: Sequence[str], distances: Sequence[float], distance_name: str
) -> go.Figure:
    """Distance from one image to each class centre (prototype); shorter bar = closer."""
    distances = np.asarray(distances, dtype=float).reshape(-1)
    if len(class_names) != distances.size:
        raise ValueError(f"{len(class_names)} class names but {distances.size} distances")
    names = [str(name) for name in class_names]
    figure = go.Figure(
        go.Bar(
            x=distances.tolist(),
            y=names,
            orientation="h",
            marker_color=[class_colour(i) for i in range(len(names))],
            text=[f"{d:.3g}" for d in distances],
            textposition="outside",
            hovertemplate="%{y}: %{x:.6g}<extra></extra>",
            name=distance_name,
        )
    )
    figure.update_layout(
        **{**_LAYOUT, "margin": {"l": 10, "r": 40, "t": 30, "b": 5}},
        title="Distance to each class centre (prototype)",
        height=max(110, 28 * len(names) + 60),
        xaxis={
            "range": [0, 1.25 * max(float(distances.max(initial=0.0)), 1e-9)],
            "title": {"text": distance_name.replace("_", " "), "font": {"size": 11}},
        },
        yaxis={"autorange": "reversed"},
        showlegend=False,
    )
    return figure


# --- MAML's inner loop ---------------------------------------------------------------------


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
        query_probabilities: (T, N) probabilities of one query image at each recorded step.
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
        x=steps, y=list(support_losses), mode="lines+markers", name="loss",
        line={"color": "#0072B2", "width": 3}, row=1, col=1, secondary_y=False,
    )  # fmt: skip
    figure.add_scatter(
        x=steps, y=list(support_accuracies), mode="lines+markers", name="accuracy",
        line={"color": "#E69F00", "width": 3, "dash": "dash"}, marker={"symbol": "square"},
        row=1, col=1, secondary_y=True,
    )  # fmt: skip
    end = total_steps if total_steps is not None else (max(steps) if steps else 1)
    figure.update_xaxes(
        title_text="inner step", range=[-0.5, end + 0.5], dtick=1 if end <= 20 else None,
        row=1, col=1,
    )  # fmt: skip
    figure.update_yaxes(title_text="loss", rangemode="tozero", row=1, col=1, secondary_y=False)
    figure.update_yaxes(
        title_text="accuracy", range=[0, 1.05], tickformat=".0%", row=1, col=1, secondary_y=True
    )
    if has_query:
        probabilities = np.asarray(query_probabilities, dtype=float)
        for k, name in enumerate(class_names):
            figure.add_bar(
                x=steps, y=probabilities[:, k].tolist(), name=str(name),
                marker_color=class_colour(k), row=1, col=2,
                hovertemplate=f"{name}: " + "%{y:.3f}<extra>step %{x}</extra>",
            )  # fmt: skip
        figure.update_layout(barmode="stack")
        figure.update_xaxes(title_text="inner step", range=[-0.5, end + 0.5], row=1, col=2)
        figure.update_yaxes(range=[0, 1], tickformat=".0%", row=1, col=2)
    if current_step is not None:
        figure.add_vline(x=current_step, line={"color": "#777777", "dash": "dot"})
    figure.update_layout(
        **_LAYOUT, height=330, legend={"orientation": "h", "y": -0.2}, uirevision="inner"
    )
    return figure


# --- embeddings ----------------------------------------------------------------------------


def project_2d(points: np.ndarray, method: str = "pca", seed: int = 0) -> np.ndarray:
    """(M, D) -> (M, 2) for plotting. PCA is deterministic and stable between reruns;
    t-SNE (van der Maaten & Hinton 2008) keeps neighbours but distorts distances more.

    Few points are handled: one point goes to the origin, and a missing second component
    is filled with zeros.
    """
    if method not in PROJECTIONS:
        raise ValueError(f"unknown projection {method!r}; expected one of {PROJECTIONS}")
    points = np.asarray(points, dtype=np.float64)
    if points.ndim != 2:
        raise ValueError(f"expected (M, D) points, got shape {points.shape}")
    m = points.shape[0]
    out = np.zeros((m, 2))
    if m < 2:
        return out
    if method == "tsne" and m >= 4:
        from sklearn.manifold import TSNE

        perplexity = float(min(30.0, max(1.0, (m - 1) / 3)))
        out = TSNE(2, perplexity=perplexity, init="pca", random_state=seed).fit_transform(points)
        return np.asarray(out, dtype=np.float64)
    centred = points - points.mean(0)
    _, _, vt = np.linalg.svd(centred, full_matrices=False)
    components = vt[:2]
    # Fix the sign of each axis (largest loading positive) so the picture does not flip.
    signs = np.sign(components[np.arange(len(components)), np.abs(components).argmax(1)])
    components = components * np.where(signs == 0, 1.0, signs)[:, None]
    projected = centred @ components.T
    out[:, : projected.shape[1]] = projected
    return out


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
) -> go.Figure:
    """Support images (circles), class centres (stars) and queries (diamonds) in 2-D.

    Args:
        support_xy: (S, 2); support_labels: (S,) class indices.
        prototype_xy: (N, 2), row k the centre of class k.
        query_xy: (Q, 2); query_predictions: (Q,) predicted class indices.
        lines_to_prototypes: draw a dotted line from each query to its predicted class's
            centre.
    Every point's customdata is [kind, index] ("support" / "prototype" / "query"), so a
    selection can be mapped back to the image.
    """
    support_xy = np.asarray(support_xy, dtype=float).reshape(-1, 2)
    labels = np.asarray(list(support_labels), dtype=int)
    if labels.size != support_xy.shape[0]:
        raise ValueError(f"{support_xy.shape[0]} support points but {labels.size} labels")
    support_names = list(support_names or [f"image {i + 1}" for i in range(len(labels))])
    figure = go.Figure()
    if prototype_xy is not None:
        prototype_xy = np.asarray(prototype_xy, dtype=float).reshape(-1, 2)
        if lines_to_prototypes and query_xy is not None and query_predictions is not None:
            query_xy_arr = np.asarray(query_xy, dtype=float).reshape(-1, 2)
            for q, k in enumerate(query_predictions):
                figure.add_scatter(
                    x=[query_xy_arr[q, 0], prototype_xy[k, 0]],
                    y=[query_xy_arr[q, 1], prototype_xy[k, 1]], mode="lines",
                    line={"color": class_colour(int(k)), "dash": "dot", "width": 1.5},
                    showlegend=False, hoverinfo="skip", legendgroup=str(k),
                )  # fmt: skip
        figure.add_scatter(
            x=prototype_xy[:, 0].tolist(), y=prototype_xy[:, 1].tolist(), mode="markers",
            name="class centres (prototypes)",
            marker={"symbol": "star", "size": 26, "opacity": 0.9,
                    "color": [class_colour(k) for k in range(len(prototype_xy))],
                    "line": {"color": "black", "width": 1.5}},
            customdata=[["prototype", k] for k in range(len(prototype_xy))],
            text=[f"centre of {name}" for name in class_names],
            hovertemplate="%{text}<extra>prototype</extra>",
        )  # fmt: skip
    # Examples are drawn over the class centres: a centre sits among its examples.
    for k, name in enumerate(class_names):
        idx = np.flatnonzero(labels == k)
        figure.add_scatter(
            x=support_xy[idx, 0].tolist(), y=support_xy[idx, 1].tolist(), mode="markers",
            name=f"{name} (examples)", legendgroup=str(k),
            marker={"symbol": "circle", "size": 9, "color": class_colour(k),
                    "line": {"color": "white", "width": 1}},
            customdata=[["support", int(i)] for i in idx],
            text=[f"{name}: {support_names[i]}" for i in idx],
            hovertemplate="%{text}<extra>example</extra>",
        )  # fmt: skip
    if query_xy is not None and len(query_xy):
        query_xy = np.asarray(query_xy, dtype=float).reshape(-1, 2)
        predictions = list(query_predictions or [None] * len(query_xy))
        query_names = list(query_names or [f"query {i + 1}" for i in range(len(query_xy))])
        outline = [class_colour(int(k)) if k is not None else "black" for k in predictions]
        text = [
            f"{query_names[i]} → {class_names[int(k)]}" if k is not None else query_names[i]
            for i, k in enumerate(predictions)
        ]
        figure.add_scatter(
            x=query_xy[:, 0].tolist(), y=query_xy[:, 1].tolist(), mode="markers",
            name="images to check (queries)",
            marker={"symbol": "diamond", "size": 15, "color": "#F4F4F4",
                    "line": {"color": outline, "width": 3}},
            customdata=[["query", i] for i in range(len(query_xy))],
            text=text, hovertemplate="%{text}<extra>query</extra>",
        )  # fmt: skip
    figure.update_layout(
        **_LAYOUT,
        title=title or None,
        height=430,
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
) -> go.Figure:
    """How the embeddings move during MAML's inner loop, as an animation.

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
            class_names, support_xy[t], labels,
            query_xy=None if query_xy is None else np.asarray(query_xy)[t],
            query_predictions=None if preds is None else preds.tolist(),
        )  # fmt: skip
        return list(base.data)

    figure = go.Figure()
    # Paths from step 0 to the last step, drawn once under the moving points.
    paths = [support_xy]
    if query_xy is not None:
        paths.append(np.asarray(query_xy, dtype=float))
    for block in paths:
        for i in range(block.shape[1]):
            figure.add_scatter(
                x=block[:, i, 0].tolist(), y=block[:, i, 1].tolist(), mode="lines",
                line={"color": "#CCCCCC", "width": 1}, showlegend=False, hoverinfo="skip",
            )  # fmt: skip
    n_paths = len(figure.data)
    for trace in frame_traces(step):
        figure.add_trace(trace)
    moving = list(range(n_paths, len(figure.data)))
    figure.frames = [
        go.Frame(data=frame_traces(t), traces=moving, name=str(t)) for t in range(n_steps)
    ]
    slider_steps = [
        {"label": str(t), "method": "animate",
         "args": [[str(t)], {"mode": "immediate", "frame": {"duration": 0, "redraw": True}}]}
        for t in range(n_steps)
    ]  # fmt: skip
    figure.update_layout(
        **{**_LAYOUT, "margin": {"l": 10, "r": 10, "t": 110, "b": 10}},
        height=500,
        title={"text": f"Embeddings at inner step {step} (grey lines: the path from step 0)",
               "y": 0.97},
        xaxis={"showticklabels": False, "zeroline": False},
        yaxis={"showticklabels": False, "zeroline": False, "scaleanchor": "x"},
        legend={"orientation": "h", "y": 1.0, "yanchor": "bottom", "x": 0},
        updatemenus=[{
            "type": "buttons", "showactive": False, "x": 1, "y": 1.1, "xanchor": "right",
            "buttons": [{"label": "▶ Play", "method": "animate", "args": [None, {
                "frame": {"duration": 600, "redraw": True}, "fromcurrent": False,
                "transition": {"duration": 300}}]}],
        }],
        sliders=[{"active": step, "steps": slider_steps, "currentvalue": {"prefix": "step "},
                  "y": -0.02}],
    )  # fmt: skip
    return figure


# --- benchmark -----------------------------------------------------------------------------


def benchmark_figure(
    labels: Sequence[str],
    accuracies: Sequence[float],
    ci95: Sequence[float],
    paper: Sequence[float | None],
) -> go.Figure:
    """Our accuracy (with its 95% interval) beside the paper's number, in percent."""
    figure = go.Figure()
    figure.add_bar(
        x=list(labels), y=list(accuracies), name="this app",
        error_y={"type": "data", "array": list(ci95), "visible": True},
        marker_color=PALETTE[0], text=[f"{a:.1f}%" for a in accuracies], textposition="inside",
    )  # fmt: skip
    figure.add_bar(
        x=list(labels), y=[p if p is not None else 0 for p in paper], name="paper",
        marker_color=PALETTE[1], text=[f"{p:.1f}%" if p is not None else "n/a" for p in paper],
        textposition="inside",
    )  # fmt: skip
    low = min(
        [a - c for a, c in zip(accuracies, ci95, strict=True)] + [p for p in paper if p] + [100.0]
    )
    figure.update_layout(
        **_LAYOUT, barmode="group", height=320, title="Accuracy on new classes (%)",
        yaxis={"range": [max(0.0, low - 10), 100.5]},
    )  # fmt: skip
    return figure


# --- images --------------------------------------------------------------------------------


def thumbnail_uri(image: Image.Image, size: int = 64) -> str:
    """A small PNG of `image` as a data: URI (for image columns in tables)."""
    thumb = image.copy()
    thumb.thumbnail((size, size))
    buffer = io.BytesIO()
    thumb.convert("RGB").save(buffer, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")
