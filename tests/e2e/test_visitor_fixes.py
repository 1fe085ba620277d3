"""What a visitor met (issue 31), re-tried in Chromium: a first visit to a fresh server, and a
shared session file with link-like class names, 20 classes and a step size that diverges.
Screenshots go to test-artifacts/ (visitor-*.png); look at them."""

from __future__ import annotations

import io
import re
import time

import pytest

from benchmarks.browser import serve, settle
from tests.cards import every_tensor_rates
from tests.e2e.test_journey import _shot, browser, playwright  # noqa: F401 (fixtures)

pytestmark = pytest.mark.e2e
HOSTILE = [
    "[login](https://evil.example)",
    "www.evil.example",
    '=HYPERLINK("http://x","y")',
    ":red[red]",
]
LINKS_TO_USER_TEXT = "a[href*='evil.example'], a[href^='http://x'], a[href*='HYPERLINK']"


def _png(array) -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(255 - array).save(buffer, "PNG")
    return buffer.getvalue()


def _session(omniglot_test) -> bytes:
    """20 classes of Omniglot test characters (2 drawings each), the first four named like
    links, a check image, and the settings a shared file may carry: inner_lr_scale 100."""
    from lab.session import SessionData, StoredImage, export_session

    data = omniglot_test.data.numpy()
    names = HOSTILE + ["<b>bold</b> & co"] + [f"character {k}" for k in range(6, 21)]
    support = [
        [StoredImage(f"c{c}_{d}.png", _png(data[4 * c, d])) for d in range(2)] for c in range(20)
    ]
    session = SessionData(
        class_names=names,
        support=support,
        queries=[StoredImage("check.png", _png(data[4, 5]))],
        settings={"input_kind": "character", "algorithm": "maml", "inner_lr_scale": 100.0},
    )
    return export_session(session)


def test_first_visit_draws_the_whole_home_page_at_once(browser):  # noqa: F811
    """Right after a server starts, Home showed one card with a blank button for ~10 s."""
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    with serve() as url:
        started = time.perf_counter()
        page.goto(url, wait_until="domcontentloaded")
        for label in (
            "Start with handwriting",
            "Try an example: handwriting",
            "Start with photos",
            "Try an example: photos",
            "Read how it works",
        ):
            page.get_by_role("button", name=label).wait_for(timeout=10_000)
        waited = time.perf_counter() - started
        _shot(page, "visitor-home-first-visit")
        print(f"every Home button drawn {waited:.2f} s after the first request")
    context.close()


@pytest.fixture
def every_tensor_server(tmp_path, monkeypatch):
    """A server whose omniglot-maml adapts every tensor, with v2's step sizes (kept in its
    card's history, tests.cards): the shipped v4 moves only its classifier, and its x100 steps stay
    finite, so only such a model shows the page's handling of a loop that diverges."""
    import json
    import shutil

    from core.checkpoints import models_dir

    folder = tmp_path / "models"
    shutil.copytree(models_dir(), folder)
    path = folder / "omniglot-maml.json"
    card = json.loads(path.read_text())
    card["maml"]["lr"] = every_tensor_rates(card)
    path.write_text(json.dumps(card))
    monkeypatch.setenv("FEWSHOT_MODELS", str(folder))  # the server inherits it
    with serve() as url:
        yield url


def test_a_shared_session_with_link_names_and_a_diverging_step_size(
    every_tensor_server,
    browser,  # noqa: F811
    omniglot_test,
):
    server_url = every_tensor_server
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(f"{server_url}/save_load", wait_until="networkidle")
    page.get_by_text("Loading replaces your current classes").wait_for()
    page.locator('[data-testid="stFileUploader"] input[type="file"]').last.set_input_files(
        [{"name": "shared.zip", "mimeType": "application/zip", "buffer": _session(omniglot_test)}]
    )
    page.get_by_text(re.compile(r"Loaded shared\.zip: 20 classes, 40 examples")).wait_for(
        timeout=60_000
    )

    page.get_by_role("link", name="Teach & classify").click()
    page.get_by_text("Looks like").first.wait_for(timeout=120_000)
    settle(page, 800, timeout_ms=120_000)
    _shot(page, "visitor-teach-link-names")
    for name in [*HOSTILE, "<b>bold</b> & co"]:  # each shown as typed, in its header at least
        assert page.get_by_text(name, exact=False).count() >= 1, name
    found = page.evaluate(
        f"() => [...document.querySelectorAll({LINKS_TO_USER_TEXT!r})]"
        ".map(a => a.closest('[data-testid]').getAttribute('data-testid') + ': ' + "
        "a.parentElement.outerHTML.slice(0, 300))"
    )
    assert not found, found

    page.get_by_role("link", name="Inside MAML").click()
    page.get_by_text(re.compile("The inner steps diverged at step \\d+")).wait_for(timeout=120_000)
    settle(page, 800, timeout_ms=120_000)
    _shot(page, "visitor-inside-maml-diverged")
    body = page.locator('[data-testid="stMain"]').inner_text()
    assert "nan" not in body.lower() and "Traceback" not in body and "LinAlgError" not in body
    assert page.locator(LINKS_TO_USER_TEXT).count() == 0

    page.get_by_role("link", name="Embedding space").click()
    page.locator('[data-testid="stPlotlyChart"] .js-plotly-plot').first.wait_for(timeout=120_000)
    settle(page, 800, timeout_ms=120_000)
    _shot(page, "visitor-embedding-20-classes")
    assert page.locator(LINKS_TO_USER_TEXT).count() == 0
    assert not errors, errors
    context.close()


def test_a_formula_file_name_is_escaped_in_the_downloaded_csv(server_url, browser):  # noqa: F811
    """Bug 4 in Chromium: a file named '\\t=1+1.png' reached Classify many's CSV as typed."""
    import csv
    from pathlib import Path

    from tests.app.conftest import character_png
    from tests.e2e.test_classify_many import teach_circle_and_cross

    page = browser.new_page(viewport={"width": 1400, "height": 1000}, accept_downloads=True)
    teach_circle_and_cross(page, server_url)
    page.get_by_role("link", name="Classify many").click()
    page.get_by_text("Images or zips to classify").first.wait_for()
    names = ["\t=1+1.png", "=2+2.png", "plain.png"]
    files = [
        {"name": name, "mimeType": "image/png", "buffer": character_png(k % 2, 4)}
        for k, name in enumerate(names)
    ]
    page.locator('[data-testid="stFileUploader"] input[type="file"]').set_input_files(files)
    page.get_by_role("button", name="Classify").wait_for(timeout=60_000)
    settle(page, 800, timeout_ms=60_000)
    page.get_by_role("button", name="Classify").click()
    page.get_by_text("3 image(s) classified.").wait_for(timeout=60_000)
    settle(page, 800, timeout_ms=60_000)
    _shot(page, "visitor-classify-many-formula-names")
    with page.expect_download() as download:
        page.get_by_role("button", name="Download the table (CSV)").click()
    rows = list(csv.DictReader(io.StringIO(Path(download.value.path()).read_text("utf-8"))))
    # The browser may trim the tab from a file name; whatever name arrived, a cell that
    # starts like a formula is escaped and no cell starts with one.
    files_written = [row["file"] for row in rows]
    assert len(files_written) == 3 and "plain.png" in files_written
    for cell in (value for row in rows for value in row.values()):
        assert cell[:1] not in ("=", "+", "@", "\t", "\r"), cell
    assert any(cell.startswith("'") and "=2+2" in cell for cell in files_written)
    page.close()


def test_inside_maml_settings_do_not_change_compares_random_splits(server_url, browser):  # noqa: F811
    """Bug 2 in Chromium: Proto-MAML set on Inside MAML changed Compare's splits (MAML 28%)."""
    from lab.session import SessionData, StoredImage, export_session
    from tests.app.conftest import character_png

    support = [
        [StoredImage(f"s{c}_{k}.png", character_png(c, k)) for k in range(3)] for c in (0, 1)
    ]
    queries = [StoredImage(f"q{c}.png", character_png(c, 4)) for c in (0, 1)]
    session = SessionData(
        ["circle", "cross"],
        support,
        queries,
        ["circle", "cross"],
        {"input_kind": "character", "algorithm": "maml"},
    )
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.goto(f"{server_url}/save_load", wait_until="networkidle")
    page.get_by_text("Loading replaces your current classes").wait_for()
    page.locator('[data-testid="stFileUploader"] input[type="file"]').last.set_input_files(
        [{"name": "two.zip", "mimeType": "application/zip", "buffer": export_session(session)}]
    )
    page.get_by_text(re.compile(r"Loaded two\.zip")).wait_for(timeout=60_000)
    page.get_by_role("link", name="Compare").click()
    run = page.get_by_role("button", name=re.compile(r"Run \d+ random splits"))
    run.wait_for(timeout=60_000)
    settle(page, 800, timeout_ms=60_000)
    run.click()
    verdict = page.get_by_text(re.compile("MAML minus from scratch"))
    verdict.wait_for(timeout=240_000)
    settle(page, 800, timeout_ms=120_000)
    before = page.locator('[data-testid="stMain"]').inner_text()
    page.get_by_role("link", name="Inside MAML").click()
    page.get_by_text("The embeddings at each step").wait_for(timeout=120_000)
    page.locator('[data-testid="stRadio"] label').filter(has_text="the class centres").click()
    page.get_by_text(re.compile("Not the model's own settings")).wait_for(timeout=60_000)
    settle(page, 800, timeout_ms=60_000)
    page.get_by_role("link", name="Compare").click()
    page.get_by_text(re.compile("MAML minus from scratch")).wait_for(timeout=120_000)
    settle(page, 800, timeout_ms=60_000)
    _shot(page, "visitor-compare-after-inside-maml")
    after = page.locator('[data-testid="stMain"]').inner_text()
    # The splits are not rerun (their key holds the model's own settings) and read the same.
    assert run.count() == 0
    summary = [line for line in before.splitlines() if "minus from scratch" in line]
    again = [line for line in after.splitlines() if "minus from scratch" in line]
    assert summary and summary == again
    page.close()
