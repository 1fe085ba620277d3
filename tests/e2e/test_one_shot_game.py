"""You vs the model in a real browser: open the page, pick a candidate, see the three verdicts
and the score change. The screenshot goes to docs/screenshots/one-shot-game.png (the README's)
and to test-artifacts/."""

from __future__ import annotations

import re
import shutil

import pytest

from tests.e2e.conftest import ARTIFACTS, ROOT
from tests.e2e.test_journey import _settle, _shot, _wait_or_shoot, browser, playwright  # noqa: F401

pytestmark = pytest.mark.e2e
SCREENSHOT = ROOT / "docs" / "screenshots" / "one-shot-game.png"


def _score(page, who: str) -> str:
    metric = page.locator('[data-testid="stMetric"]').filter(has_text=who).first
    return metric.locator('[data-testid="stMetricValue"]').inner_text().strip()


@pytest.mark.usefixtures("omniglot_root")
def test_pick_a_twin_and_see_the_models_verdicts(server_url, browser):  # noqa: F811
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(f"{server_url}/one_shot_game", wait_until="networkidle")
    _wait_or_shoot(page.get_by_role("button", name="Pick 20"), page, "debug-one-shot", 90_000)
    _settle(page)
    assert page.locator('[data-testid="fsl-game-candidate"] img').count() == 20
    assert page.locator('[data-testid="fsl-game-question"] img').count() == 1
    assert _score(page, "You") == "0 / 0"

    page.get_by_role("button", name="Pick 7", exact=True).click()
    verdicts = page.locator('[data-testid="fsl-game-verdict"]')
    _wait_or_shoot(verdicts.nth(2), page, "debug-one-shot", 90_000)
    _settle(page)
    texts = [verdicts.nth(i).inner_text() for i in range(3)]
    assert re.search(r"You picked #7\b", texts[0]), texts
    assert re.search(r"ProtoNet picked #\d+", texts[1]) and re.search(r"MAML picked #\d+", texts[2])
    you_right = verdicts.nth(0).get_attribute("data-right") == "true"
    assert _score(page, "You") == f"{int(you_right)} / 1"
    protonet_right = verdicts.nth(1).get_attribute("data-right") == "true"
    assert _score(page, "ProtoNet") == f"{int(protonet_right)} / 1"
    assert page.get_by_role("button", name="Pick 1", exact=True).count() == 0  # answered
    assert page.get_by_text("✓ twin").count() == 1  # the right answer is marked
    page.get_by_text("People (Lake et al. 2015)").wait_for()
    _shot(page, "one-shot-game")
    SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(ARTIFACTS / "one-shot-game.png", SCREENSHOT)
    assert not errors, errors
    page.close()
