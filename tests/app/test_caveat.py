"""The ImageNet caveat: beside every photo model's mini-ImageNet number, never elsewhere."""

from __future__ import annotations

import pytest

from core.data import data_root
from core.papers import APP_CAVEAT, APP_CAVEAT_BRIEF, imagenet_caveat_applies
from tests.app.conftest import chart_specs


def _has(dataset: str) -> bool:
    """Whether the benchmark dataset's files are on this machine (without reading them)."""
    return (data_root() / dataset).is_dir()


def _run_benchmark(app, dataset: str, model: str):
    """Benchmark page: `model` on `dataset`, 5-way 1-shot, 2 queries, 2 episodes."""
    app.switch_page("app_pages/benchmark.py").run()
    app.radio(key="bench_dataset").set_value(dataset).run()
    app.selectbox(key="bench_model").set_value(model).run()
    app.number_input(key="bench_queries").set_value(2).run()
    app.number_input(key="bench_episodes").set_value(2).run()
    assert not app.exception
    before = [c.value for c in app.caption]
    app.button(key="bench_run").click().run()
    assert not app.exception
    assert app.session_state["bench_results"][-1]["episodes"] == 2
    return before


def _texts(app) -> list[str]:
    """Every warning, caption, info and Markdown text on the page."""
    return [e.value for kind in ("warning", "caption", "info", "markdown") for e in app.get(kind)]


def test_the_caveat_applies_to_photo_models_on_mini_imagenet_only():
    assert imagenet_caveat_applies("photo", "miniimagenet")
    assert not imagenet_caveat_applies("photo", "omniglot")
    assert not imagenet_caveat_applies("character", "miniimagenet")
    assert not imagenet_caveat_applies("character", "omniglot")
    for text in (APP_CAVEAT, APP_CAVEAT_BRIEF):
        assert "ImageNet-1k" in text and "test classes" in text and "never seen" in text


@pytest.mark.skipif(not _has("miniimagenet"), reason="mini-ImageNet is not on this machine")
def test_benchmark_photo_model_on_mini_imagenet_shows_the_imagenet_caveat(app):
    before = _run_benchmark(app, "miniimagenet", "photo-protonet")
    assert APP_CAVEAT_BRIEF in before  # shown where the model is chosen, before any number
    warnings = [w.value for w in app.warning]
    assert APP_CAVEAT in warnings
    caveat = warnings[warnings.index(APP_CAVEAT)]
    assert "EfficientNet-Lite0 backbone was trained on ImageNet-1k" in caveat
    assert "every mini-ImageNet class, the test classes included" in caveat
    assert "not a few-shot result on classes it has never seen" in caveat
    assert "not comparable with the papers' Conv-4 numbers" in caveat
    assert "trained from scratch" in caveat
    assert app.metric[1].label == "Paper (Conv-4 from scratch)"
    assert app.metric[1].value == "49.4%"
    table = app.dataframe[0].value
    assert list(table["note"]) == ["backbone saw these classes"]
    paper_bars = chart_specs(app)[0]["data"][1]
    assert paper_bars["name"] == "paper, Conv-4 from scratch"
    assert not any("has never seen" in t and "ImageNet" not in t for t in _texts(app))


@pytest.mark.skipif(not _has("omniglot"), reason="Omniglot is not on this machine")
def test_benchmark_omniglot_model_on_omniglot_does_not_claim_imagenet(app):
    before = _run_benchmark(app, "omniglot", "omniglot-protonet")
    assert APP_CAVEAT_BRIEF not in before
    assert not any("ImageNet" in w.value for w in app.warning)
    assert not any("ImageNet" in c.value for c in app.caption)
    assert any("never saw the Omniglot test characters" in t for t in _texts(app))
    assert app.metric[1].label == "Paper (Conv-4)"
    assert "note" not in app.dataframe[0].value.columns
    assert chart_specs(app)[0]["data"][1]["name"] == "paper"
