"""ui helpers that pages rely on: drawing pad images and class chips."""

from __future__ import annotations

import numpy as np

import ui
from lab import viz


def test_canvas_png_is_none_for_a_blank_pad_and_dark_ink_on_white_otherwise():
    blank = np.zeros((50, 50, 4), dtype=np.uint8)
    assert ui.canvas_png(blank) is None
    assert ui.canvas_png(None) is None
    drawn = blank.copy()
    drawn[20:30, 10:40] = (0, 0, 0, 255)
    from core.images import decode_image, looks_like_character

    image = decode_image(ui.canvas_png(drawn), "drawing.png")
    assert image.getpixel((0, 0)) == (255, 255, 255)
    assert image.getpixel((15, 25)) == (0, 0, 0)
    assert looks_like_character(image)[0]


def test_chip_uses_the_same_palette_as_the_figures():
    for index in range(10):
        assert viz.class_colour(index) in ui.chip(index, "x")
    assert r"<bdi>\<b\></bdi>" in ui.chip(0, "<b>")  # names are escaped (Markdown literals)


def test_chip_shows_markdown_and_math_in_a_name_as_typed():
    chip = ui.chip(0, "**md** $x$ <i>", " · 2 image(s)")
    # Markdown-escaped only: an HTML escape first would now show "&lt;" (its & is escaped
    # too); an escaped < is literal text (Chromium: tests/e2e/test_visitor_fixes.py).
    assert r"\*\*md\*\* \$x\$ \<i\>" in chip
    assert "**md**" not in chip and "$x$" not in chip
