"""AppTests of Compare's "How many examples are enough?" (ui.shots_curve, lab.shots): the
curve of all three learners, its points against lab.shots run directly, a failing learner
that leaves the others, and the message when a class has too few images."""

from __future__ import annotations

import pytest

from tests.app.conftest import chart_specs, fill_support, workspace


def _curve_spec(app) -> dict:
    (spec,) = [s for s in chart_specs(app) if "examples per class" in s["layout"]["title"]["text"]]
    return spec


def _open_with_three_per_class(app, learners=None):
    fill_support(app, classes=2, shots=3)
    app.switch_page("app_pages/compare.py").run()
    assert not app.exception
    app.number_input(key="compare_steps").set_value(20).run()
    app.number_input(key="shots_splits").set_value(3).run()
    if learners is not None:
        app.multiselect(key="shots_learners").set_value(learners).run()
    app.button(key="shots_run").click().run()
    assert not app.exception


def test_curve_of_three_learners_matches_lab_shots(app):
    from lab.compare import labelled_images
    from lab.shots import ShotSettings, protonet_learner, shot_curve
    from ui.models import shared_model

    _open_with_three_per_class(app)
    assert not app.error
    spec = _curve_spec(app)
    assert "plain" in spec["layout"]["title"]["text"]
    lines = {t["name"]: t for t in spec["data"] if t.get("mode") == "lines+markers"}
    assert list(lines) == ["ProtoNet", "MAML", "From scratch"]
    for trace in lines.values():
        assert [round(x) for x in trace["x"]] == [1, 2]  # 3 a class: 1 or 2 to learn from
        assert trace["error_y"]["visible"]
        assert all(0 <= y <= 100 for y in trace["y"])
    assert any(t["name"] == "random guess (1 in 2)" for t in spec["data"])
    table = app.dataframe[-1].value
    assert list(table["examples per class"]) == [1, 2]
    assert list(table["images scored"]) == [4, 2]
    app.run()
    assert not [b for b in app.button if b.key == "shots_run"]  # kept, not run again
    assert _curve_spec(app)["data"][0]["y"] == lines["ProtoNet"]["y"]

    # The page's ProtoNet points are lab.shots' on the same images, settings and seed.
    ws = workspace(app)
    images, labels, _ = labelled_images(ws)
    model = shared_model("omniglot-protonet")
    learner = protonet_learner("ProtoNet", model, images, ws.shipped_settings("protonet"))
    direct = shot_curve(learner, labels, ShotSettings(splits=3))
    assert lines["ProtoNet"]["y"] == pytest.approx([100 * p.mean for p in direct.points])


def test_a_failing_learner_leaves_the_others(app, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("the encoder ran out of memory")

    monkeypatch.setattr("lab.shots.protonet_learner", broken)
    _open_with_three_per_class(app, learners=["ProtoNet", "MAML"])
    (error,) = app.error
    assert error.value == "ProtoNet could not be scored: the encoder ran out of memory"
    lines = [t["name"] for t in _curve_spec(app)["data"] if t.get("mode") == "lines+markers"]
    assert lines == ["MAML"]


def test_too_few_images_say_which_classes(app):
    fill_support(app, classes=2, shots=1)
    app.switch_page("app_pages/compare.py").run()
    assert not app.exception
    assert any(
        "at least 2 labelled images" in i.value and "class 1, class 2" in i.value for i in app.info
    )
    assert not [b for b in app.button if b.key == "shots_run"]
