""" "Why this verdict?" in a real browser: the photo example lesson (it needs no dataset), its
check images classified on Teach, the switch turned on, and the occlusion map with the nearest
examples of the winner and the runner-up drawn. The section's screenshot goes to
docs/screenshots/why-this-verdict.png (the README's) and to test-artifacts/."""

from __future__ import annotations

import re
import shutil

import pytest

from tests.e2e.conftest import ARTIFACTS, ROOT
from tests.e2e.test_journey import _settle, _wait_or_shoot, browser, playwright  # noqa: F401

pytestmark = pytest.mark.e2e
SCREENSHOT = ROOT / "docs" / "screenshots" / "why-this-verdict.png"


def test_why_this_verdict_shows_the_map_and_the_nearest_examples(server_url, browser):  # noqa: F811
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(server_url, wait_until="networkidle")
    button = page.get_by_role("button", name="Try an example: photos")
    _wait_or_shoot(button, page, "debug-why-verdict", 90_000)
    _settle(page)
    button.click()
    verdicts = page.get_by_text(re.compile(r"^Looks like .+ \([<>]?\d+%\)$"))
    _wait_or_shoot(verdicts.nth(5), page, "debug-why-verdict", 120_000)
    _settle(page)
    newest = verdicts.first.inner_text()  # the picker starts with the newest check image
    winner = re.match(r"^Looks like (.+) \(", newest)[1]

    page.get_by_text("Why this verdict?", exact=True).click()
    section = page.locator(".st-key-why_verdict")
    _wait_or_shoot(section.locator(".js-plotly-plot"), page, "debug-why-verdict", 120_000)
    _settle(page)
    section.get_by_text(f"Why {winner}?").wait_for()
    # The map: one heat map over the picture, with its colour bar's words.
    plot = section.locator(".js-plotly-plot")
    assert plot.locator(".hm, image").count() >= 2  # the picture and the heat map layers
    for words in ("hurts the verdict", "helps the verdict", "no change"):
        assert plot.get_by_text(words).count() == 1, words
    # Three nearest examples of the winner and three of the runner-up, each with a distance.
    section.get_by_text(f"{winner} · nearest examples (winner)").wait_for()
    assert section.get_by_text(re.compile(r"· nearest examples \(runner-up\)$")).count() == 1
    assert section.locator('[data-testid="stImage"] img').count() == 6
    section.get_by_text(
        re.compile(r"^Under each example: the model's own squared Euclidean")
    ).wait_for()
    section.scroll_into_view_if_needed()
    ARTIFACTS.mkdir(exist_ok=True)
    section.screenshot(path=str(ARTIFACTS / "why-this-verdict.png"))
    SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(ARTIFACTS / "why-this-verdict.png", SCREENSHOT)
    assert not errors, errors
    page.close()
