"""Embedding space with four classes: the legend names the queries per predicted class and
the dotted lines, and in MAML mode the stars are class means, not prototypes."""

from __future__ import annotations

from tests.app.conftest import add_queries, chart_specs, fill_support


def _legend(at) -> list[str]:
    (spec,) = chart_specs(at)
    return [t["name"] for t in spec["data"] if t.get("showlegend", True) and t.get("name")]


def test_four_classes_legend_and_maml_names(app):
    fill_support(app, classes=4, shots=2)
    add_queries(app, shapes=(1, 3))
    app.switch_page("app_pages/embedding.py").run()
    assert not app.exception
    legend = _legend(app)
    assert "class centres (prototypes)" in legend
    assert any(name.startswith("dotted: query → nearest centre") for name in legend)
    assert len([n for n in legend if n.startswith("images to check →")]) >= 1
    assert "images to check (queries)" not in legend
    table = app.dataframe[0].value
    assert list(table.columns)[-4:] == ["class 1", "class 2", "class 3", "class 4"]

    app.radio(key="emb_model").set_value("maml").run()
    assert not app.exception
    legend = _legend(app)
    assert "class means (MAML has no prototypes)" in legend
    assert not [n for n in legend if "prototypes)" in n and "no prototypes" not in n]
    assert any(name.startswith("dotted: query → nearest mean") for name in legend)
