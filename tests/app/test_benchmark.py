"""Benchmark page: one bar group per run and a Clear button, models that match the data,
server folders off by default and confined to the operator's roots, help shown as typed."""

from __future__ import annotations

import re

import pytest

from lab import viz
from lab.folders import ROOTS_VARIABLE
from tests.app.conftest import character_png, chart_specs

SAME_MESSAGE = "That is not a folder this server lets visitors read"


@pytest.fixture
def classes(tmp_path):
    """tmp_path/root/shapes/<3 class folders of 4 PNGs>, and tmp_path/outside/secret."""
    root = tmp_path.resolve() / "root"
    for shape in range(3):
        folder = root / "shapes" / f"shape{shape}"
        folder.mkdir(parents=True)
        for k in range(4):
            (folder / f"{k}.png").write_bytes(character_png(shape, k))
    outside = tmp_path.resolve() / "outside" / "secret"
    for name in ("a", "b"):
        (outside / name).mkdir(parents=True)
        (outside / name / "0.png").write_bytes(character_png(0))
    (root / "link_out").symlink_to(outside, target_is_directory=True)
    return root


def _folder(app, path: str):
    app.switch_page("app_pages/benchmark.py").run()
    app.radio(key="bench_dataset").set_value("folder").run()
    app.number_input(key="bench_ways").set_value(3).run()  # the folder has 3 classes
    app.number_input(key="bench_queries").set_value(2).run()  # of 4 images each
    app.text_input(key="bench_folder").set_value(path).run()
    assert not app.exception
    return app


def _texts(app) -> str:
    return " ".join(
        e.value
        for kind in ("warning", "caption", "info", "markdown", "error")
        for e in app.get(kind)
    )


def test_the_figure_gives_every_run_its_own_slot():
    spec = viz.benchmark_figure(["a 5w1s", "a 5w1s"], [85.3, 85.3], [1.0, 1.0], [98.8, 98.8])
    ours, paper = spec.data
    assert list(ours.x) == [0, 1] and list(ours.y) == [85.3, 85.3]
    assert list(paper.x) == [0, 1]
    assert list(spec.layout.xaxis.ticktext) == ["a 5w1s", "a 5w1s"]
    assert spec.layout.barmode == "group"


def test_two_runs_of_one_setting_stand_side_by_side_and_clear_removes_them(
    app, classes, monkeypatch
):
    monkeypatch.setenv(ROOTS_VARIABLE, str(classes))
    _folder(app, str(classes / "shapes"))
    app.selectbox(key="bench_model").set_value("omniglot-protonet").run()
    app.number_input(key="bench_episodes").set_value(2).run()
    for _ in range(2):
        app.button(key="bench_run").click().run()
        assert not app.exception
    results = app.session_state["bench_results"]
    assert len(results) == 2 and results[0]["accuracy"] == results[1]["accuracy"]
    ours, paper = chart_specs(app)[0]["data"]
    assert ours["y"] == [r["accuracy"] for r in results]  # two bars, never one summed bar
    assert len(set(ours["x"])) == 2 and paper["x"] == ours["x"]
    ticks = chart_specs(app)[0]["layout"]["xaxis"]["ticktext"]
    assert ticks == ["1: omniglot-protonet 3w1s", "2: omniglot-protonet 3w1s"]
    assert list(app.dataframe[0].value["run"]) == [1, 2]

    app.button(key="bench_clear").click().run()
    assert not app.exception
    assert "bench_results" not in app.session_state
    assert not app.get("plotly_chart") and not app.metric
    assert not [b for b in app.button if b.key == "bench_clear"]


def test_only_the_models_made_for_the_dataset_are_offered(app, classes, monkeypatch):
    app.switch_page("app_pages/benchmark.py").run()
    app.radio(key="bench_dataset").set_value("omniglot").run()
    model = app.selectbox(key="bench_model")
    assert model.options == ["omniglot-maml", "omniglot-protonet"]
    model.set_value("omniglot-maml").run()
    app.radio(key="bench_dataset").set_value("miniimagenet").run()
    assert not app.exception
    model = app.selectbox(key="bench_model")
    assert model.options == ["photo-maml", "photo-protonet"]
    assert model.value in model.options

    monkeypatch.setenv(ROOTS_VARIABLE, str(classes))
    app.radio(key="bench_dataset").set_value("folder").run()
    assert not app.exception
    assert set(app.selectbox(key="bench_model").options) == {
        "omniglot-maml",
        "omniglot-protonet",
        "photo-maml",
        "photo-protonet",
    }
    assert "handwriting model" in _texts(app) and "photo model for photos" in _texts(app)


def test_server_folders_are_off_by_default(app, monkeypatch):
    monkeypatch.delenv(ROOTS_VARIABLE, raising=False)
    app.switch_page("app_pages/benchmark.py").run()
    app.radio(key="bench_dataset").set_value("folder").run()
    assert not app.exception
    assert not [t for t in app.text_input if t.key == "bench_folder"]
    info = " ".join(i.value for i in app.info)
    assert "off" in info and ROOTS_VARIABLE in info and "SECURITY.md" in info
    assert "bench_results" not in app.session_state


def test_a_folder_inside_a_root_works_and_others_are_refused_alike(app, classes, monkeypatch):
    monkeypatch.setenv(ROOTS_VARIABLE, str(classes))
    _folder(app, str(classes / "shapes"))
    assert any("first episode" in c.value for c in app.caption)
    assert not app.warning
    refusals = []
    for path in ("/etc", "/no/such/folder", str(classes / "link_out"), "../outside/secret"):
        app.text_input(key="bench_folder").set_value(path).run()
        assert not app.exception
        assert not any("first episode" in c.value for c in app.caption), path
        refusals.append([w.value for w in app.warning])
    assert all(r == refusals[0] for r in refusals)  # never tells whether a path exists
    assert SAME_MESSAGE in refusals[0][0]
    for text in refusals[0]:
        assert "/etc" not in text and "class folder" not in text and "exist" not in text


def test_a_streamlit_secret_also_allows_a_root(app, classes, monkeypatch):
    monkeypatch.delenv(ROOTS_VARIABLE, raising=False)
    app.secrets["folder_roots"] = [str(classes)]
    _folder(app, "shapes")  # relative to the root
    assert any("first episode" in c.value for c in app.caption)


def test_the_folder_help_shows_its_asterisks(app, classes, monkeypatch):
    monkeypatch.setenv(ROOTS_VARIABLE, str(classes))
    _folder(app, "")
    help_text = app.info[0].value
    assert "`my_data/cats/*.jpg`" in help_text and "`my_data/dogs/*.jpg`" in help_text
    assert "*" not in re.sub(r"`[^`]*`", "", help_text)  # every * inside a code span
