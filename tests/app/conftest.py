"""Helpers for the AppTests: character-like PNGs made with PIL, and a filled support set."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from PIL import Image, ImageDraw
from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parents[2]
APP = str(ROOT / "app.py")


def character_png(shape: int, variant: int = 0, size: int = 64) -> bytes:
    """Dark strokes on white: 0 = circle, 1 = cross, 2 = square, 3 = triangle."""
    image = Image.new("L", (size, size), 255)
    draw = ImageDraw.Draw(image)
    v = 2 * variant
    if shape == 0:
        draw.ellipse((10 + v, 10, 52, 52 - v), outline=0, width=5)
    elif shape == 1:
        draw.line((10, 10 + v, 54, 54), fill=0, width=5)
        draw.line((54, 10, 10 + v, 54), fill=0, width=5)
    elif shape == 2:
        draw.rectangle((12, 12 + v, 52, 52), outline=0, width=5)
    else:
        draw.polygon([(32, 8 + v), (56, 54), (8, 54)], outline=0, width=5)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def new_app() -> AppTest:
    at = AppTest.from_file(APP, default_timeout=120)
    at.run()
    assert not at.exception
    return at


def workspace(at: AppTest):
    return at.session_state["fsl_workspace"]


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
            key=f"class_{card.id}_up_{workspace(at).nonce(f'class_{card.id}')}"
        ).set_value(files).run()
        assert not at.exception
    return at


def add_queries(at: AppTest, shapes=(1,)) -> AppTest:
    files = [(f"query{s}.png", character_png(s, 3), "image/png") for s in shapes]
    at.file_uploader(key=f"query_up_{workspace(at).nonce('query')}").set_value(files).run()
    assert not at.exception
    return at


def chart_specs(at: AppTest) -> list[dict]:
    return [json.loads(chart.proto.spec) for chart in at.get("plotly_chart")]


@pytest.fixture
def app() -> AppTest:
    return new_app()
