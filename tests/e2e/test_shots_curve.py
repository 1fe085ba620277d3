"""How many examples are enough? in a real browser: load the handwriting example (3 characters,
7 labelled drawings each), open Compare, draw the curve of ProtoNet, MAML and the from-scratch
learner (3 splits a point instead of 20,
and 30 fine-tune steps instead of 100, to keep the test short) and read the chart back.
Writes docs/screenshots/accuracy-vs-shots.png (the section) and test-artifacts/."""

from __future__ import annotations

import shutil

import pytest

from tests.e2e.conftest import ARTIFACTS, ROOT
from tests.e2e.test_journey import _settle, _shot, _wait_or_shoot, browser, playwright  # noqa: F401

pytestmark = pytest.mark.e2e
SCREENSHOT = ROOT / "docs" / "screenshots" / "accuracy-vs-shots.png"

TRACES_JS = """(plot) => ({
  title: plot._fullLayout.title.text,
  lines: plot.data.filter(t => t.mode == 'lines+markers')
    .map(t => ({name: t.name, x: t.x, y: t.y})),
  names: plot.data.map(t => t.name),
})"""


@pytest.mark.usefixtures("omniglot_root")
def test_compare_draws_accuracy_against_shots(server_url, browser):  # noqa: F811
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(server_url, wait_until="networkidle")
    page.get_by_role("button", name="Try an example: handwriting").click()
    _wait_or_shoot(page.get_by_text("Loaded an example"), page, "debug-shots", 90_000)
    _settle(page)
    link = page.get_by_role("link", name="Compare")
    try:
        link.click(timeout=90_000)  # a loaded 2-core machine can take a while to settle
    except Exception:
        _shot(page, "debug-shots-link")
        raise
    steps = page.get_by_role("spinbutton", name="Fine-tune steps (Adam)")
    steps.fill("30")  # the from-scratch learner: 30 Adam steps a split, not 100
    steps.press("Enter")
    _settle(page)
    section = page.locator(".st-key-shots_curve")
    _wait_or_shoot(
        section.get_by_text("How many examples are enough?"), page, "debug-shots", 90_000
    )
    _settle(page)
    section.scroll_into_view_if_needed()
    section.get_by_text("6 numbers of examples per class (1 to 6").wait_for()
    splits = section.get_by_role("spinbutton", name="Random splits per number of examples")
    splits.fill("3")
    splits.press("Enter")
    _settle(page)
    section.get_by_role("button", name="Draw the curve").click()
    plot = section.locator(".js-plotly-plot")
    _wait_or_shoot(plot, page, "debug-shots", 400_000)
    _settle(page)
    drawn = plot.evaluate(TRACES_JS)
    assert "plain" in drawn["title"]
    assert [line["name"] for line in drawn["lines"]] == ["ProtoNet", "MAML", "From scratch"]
    for line in drawn["lines"]:
        assert [round(x) for x in line["x"]] == [1, 2, 3, 4, 5, 6]
        assert all(0 <= y <= 100 for y in line["y"])
    assert "random guess (1 in 3)" in drawn["names"]
    section.get_by_text("Accuracy here is plain accuracy").wait_for()
    assert not section.locator('[data-testid="stAlert"]').filter(has_text="could not").count()
    page.set_viewport_size({"width": 1400, "height": 2400})  # the table drawn in full too
    section.scroll_into_view_if_needed()
    _settle(page)
    ARTIFACTS.mkdir(exist_ok=True)
    section.screenshot(path=str(ARTIFACTS / "accuracy-vs-shots.png"))
    SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(ARTIFACTS / "accuracy-vs-shots.png", SCREENSHOT)
    assert not errors, errors
    page.close()
