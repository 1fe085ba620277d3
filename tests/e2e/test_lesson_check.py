"""Check the lesson in a real browser: load the handwriting example, plant a drawing of its
second character in the first class, see it flagged ("this looks like a Tibetan 1"), move it
with one click, and see the flag go. Writes docs/screenshots/which-examples-matter.png (the
section with the flag, the most and least helpful examples and the wrong-cue table)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.test_journey import (  # noqa: F401
    _settle,
    _shot,
    _upload,
    _wait_or_shoot,
    browser,
    playwright,
)

pytestmark = pytest.mark.e2e
SCREENSHOT = (
    Path(__file__).resolve().parents[2] / "docs" / "screenshots" / "which-examples-matter.png"
)


def _planted_drawing(omniglot_root) -> tuple[str, bytes]:
    """A drawing of the example's second character that the lesson does not hold."""
    from lab.examples import HANDWRITING_CHARACTERS, _drawings, _evaluation_source

    _, data = _drawings(_evaluation_source(omniglot_root), HANDWRITING_CHARACTERS[1])[12]
    return "planted.png", data


def test_a_planted_mislabel_is_flagged_and_fixed(server_url, browser, omniglot_root):  # noqa: F811
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(server_url, wait_until="networkidle")
    page.get_by_role("button", name="Try an example: handwriting").click()
    _wait_or_shoot(page.get_by_text("Loaded an example"), page, "debug-lesson-check", 90_000)
    section = page.locator(".st-key-lesson_check")
    _wait_or_shoot(
        section.get_by_text("No example looks mislabelled"), page, "debug-lesson-check", 90_000
    )
    _upload(page, 0, [_planted_drawing(omniglot_root)])  # the first class's uploader
    flag = section.get_by_text("planted.png is in Tengwar 10, but this looks like a Tibetan 1")
    _wait_or_shoot(flag, page, "debug-lesson-check", 90_000)
    _settle(page)
    assert section.get_by_text("Suspected mislabels (1)").is_visible()
    assert section.get_by_text("Most helpful:").count() == 3
    section.get_by_text("Does it rely on the wrong cue?").wait_for()
    page.set_viewport_size({"width": 1400, "height": 3000})  # the whole section in view
    section.scroll_into_view_if_needed()
    _settle(page)
    SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    section.screenshot(path=str(SCREENSHOT))
    page.set_viewport_size({"width": 1400, "height": 1000})
    section.get_by_role("button", name="Move to Tibetan 1").click()
    _wait_or_shoot(page.get_by_text("Moved planted.png to Tibetan 1."), page, "debug-lc", 90_000)
    _wait_or_shoot(section.get_by_text("No example looks mislabelled"), page, "debug-lc", 90_000)
    _settle(page)
    assert flag.count() == 0
    page.get_by_text("Tibetan 1 · 6 image(s)").wait_for()
    page.get_by_text("Tengwar 10 · 5 image(s)").wait_for()
    _shot(page, "lesson-check-fixed")
    assert not errors, errors
