"""The visual language every figure and page shares: one colour per
class from the Okabe-Ito palette (Okabe & Ito 2008, colour-blind safe) and one plot layout."""

OKABE_ITO = {
    "black": "#000000",
    "orange": "#E69F00",
    "sky_blue": "#56B4E9",
    "bluish_green": "#009E73",
    "yellow": "#F0E442",
    "blue": "#0072B2",
    "vermillion": "#D55E00",
    "reddish_purple": "#CC79A7",
}
# Ordered so that the first classes get the most distinct colours. With more than eight
# classes the colours repeat; names in legends and hover keep classes apart.
PALETTE: tuple[str, ...] = tuple(
    OKABE_ITO[name]
    for name in (
        "blue",
        "orange",
        "bluish_green",
        "vermillion",
        "reddish_purple",
        "sky_blue",
        "yellow",
        "black",
    )
)
NEUTRAL = "#BBBBBB"
PLOT_LAYOUT = {"template": "plotly_white", "margin": {"l": 10, "r": 10, "t": 40, "b": 10}}


def class_colour(index: int) -> str:
    """The colour of class `index` (0-based) on every page."""
    return PALETTE[index % len(PALETTE)]
