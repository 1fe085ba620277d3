"""The embedding figure's legend: queries per predicted class, one entry for the dotted
query-to-centre lines, and the stars named for what they are (prototypes or class means)."""

from __future__ import annotations

import numpy as np

from lab import viz
from lab.style import class_colour

NAMES = ["cat", "dog", "fox", "owl"]
SUPPORT = np.arange(16, dtype=float).reshape(8, 2)
LABELS = [0, 0, 1, 1, 2, 2, 3, 3]
CENTRES = SUPPORT[::2] + 0.5
QUERIES = np.array([[0.0, 1.0], [5.0, 5.0], [9.0, 1.0]])


def _figure(**kwargs):
    return viz.embedding_figure(
        NAMES,
        SUPPORT,
        LABELS,
        prototype_xy=CENTRES,
        query_xy=QUERIES,
        query_predictions=[1, 3, 1],
        **kwargs,
    )


def _legend(figure) -> dict:
    return {t.name: t for t in figure.data if t.showlegend is not False and t.name}


def test_queries_have_a_legend_entry_per_predicted_class_in_its_colour():
    figure = _figure()
    legend = _legend(figure)
    dog, owl = legend["images to check → dog (queries)"], legend["images to check → owl (queries)"]
    assert dog.marker.symbol == owl.marker.symbol == "diamond"
    assert dog.marker.line.color == class_colour(1) and owl.marker.line.color == class_colour(3)
    queries = next(t for t in figure.data if t.name == "images to check (queries)")
    assert queries.showlegend is False  # the per-class entries stand for it
    assert [c[1] for c in queries.customdata] == [0, 1, 2]  # clicks map back to the queries
    assert list(queries.marker.line.color) == [class_colour(1), class_colour(3), class_colour(1)]
    assert not [name for name in legend if "→ cat" in name or "→ fox" in name]


def test_the_dotted_lines_have_one_legend_entry():
    figure = _figure()
    dotted = [t for t in figure.data if t.mode == "lines" and t.line.dash == "dot"]
    in_legend = [t for t in dotted if t.showlegend is not False]
    assert len(dotted) == len(QUERIES) and len(in_legend) == 1
    assert "query → nearest centre" in in_legend[0].name


def test_the_stars_are_named_prototypes_or_class_means():
    assert "class centres (prototypes)" in _legend(_figure())
    maml = _legend(
        _figure(centres_label="class means (MAML has no prototypes)", centre_name="mean")
    )
    assert "class means (MAML has no prototypes)" in maml
    assert not [name for name in maml if "prototypes)" in name and "no prototypes" not in name]
    assert "query → nearest mean" in next(n for n in maml if n.startswith("dotted"))
