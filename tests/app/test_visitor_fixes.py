"""What a visitor met (issue 31), each as it was found: a test that failed before the fix."""

from __future__ import annotations

import math

import pytest

from tests.app.conftest import add_queries, chart_specs, fill_support, workspace


def _page_text(app) -> str:
    parts = [m.value for m in app.markdown] + [m.value for m in app.error]
    parts += [m.value for m in app.caption] + [str(m.value) for m in app.metric]
    return "\n".join(parts)


@pytest.mark.parametrize("scale, start", [(100.0, "zero"), (100.0, "proto")])
def test_inside_maml_stops_its_charts_where_the_steps_diverge_and_says_so(app, scale, start):
    """Eight classes with x100 steps (or the class-centre start) sent the loss past
    1e6 to NaN: the page said 'Looks like circle (nan%)', then showed LinAlgError's
    traceback. Now: the charts up to the last finite step, and one sentence."""
    fill_support(app, classes=8)
    add_queries(app, shapes=(1,))
    app.switch_page("app_pages/inside_maml.py").run()
    app.select_slider(key="maml_lr_scale").set_value(scale).run()
    app.radio(key="maml_head_init").set_value(start).run()
    assert not app.exception
    text = _page_text(app)
    assert "nan" not in text.lower()
    diverged = [e.value for e in app.error if "diverged at step" in e.value]
    assert len(diverged) == 1, text
    step = int(diverged[0].split("diverged at step ")[1].split(":")[0])
    assert 1 <= step <= workspace(app).inner_steps
    assert "try a smaller learning rate" in diverged[0]
    curves = next(s for s in chart_specs(app) if any(t.get("name") == "loss" for t in s["data"]))
    loss = next(t for t in curves["data"] if t["name"] == "loss")["y"]
    assert len(loss) == step and all(math.isfinite(v) for v in loss)
    table = next(f for f in app.dataframe if "loss" in f.value.columns).value
    assert len(table) == step and table["loss"].map(math.isfinite).all()
