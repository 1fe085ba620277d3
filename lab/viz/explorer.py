"""The embedding explorer's figures: every image at its place (as a marker or as a small
picture of itself), in 2-D or 3-D, and the same view animated over learning steps.

Built on lab.viz.embedding's visual language (circles, stars, diamonds; one colour per
class). Thumbnails are plotly layout images placed in data coordinates, each framed in its
class's colour (a query: its predicted class's), so a picture still says its class. Positions
come from lab.embedding.project; nothing here measures distances.
"""

from __future__ import annotations

import base64
import io
from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go
from PIL import Image, ImageOps

from lab.explorer import QUERY, SUPPORT, ExplorerData
from lab.labels import plot_text
from lab.style import PLOT_LAYOUT, class_colour
from lab.viz.embedding import embedding_figure

MAX_LEGEND_CLASSES = 6  # more classes: no legend (the page says what the symbols are)
WRONG = "#D62728"  # the mark of a misclassified image (with an x, not by colour alone)


def sprite_uri(image: Image.Image, colour: str, size: int = 48, border: int = 3) -> str:
    """A size x size PNG data URI of `image`, framed `border` pixels wide in `colour`."""
    inner = size - 2 * border
    thumb = ImageOps.pad(image.convert("RGB"), (inner, inner), color="white")
    framed = ImageOps.expand(thumb, border=border, fill=colour)
    buffer = io.BytesIO()
    framed.save(buffer, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def sprite_size(xy: np.ndarray) -> float:
    """The side of a thumbnail in data units: a share of the picture's span that shrinks as
    points get many (9% for a few dozen, 3.5% from 300 on), so they overlap little but stay
    big enough to read."""
    xy = np.asarray(xy, dtype=float)
    xy = xy[np.isfinite(xy).all(1)]  # points a projection left out are not drawn
    if len(xy) < 2:
        return 1.0
    span = float(np.ptp(xy, axis=0).max()) or 1.0
    return span * float(np.clip(0.6 / np.sqrt(len(xy)), 0.035, 0.09))


def _centre_label(data: ExplorerData) -> dict[str, str]:
    if data.centre_name == "prototype":
        return {}
    return {"centres_label": "class means (MAML has no prototypes)", "centre_name": "mean"}


def _points_2d(
    data: ExplorerData,
    xy: np.ndarray,
    centre_xy: np.ndarray,
    predictions: np.ndarray | None = None,
) -> go.Figure:
    """lab.viz.embedding's picture of data at positions xy (M, 2), centres (N, 2), plus an
    x on every misclassified query."""
    s = data.n_support
    predictions = data.predictions[s:] if predictions is None else np.asarray(predictions)
    figure = embedding_figure(
        data.class_names,
        xy[:s],
        data.labels[:s].tolist(),
        prototype_xy=centre_xy,
        query_xy=xy[s:],
        query_predictions=[int(k) for k in predictions] or None,
        support_names=data.names[:s],
        query_names=data.names[s:],
        lines_to_prototypes=False,
        **_centre_label(data),
    )
    truth = data.labels[s:]
    wrong = np.flatnonzero((truth >= 0) & (predictions != truth))
    if len(wrong):
        figure.add_scatter(
            x=xy[s + wrong, 0].tolist(),
            y=xy[s + wrong, 1].tolist(),
            mode="markers",
            name="✗ wrong: predicted class is not the true one",
            marker={"symbol": "x-thin-open", "size": 16, "color": WRONG, "line": {"width": 3}},
            customdata=[[QUERY, int(q)] for q in wrong],
            text=[
                plot_text(
                    f"{data.names[s + q]}: is {data.class_names[truth[q]]}, "
                    f"predicted {data.class_names[predictions[q]]}"
                )
                for q in wrong
            ],
            hovertemplate="%{text}<extra>wrong</extra>",
        )
    return figure


def explorer_figure(
    data: ExplorerData,
    xy: np.ndarray,
    centre_xy: np.ndarray,
    *,
    sprites: Sequence[str] | None = None,
    height: int = 560,
) -> go.Figure:
    """Every image of `data` at its projected place, in 2-D or 3-D (from xy's width).

    Args:
        xy: (M, 2 or 3) positions of data's images; centre_xy: (N, same) of its centres.
        sprites: one thumbnail data URI per image (sprite_uri) to draw instead of markers
            (2-D only; the markers stay, invisible, for hover and selection).
    Every image's customdata is [role, index] (index within its role), as in
    lab.viz.embedding, so a selection maps back to images (lab.explorer.selected_indices).
    """
    xy = np.asarray(xy, dtype=float)
    centre_xy = np.asarray(centre_xy, dtype=float)
    if xy.shape[0] != len(data.images):
        raise ValueError(f"{xy.shape[0]} positions for {len(data.images)} images")
    if xy.shape[1] == 3:
        return _figure_3d(data, xy, centre_xy, height)
    figure = _points_2d(data, xy, centre_xy)
    if sprites is not None:
        if len(sprites) != len(data.images):
            raise ValueError(f"{len(sprites)} thumbnails for {len(data.images)} images")
        side = sprite_size(xy)
        figure.update_layout(
            images=[
                {
                    "source": uri,
                    "xref": "x",
                    "yref": "y",
                    "x": float(x),
                    "y": float(y),
                    "sizex": side,
                    "sizey": side,
                    "xanchor": "center",
                    "yanchor": "middle",
                    "sizing": "contain",
                    "layer": "below",
                }
                for uri, (x, y) in zip(sprites, xy, strict=True)
                if np.isfinite(x) and np.isfinite(y)
            ]
        )
        # The pictures stand for the circles and diamonds: these stay for hover and
        # selection, see-through.
        for trace in figure.data:
            kind = trace.customdata[0][0] if trace.customdata else None
            if kind in (SUPPORT, QUERY) and not str(trace.name).startswith("✗"):
                trace.marker.opacity = 0.0
            elif kind == "prototype":  # smaller and see-through: a tight class sits under it
                trace.marker.size, trace.marker.opacity = 20, 0.75
        pad = side
        figure.update_xaxes(range=[np.nanmin(xy[:, 0]) - pad, np.nanmax(xy[:, 0]) + pad])
        figure.update_yaxes(range=[np.nanmin(xy[:, 1]) - pad, np.nanmax(xy[:, 1]) + pad])
    figure.update_layout(
        height=height,
        legend={"orientation": "h", "y": -0.02, "yanchor": "top"},
        # Past a few classes the legend would take the chart's room: hover names them.
        showlegend=len(data.class_names) <= MAX_LEGEND_CLASSES,
        margin={"l": 10, "r": 10, "t": 30, "b": 10},
        uirevision=data.title,
    )
    return figure


def _figure_3d(
    data: ExplorerData, xyz: np.ndarray, centre_xyz: np.ndarray, height: int
) -> go.Figure:
    """The same picture in 3-D (rotate it by dragging); markers only."""
    figure = go.Figure()
    names = [plot_text(n) for n in data.class_names]
    for k, name in enumerate(names):
        figure.add_scatter3d(
            x=centre_xyz[k : k + 1, 0],
            y=centre_xyz[k : k + 1, 1],
            z=centre_xyz[k : k + 1, 2],
            mode="markers",
            name=f"{data.centre_name} of {name}",
            legendgroup=str(k),
            marker={"symbol": "diamond-open", "size": 12, "color": class_colour(k)},
            customdata=[["prototype", k]],
            hovertemplate=f"{data.centre_name} of {name}<extra></extra>",
        )
    for role, symbol, label in ((SUPPORT, "circle", "examples"), (QUERY, "x", "to check")):
        for k, name in enumerate(names):
            rows = [
                i
                for i in range(len(data.images))
                if data.roles[i] == role and data.colour_class(i) == k
            ]
            if not rows:
                continue
            offset = 0 if role == SUPPORT else data.n_support
            figure.add_scatter3d(
                x=xyz[rows, 0],
                y=xyz[rows, 1],
                z=xyz[rows, 2],
                mode="markers",
                name=f"{name} ({label})" if role == SUPPORT else f"to check → {name}",
                legendgroup=str(k),
                marker={
                    "symbol": symbol,
                    "size": 4 if role == SUPPORT else 5,
                    "color": class_colour(k),
                },
                customdata=[[role, i - offset] for i in rows],
                text=[plot_text(data.names[i]) for i in rows],
                hovertemplate="%{text}<extra></extra>",
            )
    hidden = {"showticklabels": False, "title": "", "showbackground": False}
    figure.update_layout(
        **PLOT_LAYOUT,
        height=height,
        scene={"xaxis": hidden, "yaxis": hidden, "zaxis": hidden, "aspectmode": "data"},
        legend={"orientation": "h", "y": -0.02, "yanchor": "top"},
        showlegend=len(data.class_names) <= MAX_LEGEND_CLASSES,
        uirevision=data.title,
    )
    return figure


def learning_figure(
    data: ExplorerData,
    xy: np.ndarray,
    centre_xy: np.ndarray,
    predictions: np.ndarray,
    titles: Sequence[str],
    step: int | None = None,
) -> go.Figure:
    """Learning step by step, as an animation with Play and a slider over the steps.

    Args:
        xy: (T, M, 2) every image's position at each step; centre_xy: (T, N, 2);
            predictions: (T, Q) each query's predicted class per step; titles: T lines.
        step: the frame shown first (default: the last).
    The axes fit the points of all steps, so that the motion fills the picture, and grey
    arrows show where each point moved since step 0.
    """
    xy, centre_xy = np.asarray(xy, dtype=float), np.asarray(centre_xy, dtype=float)
    n_steps = xy.shape[0]
    if n_steps == 0 or len(titles) != n_steps:
        raise ValueError(f"need a title for each of the {n_steps} steps (got {len(titles)})")
    step = n_steps - 1 if step is None else int(np.clip(step, 0, n_steps - 1))

    def traces(t: int) -> list:
        figure = _points_2d(data, xy[t], centre_xy[t], predictions[t])
        # Arrows: a line from step 0 to now for every point that moved, plus a dot at its start.
        x, y = [], []
        for start, now in zip(
            np.concatenate([xy[0], centre_xy[0]]),
            np.concatenate([xy[t], centre_xy[t]]),
            strict=True,
        ):
            x += [start[0], now[0], None]
            y += [start[1], now[1], None]
        figure.add_scatter(
            x=x,
            y=y,
            mode="lines",
            line={"color": "#888888", "width": 1},
            name="grey: the path since step 0",
            hoverinfo="skip",
        )
        # The same number of traces in every frame (a class may have no wrong query yet).
        traces = [tr for tr in figure.data if not str(tr.name).startswith("✗")]
        wrong = [tr for tr in figure.data if str(tr.name).startswith("✗")]
        traces.append(
            wrong[0] if wrong else go.Scatter(x=[None], y=[None], mode="markers", showlegend=False)
        )
        return traces

    base = traces(step)
    figure = go.Figure(data=base)
    both = np.concatenate([xy.reshape(-1, 2), centre_xy.reshape(-1, 2)])
    low, high = both.min(0), both.max(0)
    pad = 0.06 * (high - low).max()
    figure.update_layout(
        **{**PLOT_LAYOUT, "margin": {"l": 10, "r": 10, "t": 60, "b": 10}},
        height=560,
        title={"text": titles[step], "y": 0.98},
        xaxis={"range": [low[0] - pad, high[0] + pad], "showticklabels": False, "zeroline": False},
        yaxis={
            "range": [low[1] - pad, high[1] + pad],
            "showticklabels": False,
            "zeroline": False,
            "scaleanchor": "x",
        },
        # The symbols are the explorer chart's (above it on the page); a legend here would
        # sit on the slider.
        showlegend=False,
    )
    figure.frames = [
        go.Frame(data=traces(t), name=str(t), layout={"title": {"text": titles[t]}})
        for t in range(n_steps)
    ]
    animate = {"mode": "immediate", "frame": {"duration": 0, "redraw": True}}
    figure.update_layout(
        updatemenus=[
            {
                "type": "buttons",
                "showactive": False,
                "x": 0,
                "y": -0.02,
                "xanchor": "left",
                "yanchor": "top",
                "buttons": [
                    {
                        "label": "▶ Play",
                        "method": "animate",
                        "args": [
                            None,
                            {"frame": {"duration": 700, "redraw": True}, "fromcurrent": False},
                        ],
                    }
                ],
            }
        ],
        sliders=[
            {
                "active": step,
                "x": 0.1,
                "len": 0.9,
                "y": -0.02,
                "currentvalue": {"prefix": "step "},
                "steps": [
                    {"label": str(t), "method": "animate", "args": [[str(t)], animate]}
                    for t in range(n_steps)
                ],
            }
        ],
    )
    return figure
