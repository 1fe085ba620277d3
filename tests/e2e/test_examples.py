""" "Try an example" in a real browser: from the home page, with no files of the test's own,
one click opens Teach & classify with a ready lesson and the model's verdicts on its check
images. Screenshots go to test-artifacts/ (look at them). The photo lesson is driven the same
way by the AppTests (tests/app/test_examples.py); one browser journey keeps the suite short."""

from __future__ import annotations

import re

import pytest

from tests.e2e.test_journey import _settle, _shot, _wait_or_shoot, browser, playwright  # noqa: F401

pytestmark = pytest.mark.e2e


def _open_example(page, server_url: str, button: str, first_class: str, shot: str) -> None:
    """Home -> the example button -> Teach, waiting for six verdicts; screenshots of both."""
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(server_url, wait_until="networkidle")
    page.get_by_role("button", name="Read how it works").wait_for()  # the page's last button
    _settle(page)
    _shot(page, f"{shot}-home")
    page.get_by_role("button", name=button).click()
    _wait_or_shoot(page.get_by_text("Loaded an example"), page, f"debug-{shot}", 90_000)
    page.get_by_text(f"{first_class} · 5 image(s)").wait_for()
    verdicts = page.get_by_text(re.compile(r"^Looks like .+ \([<>]?\d+%\)$"))
    _wait_or_shoot(verdicts.nth(5), page, f"debug-{shot}", 90_000)
    _settle(page)
    assert verdicts.count() == 6
    page.get_by_text(re.compile(rf"^Looks like {re.escape(first_class)} ")).first.wait_for()
    page.get_by_text("Example images:").wait_for()
    _shot(page, f"{shot}-teach")
    assert not errors, errors


@pytest.mark.usefixtures("omniglot_root")
def test_handwriting_example_from_home(server_url, browser):  # noqa: F811
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    _open_example(
        page, server_url, "Try an example: handwriting", "Tengwar 10", "20-example-handwriting"
    )
    page.close()
