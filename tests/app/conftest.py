"""Helpers for the AppTests: character-like PNGs made with PIL, and a filled support set."""

from __future__ import annotations

import html
import json
import re
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from benchmarks.load import drawing

ROOT = Path(__file__).resolve().parents[2]
APP = str(ROOT / "app.py")


def character_png(shape: int, variant: int = 0, size: int = 64) -> bytes:
    """Dark strokes on white: 0 = circle, 1 = cross, 2 = square, 3 = triangle (the drawings
    the load benchmark's sessions teach with: benchmarks.load.drawing)."""
    return drawing(shape, variant, size)


def new_app() -> AppTest:
    at = AppTest.from_file(APP, default_timeout=120)
    at.run()
    assert not at.exception
    return at


def workspace(at: AppTest):
    return at.session_state["fsl_workspace"]


def ui_state(at: AppTest):
    """The session's ui.state.SessionUI: widget counters, messages, cached results."""
    from ui.session_state import UI_KEY, SessionUI

    try:
        return at.session_state[UI_KEY]
    except KeyError:  # no page has used it yet: every counter is still 0
        return SessionUI()


def fill_support(at: AppTest, classes: int = 2, shots: int = 2) -> AppTest:
    """Go to Teach & classify, make `classes` classes and upload `shots` images to each."""
    at.switch_page("app_pages/teach.py").run()
    while len(workspace(at).classes) < classes:
        at.button(key="add_class").click().run()
    for shape, card in enumerate(workspace(at).classes):
        files = [
            (f"shape{shape}_{k}.png", character_png(shape, k), "image/png") for k in range(shots)
        ]
        at.file_uploader(
            key=f"class_{card.id}_up_{ui_state(at).nonce(f'class_{card.id}')}"
        ).set_value(files).run()
        assert not at.exception
    return at


def add_queries(at: AppTest, shapes=(1,)) -> AppTest:
    files = [(f"query{s}.png", character_png(s, 3), "image/png") for s in shapes]
    at.file_uploader(key=f"query_up_{ui_state(at).nonce('query')}").set_value(files).run()
    assert not at.exception
    return at


def answer_bars(at: AppTest) -> list[dict]:
    """The HTML bar sets of ui.probability_bars / ui.distance_bars on the page, in page order:
    {"kind": "probability" | "distance", "names": [...], "values": [...]}."""
    found = []
    for block in at.markdown:
        kind = re.match(r'<div data-testid="fsl-(probability|distance)-bars"', block.value)
        if kind:
            rows = re.findall(r'data-value="([^"]*)" title="([^"]*)"', block.value)
            found.append(
                {
                    "kind": kind.group(1),
                    "names": [html.unescape(t).rsplit(": ", 1)[0] for _, t in rows],
                    "values": [float(v) for v, _ in rows],
                }
            )
    return found


def chart_specs(at: AppTest) -> list[dict]:
    return [json.loads(chart.proto.spec) for chart in at.get("plotly_chart")]


@pytest.fixture
def app() -> AppTest:
    return new_app()
