"""lab.viz: figures carry the data they are given, in the shared visual language."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from lab import viz


def _spec(figure) -> dict:
    return json.loads(figure.to_json())


def test_class_colours_start_with_okabe_ito_and_repeat_only_after_twenty():
    assert viz.class_colour(0) == "#0072B2"
    assert viz.class_colour(1) == "#E69F00"
    assert len(set(viz.PALETTE)) == 20  # the app's most classes; eight repeated (issue 31)
    assert viz.class_colour(8) != viz.class_colour(0)
    assert viz.class_colour(20) == viz.class_colour(0)


@pytest.mark.parametrize(
    ("p", "text"), [(0.923, "92%"), (0.0, "0%"), (0.001, "<1%"), (0.999, ">99%"), (1.0, "100%")]
)
def test_percent_is_rounded_for_people(p, text):
    assert viz.percent(p) == text


@pytest.mark.parametrize(
    ("p", "text"),
    [(0.999993, ">99.99%"), (0.923456, "92.35%"), (0.00004, "<0.01%"), (1.0, "100.00%")],
)
def test_percent_with_decimals_for_a_closer_look(p, text):
    assert viz.percent(p, 2) == text


def test_every_probability_in_the_figures_is_written_by_percent():
    """Bars, their hover text and the inner-loop chart say 0.999993 the same way."""
    bars = _spec(viz.probability_bars(["a", "b"], [0.999993, 0.000007]))["data"][0]
    assert bars["text"] == [">99%", "<1%"]
    assert bars["customdata"] == [">99.99%", "<0.01%"]
    assert "%{customdata}" in bars["hovertemplate"] and ":." not in bars["hovertemplate"]
    curves = _spec(
        viz.inner_loop_figure(
            [0, 1], [0.7, 0.01], [0.5, 1.0], ["a", "b"], np.array([[0.5, 0.5], [0.999993, 7e-6]])
        )
    )
    stacked = [t for t in curves["data"] if t["type"] == "bar"]
    assert stacked[0]["customdata"] == ["50.00%", ">99.99%"]
    assert all(":." not in t["hovertemplate"] for t in curves["data"])


def test_inner_loop_axes_are_titled_and_ticked_for_people():
    spec = _spec(
        viz.inner_loop_figure(
            [0, 1, 2],
            [0.69, 2.5e-5, 0.0],
            [0.5, 1.0, 1.0],
            ["a", "b"],
            np.array([[0.5, 0.5], [0.9, 0.1], [1.0, 0.0]]),
        )
    )
    layout = spec["layout"]
    # One panel each: loss, accuracy, probabilities; no axis shared by two quantities.
    assert [a["text"] for a in layout["annotations"][:3]] == [
        "Loss",
        "Accuracy",
        "Probabilities for query 1",
    ]
    assert layout["yaxis"]["title"]["text"] == "loss on your examples"
    assert layout["yaxis"]["type"] == "log" and layout["yaxis"]["exponentformat"] == "power"
    for axis, title in (("yaxis2", "accuracy on your examples"), ("yaxis3", "probability")):
        assert layout[axis]["title"]["text"] == title
        assert layout[axis]["tickvals"] == [0, 0.25, 0.5, 0.75, 1]
        assert layout[axis]["ticktext"] == ["0%", "25%", "50%", "75%", "100%"]
    loss = spec["data"][0]
    assert loss["y"][2] > 0  # a loss of 0 is drawn at the floor of the log axis...
    assert loss["customdata"] == ["0.69", "2.5e-05", "0"]  # ...and its hover says 0


def test_names_reach_figures_as_typed_never_as_html():
    name = "<b>x</b> & **md** $x$"
    shown = "&lt;b&gt;x&lt;/b&gt; &amp; **md** $x$"
    assert _spec(viz.probability_bars([name, "b"], [0.5, 0.5]))["data"][0]["y"][0] == shown
    spec = _spec(
        viz.inner_loop_figure(
            [0], [0.5], [1.0], [name, "b"], np.array([[0.5, 0.5]]), query_name="<i>q</i>"
        )
    )
    assert [t["name"] for t in spec["data"] if t["type"] == "bar"] == [shown, "b"]
    assert spec["layout"]["annotations"][2]["text"] == "Probabilities for &lt;i&gt;q&lt;/i&gt;"
    # A name is data, never part of a hover template (a "%{x}" in it stays as typed).
    bar = next(t for t in spec["data"] if t["type"] == "bar")
    assert name not in bar["hovertemplate"] and shown not in bar["hovertemplate"]


def test_still_step_keeps_the_step_and_drops_the_figures_own_controls():
    points = np.random.default_rng(0).normal(size=(3, 4, 2))
    moving = viz.embedding_steps_figure(["a", "b"], points, [0, 0, 1, 1], step=1)
    assert moving.frames and moving.layout.sliders and moving.layout.updatemenus
    still = _spec(
        viz.embedding_steps_figure(["a", "b"], points, [0, 0, 1, 1], step=1, controls=False)
    )
    assert not still.get("frames")
    assert not still["layout"].get("sliders") and not still["layout"].get("updatemenus")
    assert "inner step 1" in still["layout"]["title"]["text"]
    assert [t["x"] for t in still["data"]] == [list(t.x) for t in moving.data]
    assert moving.frames and moving.layout.sliders  # the original is not changed


def test_probability_bars_one_bar_per_class_in_class_colours():
    spec = _spec(viz.probability_bars(["cat", "dog", "owl"], [0.7, 0.2, 0.1]))
    bar = spec["data"][0]
    assert bar["y"] == ["cat", "dog", "owl"]
    assert bar["x"] == pytest.approx([0.7, 0.2, 0.1])
    assert bar["marker"]["color"] == [viz.class_colour(i) for i in range(3)]
    assert bar["text"] == ["70%", "20%", "10%"]
    with pytest.raises(ValueError, match="2 class names but 3"):
        viz.probability_bars(["a", "b"], [0.1, 0.2, 0.7])


def test_inner_loop_figure_with_and_without_a_query():
    plain = _spec(viz.inner_loop_figure([0, 1, 2], [1.0, 0.5, 0.2], [0.5, 1, 1], ["a", "b"]))
    names = [t["name"] for t in plain["data"]]
    assert names == ["loss", "accuracy"]
    assert plain["data"][0]["y"] == [1.0, 0.5, 0.2]
    probabilities = np.array([[0.5, 0.5], [0.7, 0.3], [0.9, 0.1]])
    spec = _spec(
        viz.inner_loop_figure(
            [0, 1, 2],
            [1.0, 0.5, 0.2],
            [0.5, 1, 1],
            ["a", "b"],
            probabilities,
            total_steps=5,
            current_step=1,
        )
    )
    bars = [t for t in spec["data"] if t["type"] == "bar"]
    assert [b["name"] for b in bars] == ["a", "b"]
    assert bars[0]["y"] == pytest.approx([0.5, 0.7, 0.9])
    assert spec["layout"]["barmode"] == "stack"
    assert spec["layout"]["xaxis"]["range"] == [-0.5, 5.5]
    assert spec["layout"]["shapes"][0]["x0"] == 1


def test_project_2d_pca_is_exact_on_points_in_a_plane_and_stable():
    rng = np.random.default_rng(0)
    plane = rng.normal(size=(10, 2)) @ np.array([[1.0, 0, 0, 0], [0, 1.0, 0, 0]])
    xy = viz.project_2d(plane + 5.0)
    # Distances are preserved exactly when the points lie in a plane.
    original = np.linalg.norm(plane[:, None] - plane[None], axis=-1)
    projected = np.linalg.norm(xy[:, None] - xy[None], axis=-1)
    np.testing.assert_allclose(projected, original, atol=1e-9)
    np.testing.assert_array_equal(viz.project_2d(plane), viz.project_2d(plane.copy()))


@pytest.mark.parametrize("m", [0, 1, 2, 3])
def test_project_2d_handles_few_points(m):
    out = viz.project_2d(np.arange(m * 4, dtype=float).reshape(m, 4), "tsne")
    assert out.shape == (m, 2)
    assert np.isfinite(out).all()


def test_project_2d_tsne_gives_finite_points_and_rejects_unknown_methods():
    points = np.random.default_rng(1).normal(size=(12, 8))
    assert viz.project_2d(points, "tsne").shape == (12, 2)
    with pytest.raises(ValueError, match="unknown projection"):
        viz.project_2d(points, "isomap")


def test_embedding_figure_marks_and_lines_follow_the_visual_language():
    spec = _spec(
        viz.embedding_figure(
            ["cat", "dog"],
            support_xy=np.array([[0, 0], [1, 0], [5, 5]]),
            support_labels=[0, 0, 1],
            prototype_xy=np.array([[0.5, 0], [5, 5]]),
            query_xy=np.array([[4, 4]]),
            query_predictions=[1],
        )
    )
    by_name = {t.get("name"): t for t in spec["data"]}
    assert by_name["cat (examples)"]["marker"]["symbol"] == "circle"
    assert by_name["cat (examples)"]["marker"]["color"] == viz.class_colour(0)
    assert by_name["cat (examples)"]["customdata"] == [["support", 0], ["support", 1]]
    stars = by_name["class centres (prototypes)"]
    assert stars["marker"]["symbol"] == "star" and stars["marker"]["size"] > 15
    diamonds = by_name["images to check (queries)"]
    assert diamonds["marker"]["symbol"] == "diamond"
    assert diamonds["marker"]["line"]["color"] == [viz.class_colour(1)]
    lines = [t for t in spec["data"] if t.get("mode") == "lines"]
    assert len(lines) == 1 and lines[0]["x"] == [4, 5] and lines[0]["y"] == [4, 5]


def test_embedding_steps_figure_has_one_frame_per_step():
    support = np.zeros((3, 2, 2))
    support[:, 1, 0] = [0, 1, 2]  # the second point moves right
    query = np.ones((3, 1, 2))
    spec = _spec(
        viz.embedding_steps_figure(
            ["a", "b"], support, [0, 1], query, np.array([[0], [1], [1]]), step=1
        )
    )
    assert [f["name"] for f in spec["frames"]] == ["0", "1", "2"]
    assert spec["layout"]["sliders"][0]["active"] == 1
    moving = spec["frames"][2]["data"]
    b_points = next(t for t in moving if t.get("name") == "b (examples)")
    assert b_points["x"] == [2.0]


def test_benchmark_figure_pairs_ours_with_the_paper():
    spec = _spec(viz.benchmark_figure(["5w1s"], [97.5], [0.4], [98.8]))
    assert spec["data"][0]["y"] == [97.5] and spec["data"][0]["error_y"]["array"] == [0.4]
    assert spec["data"][1]["y"] == [98.8]


def test_thumbnail_uri_is_a_small_png():
    uri = viz.thumbnail_uri(Image.new("RGB", (300, 200), "red"), size=32)
    assert uri.startswith("data:image/png;base64,")


def test_step_sizes_figure_has_a_row_per_tensor_at_the_cards_values():
    start = {"encoder.0.0.weight": 0.1, "head.bias": 0.1, "scale": 1.0}
    learned = {"encoder.0.0.weight": 0.25, "head.bias": 0.04, "scale": 2.5}
    fig = viz.step_sizes_figure(start, learned)
    points = {trace.name: trace for trace in fig.data if trace.mode == "markers"}
    assert list(points["meta-learned"].x) == [0.25, 0.04, 2.5]
    assert list(points["start of meta-training"].x) == [0.1, 0.1, 1.0]
    assert list(points["meta-learned"].y) == [
        "block 1 conv weights",
        "classifier bias",
        "output scale",
    ]
    assert fig.layout.xaxis.type == "log"


def test_step_axes_label_every_step_only_while_the_labels_fit():
    ticks = []
    for steps in (3, 20, 100):
        x = list(range(steps + 1))
        figure = viz.inner_loop_figure(x, [1.0] * len(x), [0.5] * len(x), ["a", "b"])
        ticks.append({figure.layout[axis].dtick for axis in ("xaxis", "xaxis2")})
    assert ticks == [{1}, {5}, {None}]


def _lab(colour: str):
    import numpy as np

    rgb = np.array([int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5)])
    return _lab_of_linear(np.where(rgb <= 0.04045, rgb / 12.92, ((rgb + 0.055) / 1.055) ** 2.4))


def _lab_of_linear(linear):
    import numpy as np

    to_xyz = np.array(
        [[0.4124, 0.3576, 0.1805], [0.2126, 0.7152, 0.0722], [0.0193, 0.1192, 0.9505]]
    )
    xyz = to_xyz @ np.clip(linear, 0, 1) / np.array([0.95047, 1.0, 1.08883])
    f = np.where(xyz > 0.008856, np.cbrt(xyz), 7.787 * xyz + 16 / 116)
    return np.array([116 * f[1] - 16, 500 * (f[0] - f[1]), 200 * (f[1] - f[2])])


def test_twenty_classes_get_twenty_colours_and_a_shape_per_block_of_eight():
    """Classes 1, 9 and 17 shared a blue (issue 31): twenty colours, every pair at least 14
    apart in CIELAB; each block of eight classes has its own marker shape, and within a
    block every pair stays at least 13 apart under simulated deuteranopia (Machado 2009)."""
    import itertools

    import numpy as np

    from lab.style import class_colour, class_symbol

    colours = [class_colour(k) for k in range(20)]
    assert len(set(colours)) == 20
    lab = [_lab(c) for c in colours]
    assert min(np.linalg.norm(a - b) for a, b in itertools.combinations(lab, 2)) > 14
    deuteranopia = np.array(
        [[0.367322, 0.860646, -0.227968], [0.280085, 0.672501, 0.047413], [-0.01182, 0.04294, 1.0]]
    )

    def seen(colour):
        rgb = np.array([int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5)])
        linear = np.where(rgb <= 0.04045, rgb / 12.92, ((rgb + 0.055) / 1.055) ** 2.4)
        return _lab_of_linear(deuteranopia @ linear)

    for block in (range(0, 8), range(8, 16), range(16, 20)):
        assert len({class_symbol(k) for k in block}) == 1
        shades = [seen(colours[k]) for k in block]
        assert min(np.linalg.norm(a - b) for a, b in itertools.combinations(shades, 2)) > 13
    assert len({(class_colour(k), class_symbol(k)) for k in range(20)}) == 20
    assert [class_symbol(k) for k in (0, 8, 16)] == ["circle", "square", "diamond"]


def test_legends_of_twenty_classes_sit_below_the_plot_and_the_chart_grows():
    """At 20 classes the legend covered the title and half the plot (issue 31)."""
    import numpy as np

    from lab.viz import embedding_steps_figure

    names = [f"class {k}" for k in range(20)]
    xy = np.random.default_rng(0).normal(size=(3, 20, 2))
    small = embedding_steps_figure(names[:3], xy[:, :3], list(range(3)), controls=False)
    large = embedding_steps_figure(names, xy, list(range(20)), controls=False)
    for figure in (small, large):
        assert figure.layout.legend.y < 0 and figure.layout.legend.yanchor == "top"
    assert large.layout.height > small.layout.height + 100
    symbols = {t.name: t.marker.symbol for t in large.data if t.name and "examples" in t.name}
    assert symbols["class 0 (examples)"] == "circle"
    assert symbols["class 9 (examples)"] == "square"
    assert symbols["class 17 (examples)"] == "diamond"
