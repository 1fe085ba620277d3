"""AppTest of app_pages/playground.py: widgets, both training paths, the step player, the charts."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

PAGE = Path(__file__).resolve().parents[1] / "app_pages" / "playground.py"
FAST_STEPS = 20  # meta-training steps: enough to draw a curve, quick on two cores


def _page(sync: bool = True) -> AppTest:
    at = AppTest.from_file(str(PAGE), default_timeout=120)
    at.session_state["pg_sync_training"] = sync
    at.run()
    assert not at.exception
    return at


def _train(at: AppTest, family: str) -> AppTest:
    if family != "sine":
        at.radio(key="pg_family").set_value(family).run()
    at.number_input(key=f"pg_{family}_meta_steps").set_value(FAST_STEPS).run()
    at.button(key="pg_meta_train").click().run()
    assert not at.exception
    return at


def _specs(at: AppTest) -> list[dict]:
    return [json.loads(chart.proto.spec) for chart in at.get("plotly_chart")]


def test_page_shows_the_settings_with_explanations_and_an_empty_state():
    at = _page()
    assert at.title[0].value == "Meta-learning playground"
    assert at.button(key="pg_meta_train").label == "Meta-train"
    assert at.button(key="pg_stop").disabled  # nothing to stop yet
    for name in ("inner_steps", "inner_lr", "outer_lr", "shots", "meta_batch_size", "seed"):
        widget = at.number_input(key=f"pg_sine_{name}")
        assert widget.help, f"{name} has no one-line explanation"
    assert at.radio(key="pg_sine_order").options == ["second order", "first order"]
    assert any("Meta-train" in info.value for info in at.info)
    assert not at.get("plotly_chart")


def test_meta_train_then_new_task_plays_the_inner_loop_on_sines():
    at = _train(_page(), "sine")
    assert "Trained 20 outer steps" in at.success[0].value
    meta_curve = _specs(at)[0]
    assert len(meta_curve["data"][0]["y"]) == FAST_STEPS
    assert all(isinstance(value, float) for value in meta_curve["data"][0]["y"])

    at.button(key="pg_new_task").click().run()
    assert not at.exception
    specs = _specs(at)
    titles = [spec["layout"]["title"]["text"] for spec in specs]
    assert titles[1:4] == ["MAML start", "Random start", "Pretrained start"]
    truth = next(t for t in specs[1]["data"] if t["name"] == "true function")
    assert len(truth["y"]) == 200 and max(abs(v) for v in truth["y"]) > 0.05
    support = next(t for t in specs[1]["data"] if t["name"].startswith("examples"))
    assert len(support["x"]) == 10 and support["marker"]["symbol"] == "circle"

    at.slider(key="pg_step_sine").set_value(4).run()
    assert not at.exception
    panel = _specs(at)[1]
    assert any(t["name"] == "network after step 4" for t in panel["data"])
    timeline = _specs(at)[-1]
    assert {t["name"] for t in timeline["data"]} == {"MAML", "Random", "Pretrained"}
    assert all(len(t["y"]) == 11 for t in timeline["data"])  # steps 0..10


def test_play_runs_to_the_last_step():
    at = _train(_page(), "sine")
    at.number_input(key="pg_sine_eval_inner_steps").set_value(2).run()
    at.button(key="pg_meta_train").click().run()  # retrain so the run uses 2 steps
    at.button(key="pg_new_task").click().run()
    at.button(key="pg_play").click().run()
    assert not at.exception
    assert at.slider(key="pg_step_sine").value == 2


@pytest.mark.parametrize("family", ["blobs", "linear"])
def test_2d_tasks_show_shaded_boundaries_and_protonet_stars(family):
    at = _train(_page(), family)
    at.button(key="pg_new_task").click().run()
    assert not at.exception
    specs = _specs(at)
    panels = [s for s in specs if s["data"] and s["data"][0]["type"] == "contour"]
    assert len(panels) == 4  # MAML, random, pretrained, ProtoNet
    for panel in panels:
        shading = panel["data"][0]["z"]
        assert len(shading) == 60 and 0.0 <= min(min(row) for row in shading) <= 1.0
    protonet = next(p for p in panels if p["layout"]["title"]["text"].startswith("ProtoNet"))
    symbols = {t.get("marker", {}).get("symbol") for t in protonet["data"]}
    assert {"circle", "diamond", "star"} <= symbols
    before = panels[0]["data"][0]["z"]
    at.slider(key=f"pg_step_{family}").set_value(3).run()
    after = next(s for s in _specs(at) if s["layout"]["title"]["text"].startswith("MAML"))
    assert after["data"][0]["z"] != before  # the boundary moves with the inner steps


def test_background_thread_training_finishes_and_unlocks_the_player():
    at = _page(sync=False)
    at.number_input(key="pg_sine_meta_steps").set_value(FAST_STEPS).run()
    at.button(key="pg_meta_train").click().run()
    assert not at.exception
    run = at.session_state["pg_state"].runs["sine"]
    deadline = time.monotonic() + 60
    while run.status == "running" and time.monotonic() < deadline:
        time.sleep(0.2)
    assert run.status == "done", run.error
    at.run()
    assert not at.exception
    assert len(run.meta_losses) == FAST_STEPS
    assert at.button(key="pg_new_task")


def test_the_page_shows_an_estimated_training_time_before_training():
    at = _page()
    estimate = next(c.value for c in at.caption if c.value.startswith("Training takes about"))
    assert re.search(r"about \d+ s on this machine now", estimate)


def test_stop_ends_the_whole_run_and_the_page_says_so():
    at = _page(sync=False)
    at.number_input(key="pg_sine_meta_steps").set_value(20000).run()  # far longer than a test
    at.button(key="pg_meta_train").click().run()
    run = at.session_state["pg_state"].runs["sine"]
    deadline = time.monotonic() + 60
    while len(run.meta_losses) < 3 and time.monotonic() < deadline:
        time.sleep(0.1)
    assert run.status == "running" and len(run.meta_losses) >= 3
    at.button(key="pg_stop").click().run()
    assert not at.exception
    assert run.status == "stopped"  # the click waits for the run to end: no baseline after it
    assert run.snapshot().progress < 0.5
    assert any(w.value.startswith("Stopped after") and "of MAML" in w.value for w in at.warning)
    assert at.button(key="pg_stop").disabled and not at.button(key="pg_meta_train").disabled
    assert not any(button.key == "pg_new_task" for button in at.button)  # nothing to play
    assert not at.get("progress")  # the bar is gone
