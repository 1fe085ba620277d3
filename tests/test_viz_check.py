"""lab.viz.check: the confusion matrix and accuracy bars carry the numbers and the class
colours they are given."""

from __future__ import annotations

import json

import numpy as np
import pytest

from lab import viz


def _spec(figure) -> dict:
    return json.loads(figure.to_json())


def test_the_confusion_matrix_has_a_row_per_true_class_in_its_colour():
    confusion = np.array([[3, 1, 0], [0, 2, 0], [1, 0, 0]])
    spec = _spec(viz.confusion_figure(["cat", "<b>dog</b>", "bird"], confusion, selected=(0, 1)))
    heatmaps = [t for t in spec["data"] if t["type"] == "heatmap"]
    assert [t["colorscale"][-1][1] for t in heatmaps] == ["#0072B2", "#E69F00", "#009E73"]
    # Shade = share of the true class's images: row cat is 3/4, 1/4, 0.
    assert heatmaps[0]["z"] == [[0.75, 0.25, 0.0]]
    assert heatmaps[2]["z"] == [[1.0, 0.0, 0.0]]
    cells = spec["data"][-1]
    assert cells["name"] == "cells" and cells["type"] == "scatter"
    assert cells["x"] == [0, 1, 2] * 3 and cells["y"] == [0] * 3 + [1] * 3 + [2] * 3
    assert cells["text"] == ["3", "1", "", "", "2", "", "1", "", ""]
    assert [c[2] for c in cells["customdata"]] == confusion.ravel().tolist()
    assert cells["hovertext"][1].startswith("true cat, answered &lt;b&gt;dog&lt;/b&gt;: 1 image(s)")
    # Rows true (first on top), columns answered, names shown as typed after a coloured dot.
    layout = spec["layout"]
    assert layout["yaxis"]["range"] == [2.5, -0.5]
    assert layout["xaxis"]["ticktext"][1] == (
        '<span style="color:#E69F00">●</span> &lt;b&gt;dog&lt;/b&gt;'
    )
    assert [(s["x0"], s["x1"], s["y0"], s["y1"]) for s in layout["shapes"]] == [
        (0.5, 1.5, -0.5, 0.5)
    ]
    # Black count text on pale and mid shades (3 of 4 and 1 of 4 of cat's images).
    assert cells["textfont"]["color"][:2] == ["#000000", "#000000"]


def test_counts_are_white_on_a_dark_full_shade():
    spec = _spec(viz.confusion_figure(["a", "b"], np.array([[2, 0], [1, 1]])))
    # a's row is all blue (#0072B2): white; b's cells are half orange: black.
    assert spec["data"][-1]["textfont"]["color"] == ["#FFFFFF", "#000000", "#000000", "#000000"]


def test_a_confusion_matrix_of_the_wrong_shape_is_refused():
    with pytest.raises(ValueError, match="2 class names but a confusion matrix of shape"):
        viz.confusion_figure(["a", "b"], np.zeros((3, 3)))


def test_accuracy_bars_say_right_of_images_and_no_images():
    spec = _spec(viz.accuracy_bars(["a", "b", "c"], [3, 2, 0], [4, 2, 0]))
    bars = spec["data"][0]
    assert bars["x"] == [0.75, 1.0, 0.0]
    assert bars["text"] == ["75% (3 of 4)", "100% (2 of 2)", "no images"]
    assert bars["marker"]["color"] == ["#0072B2", "#E69F00", "#009E73"]
