"""How it works: the distance calculator goes on from distances to ProtoNet's probabilities
and the nearest class, and its caption about p2 = k x p1 shows only when it is true."""

from __future__ import annotations

import numpy as np
import pytest

from lab.embedding import positive_multiple, softmax_over_distances


def _calculator(app, x=None, p1=None, p2=None):
    app.switch_page("app_pages/how_it_works.py").run()
    for key, value in (("calc_x", x), ("calc_p1", p1), ("calc_p2", p2)):
        if value is not None:
            app.text_input(key=key).input(value).run()
    assert not app.exception
    table = app.dataframe[0].value.set_index("distance")
    captions = "\n".join(c.value for c in app.caption)
    return table, captions


def test_softmax_over_distances_by_hand():
    x, centres = np.array([0.0, 0.0]), np.array([[1.0, 0.0], [0.0, 2.0]])
    d, p, nearest = softmax_over_distances(x, centres, "sq_euclidean")
    np.testing.assert_allclose(d, [1.0, 4.0])
    np.testing.assert_allclose(p, [np.exp(-1) / (np.exp(-1) + np.exp(-4)), 0.0], atol=0.06)
    assert p.sum() == pytest.approx(1.0) and nearest == 0
    assert p[0] == pytest.approx(1 / (1 + np.exp(-3)))


def test_positive_multiple():
    assert positive_multiple([1, 2, 3], [2, 4, 6]) == pytest.approx(2.0)
    assert positive_multiple([2, 2, 2], [4, 4, 4]) == pytest.approx(2.0)
    assert positive_multiple([1, 2, 3], [2, 4, 7]) is None
    assert positive_multiple([1, 2, 3], [-1, -2, -3]) is None
    assert positive_multiple([0, 0], [1, 1]) is None


def test_the_calculator_gives_probabilities_and_the_nearest_class(app):
    table, captions = _calculator(app)
    # x = (1, 2, 3), p1 = (2, 2, 2), p2 = (4, 4, 4): squared distances 2 and 14.
    row = table.loc["squared Euclidean  ||x - p||²"]
    assert (row["to p1"], row["to p2"]) == pytest.approx((2.0, 14.0))
    assert row["P(class 1)"] == pytest.approx(1 / (1 + np.exp(-12)))
    assert row["P(class 1)"] + row["P(class 2)"] == pytest.approx(1.0)
    assert row["nearest"] == "class 1"
    assert (table["P(class 1)"] + table["P(class 2)"]).to_numpy() == pytest.approx(1.0)
    assert "p2 = 2 x p1" in captions


def test_the_multiple_caption_follows_the_values(app):
    _, captions = _calculator(app, p2="4, 4, 5")
    assert "x p1" not in captions
    table, captions = _calculator(app, x="5, 5, 5", p2="6, 6, 6")
    assert "p2 = 3 x p1" in captions
    assert table.loc["Euclidean  ||x - p||", "nearest"] == "class 2"
