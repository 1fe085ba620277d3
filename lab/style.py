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
# Twenty colours, one per class up to the app's 20 (they never repeat). The first eight are
# Okabe-Ito's, ordered so that the first classes get the most distinct colours; then Paul
# Tol's muted and dark schemes (Tol 2021). Every pair differs by at least 14 in CIELAB (ΔE76)
# for normal vision. No 20 colours stay apart for colour-blind viewers, so each block of eight
# classes also has its own marker shape (class_symbol) wherever points are drawn, and within
# a block every pair stays at least 13 apart under simulated deuteranopia
# (tests/test_viz.py checks both).
PALETTE: tuple[str, ...] = (
    *(
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
    ),
    "#332288",  # indigo
    "#44AA99",  # teal
    "#999933",  # olive
    "#882255",  # wine
    "#117733",  # green
    "#DDCC77",  # sand
    "#AA4499",  # purple
    "#88CCEE",  # cyan
    "#663333",  # brown
    "#CC6677",  # rose
    "#225555",  # dark teal
    "#8C8C8C",  # grey
)
CLASS_SYMBOLS = ("circle", "square", "diamond")  # one per block of eight classes
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
    """The colour of class `index` (0-based) on every page: twenty, then they repeat."""
    return PALETTE[index % len(PALETTE)]


def class_symbol(index: int) -> str:
    """The marker shape of class `index`'s points: circles for classes 1-8, squares for 9-16,
    diamonds for 17-20, so classes whose colours a colour-blind viewer may confuse differ in
    shape."""
    return CLASS_SYMBOLS[(index // 8) % len(CLASS_SYMBOLS)]


def legend_rows(entries: int, per_row: int = 5) -> int:
    """How many rows a horizontal legend of `entries` takes on a page-wide chart."""
    return max(1, -(-entries // per_row))


def legend_height(entries: int, row_height: int = 22) -> int:
    """Extra chart height for a legend below the plot beyond its first row, so that a
    20-class legend takes its own room instead of the plot's."""
    return (legend_rows(entries) - 1) * row_height
