"""The exact picture in a real browser: load the handwriting example (3 characters), open
Embedding space, and see it drawn first: the plane through the class centres with the
model's decision regions, its probability lines and the stars. Writes
docs/screenshots/exact-view.png (the chart and its caption)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.test_journey import _settle, _shot, _wait_or_shoot, browser, playwright  # noqa: F401

pytestmark = pytest.mark.e2e
SCREENSHOT = Path(__file__).resolve().parents[2] / "docs" / "screenshots" / "exact-view.png"

TRACES_JS = """() => {
  const gd = document.querySelectorAll('.js-plotly-plot')[0];
  return {types: gd.data.map(t => t.type), title: gd._fullLayout.title.text,
          regions: gd.querySelectorAll('.hm, image').length};
}"""


@pytest.mark.usefixtures("omniglot_root")
def test_embedding_space_opens_on_the_exact_picture(server_url, browser):  # noqa: F811
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(server_url, wait_until="networkidle")
    page.get_by_role("button", name="Try an example: handwriting").click()
    _wait_or_shoot(page.get_by_text("Loaded an example"), page, "debug-exact", 90_000)
    _settle(page)
    link = page.get_by_role("link", name="Embedding space")
    try:
        link.click(timeout=90_000)  # a loaded 2-core machine can take a while to settle
    except Exception:
        _shot(page, "debug-exact-link")
        raise
    chart = page.locator(".js-plotly-plot").first
    _wait_or_shoot(chart, page, "debug-exact", 90_000)
    _settle(page)
    page.wait_for_function(
        "() => document.querySelectorAll('.js-plotly-plot')[0]?.data?.[0]?.type == 'heatmap'"
    )
    drawn = page.evaluate(TRACES_JS)
    assert "Exact:" in drawn["title"]
    assert drawn["types"][0] == "heatmap" and drawn["types"].count("contour") == 3
    assert drawn["regions"] >= 1  # the regions are painted, not only listed
    assert page.get_by_text("exact: the space through the class centres").first.is_visible()
    caption = page.get_by_text("every answer and probability read here is the model's own")
    assert caption.first.is_visible()
    block = page.locator('[data-testid="stHorizontalBlock"]', has=chart).last
    block.scroll_into_view_if_needed()
    _settle(page)
    SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    block.screenshot(path=str(SCREENSHOT))
    assert not errors, errors
