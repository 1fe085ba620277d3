"""The Teach page's per-image bars are plain HTML (ui.probability_bars, ui.distance_bars):
one row per class in the class's colour, rounded beside, exact on hover, names as typed."""

from __future__ import annotations

import html
import re

import pytest

import ui
from lab.style import class_colour
from tests.app.conftest import answer_bars

ROW = re.compile(r'<div class="fsl-bar" data-value="([^"]*)" title="([^"]*)"')


def test_probability_bars_one_row_per_class_in_class_colours():
    page = ui.probability_bars(["cat", "dog", "owl"], [0.7, 0.2, 0.1])
    rows = ROW.findall(page)
    assert [float(v) for v, _ in rows] == pytest.approx([0.7, 0.2, 0.1])
    assert [t for _, t in rows] == ["cat: 70.00%", "dog: 20.00%", "owl: 10.00%"]
    widths = [float(w) for w in re.findall(r"width:([\d.]+)%", page)]
    assert widths == pytest.approx([70.0, 20.0, 10.0])
    assert [class_colour(i) in page for i in range(3)] == [True] * 3
    assert page.index(class_colour(0)) < page.index(class_colour(1)) < page.index(class_colour(2))
    assert re.findall(r'text-align:right">([^<]*)<', page) == ["70%", "20%", "10%"]
    with pytest.raises(ValueError, match="2 class names but 3"):
        ui.probability_bars(["a", "b"], [0.1, 0.2, 0.7])


def test_a_certainty_the_model_does_not_have_is_never_shown():
    page = ui.probability_bars(["a", "b"], [0.999993, 0.000007])
    assert re.findall(r'text-align:right">([^<]*)<', page) == ["&gt;99%", "&lt;1%"]


def test_distance_bars_longest_full_width_exact_on_hover():
    page = ui.distance_bars(["a", "b"], [2.0, 14.0], "sq_euclidean")
    widths = [float(w) for w in re.findall(r"width:([\d.]+)%", page)]
    assert widths == pytest.approx([100 * 2 / 14, 100.0], abs=0.01)
    assert [t for _, t in ROW.findall(page)] == ["a: 2", "b: 14"]
    assert "Distance to each class centre (prototype), sq euclidean" in page


def test_names_are_shown_as_typed_never_as_html_or_markdown():
    name = '<img src=x onerror="alert(1)"> **md** $x$'
    page = ui.probability_bars([name, "b"], [0.5, 0.5])
    assert "<img" not in page and 'onerror="' not in page
    (shown,) = re.findall(r"<bdi>(.*?)</bdi>", page)[:1]
    # One raw HTML block: Markdown never reads it, so the name is escaped for HTML only.
    assert not page.count("\n") and page.startswith("<div ")
    assert html.unescape(shown) == name
    assert html.unescape(ROW.findall(page)[0][1]) == f"{name}: 50.00%"


def test_the_teach_page_shows_them_per_image_to_check(app):
    from tests.app.conftest import add_queries, fill_support

    fill_support(app, classes=3)
    add_queries(app, shapes=(1, 2))
    bars = answer_bars(app)
    assert [b["kind"] for b in bars] == ["probability", "distance"] * 2
    for b in bars:
        assert b["names"] == ["class 1", "class 2", "class 3"]
    newest = bars[0]["values"]  # the newest image is shown first
    assert sum(newest) == pytest.approx(1, abs=1e-5)
    assert max(range(3), key=newest.__getitem__) == 2  # the second query drew shape 2
