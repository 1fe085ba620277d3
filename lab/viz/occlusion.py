"""The occlusion map (lab.occlusion) as a figure: the picture the network reads, and beside
it the same picture under a diverging heat map centred at zero: vermillion where covering
hurts the verdict, blue where covering helps it, clear where covering changes nothing."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from lab.labels import plot_text
from lab.style import OKABE_ITO, PLOT_LAYOUT

if TYPE_CHECKING:
    from lab.occlusion import Occlusion

HURTS = OKABE_ITO["vermillion"]  # covering this place moves the image away from its class
HELPS = OKABE_ITO["blue"]  # covering this place moves it closer
HURTS_WORDS = "covering this hurts the verdict"
HELPS_WORDS = "covering this helps the verdict"


def _rgba(colour: str, alpha: float) -> str:
    value = colour.lstrip("#")
    red, green, blue = (int(value[i : i + 2], 16) for i in (0, 2, 4))
    return f"rgba({red},{green},{blue},{alpha})"


# Diverging and centred at zero (zmid): zero is transparent, so the picture shows through.
COLOUR_SCALE = [
    [0.0, _rgba(HELPS, 0.85)],
    [0.5, "rgba(255,255,255,0)"],
    [1.0, _rgba(HURTS, 0.85)],
]


def picture_rgb(picture: np.ndarray) -> np.ndarray:
    """(H, W) ink in [0, 1] (dark ink on white paper) or (H, W, 3) uint8 -> (H, W, 3) uint8."""
    if picture.ndim == 2:
        grey = np.clip(255.0 * (1.0 - picture), 0, 255).astype(np.uint8)
        return np.stack([grey] * 3, axis=-1)
    return np.asarray(picture, dtype=np.uint8)


def occlusion_figure(result: Occlusion, winner_name: str, height: int = 280) -> go.Figure:
    """Two panels: what the model reads, and the occlusion map over it with a colour bar
    whose ends say which colour means what."""
    rgb = picture_rgb(result.picture)
    reach = float(np.abs(result.effect).max())
    reach = reach if reach > 0 else 1.0
    unit = "distance" if result.measure.startswith("distance") else "probability"
    figure = make_subplots(
        rows=1,
        cols=2,
        horizontal_spacing=0.04,
        subplot_titles=("What the model reads", f"Where it sees {plot_text(winner_name)}"),
    )
    for column in (1, 2):
        figure.add_trace(go.Image(z=rgb, hoverinfo="skip", name="image"), row=1, col=column)
    figure.add_trace(
        go.Heatmap(
            z=result.effect,
            zmid=0.0,
            zmin=-reach,
            zmax=reach,
            colorscale=COLOUR_SCALE,
            name="occlusion",
            hovertemplate=f"covering here changes the {unit} by %{{z:+.3f}}<extra></extra>",
            colorbar={
                "title": {"text": f"change in<br>{unit}", "side": "top"},
                "tickvals": [-reach, 0.0, reach],
                "ticktext": ["helps the verdict", "no change", "hurts the verdict"],
                "len": 0.95,
                "thickness": 14,
                "outlinewidth": 0,
            },
        ),
        row=1,
        col=2,
    )
    size = rgb.shape[0]
    for column in (1, 2):
        axis = {"visible": False, "range": [-0.5, size - 0.5], "constrain": "domain"}
        figure.update_xaxes(
            **axis, scaleanchor=f"y{'' if column == 1 else column}", row=1, col=column
        )
        figure.update_yaxes(**{**axis, "range": [size - 0.5, -0.5]}, row=1, col=column)
    figure.update_layout(
        **{**PLOT_LAYOUT, "margin": {"l": 0, "r": 0, "t": 30, "b": 0}},
        height=height,
        showlegend=False,
    )
    return figure
