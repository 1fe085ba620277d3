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
PLOT_TEMPLATE = "fewshotlab"
PLOT_LAYOUT = {"template": PLOT_TEMPLATE, "margin": {"l": 10, "r": 10, "t": 40, "b": 10}}


def _register_plot_template() -> None:
    """plotly_white's layout (white background, light grid, its fonts and colour scales)
    under PLOT_TEMPLATE, without its per-trace-type defaults: every figure copies its template
    when it is made, and plotly_white's defaults for all 24 trace types made that copy 60% of
    building a figure (22 -> 9 ms a figure on this CPU), for settings the app's bars,
    scatters and heatmaps set themselves."""
    import plotly.graph_objects as go
    import plotly.io as pio

    if PLOT_TEMPLATE not in pio.templates:
        pio.templates[PLOT_TEMPLATE] = go.layout.Template(
            layout=pio.templates["plotly_white"].layout
        )


_register_plot_template()  # every module that uses PLOT_LAYOUT builds plotly figures


def class_colour(index: int) -> str:
    """The colour of class `index` (0-based) on every page."""
    return PALETTE[index % len(PALETTE)]
