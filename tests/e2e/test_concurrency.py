"""Many users on one server, in a real browser: five Chromium contexts (separate cookies,
separate Streamlit sessions) teach different classes on the same streamlit server and adapt
at the same moment; each page must show its own answer and only its own class names.

Playwright's async API drives the five pages at once from one event loop (in a thread of
its own, so it never meets the sync API of the other browser tests).
"""

from __future__ import annotations

import asyncio
import re
import threading

import pytest

from benchmarks.browser import settle_async
from tests.app.conftest import character_png
from tests.e2e.conftest import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS

pytestmark = pytest.mark.e2e
CONTEXTS = 5
SHAPES = ("circle", "cross", "square", "triangle")  # tests.app.conftest.character_png
STAGGER_S = 3.0


def plan(user: int) -> dict:
    shapes = [user % len(SHAPES), (user + 1) % len(SHAPES)]
    query_shape = shapes[user % 2]
    return {
        "names": [f"u{user} {SHAPES[shape]}" for shape in shapes],
        "shapes": shapes,
        "algorithm": "MAML" if user % 2 == 0 else None,  # None: ProtoNet, the default
        "query_shape": query_shape,
        "expected": f"u{user} {SHAPES[query_shape]}",
    }


async def settle(page, quiet_ms: int = 600) -> None:
    """Wait until no element is stale and no run indicator shows, for quiet_ms in a row."""
    await settle_async(page, quiet_ms, timeout_ms=120_000)


async def upload(page, index: int, files: list[tuple[str, bytes]]) -> None:
    uploaders = page.locator('[data-testid="stFileUploader"] input[type="file"]')
    await uploaders.nth(index).set_input_files(
        [{"name": name, "mimeType": "image/png", "buffer": data} for name, data in files]
    )
    await settle(page)


async def one_user(browser, url: str, user: int, everyone_ready: asyncio.Barrier) -> dict:
    todo = plan(user)
    # Setup is staggered (the barrier below makes the adaptations simultaneous): five renames
    # at once on a loaded CI machine have once in a few runs left a first class's name back at
    # "class 1" (a known open defect, seen in CI; not reproduced here under load), which is not
    # what this test is about.
    await asyncio.sleep(STAGGER_S * user)
    context = await browser.new_context(viewport={"width": 1300, "height": 900})
    page = await context.new_page()
    page_errors: list[str] = []
    page.on("pageerror", lambda error: page_errors.append(str(error)))
    try:
        await page.goto(url, wait_until="networkidle")
        await page.get_by_role("button", name="Start with handwriting").click()
        await page.get_by_text("Add at least one image to each class").first.wait_for()
        names = page.get_by_label("Class name")
        for i, name in enumerate(todo["names"]):
            await names.nth(i).fill(name)
            await names.nth(i).press("Enter")
            await page.get_by_text(f"{name} · 0 image(s)").wait_for()
            # Let the rename's rerun finish before the next action, as a person would: a
            # click during it can make the browser resend the field's old value.
            await settle(page)
        # Both names on screen before going on: a reverted name fails here, by its name.
        for name in todo["names"]:
            await page.get_by_text(f"{name} · 0 image(s)").wait_for(timeout=60_000)
        if todo["algorithm"]:
            await (
                page.locator('[data-testid="stRadio"] label')
                .filter(has_text=re.compile(f"^{todo['algorithm']}$"))
                .first.click()
            )
            await settle(page)
        await upload(
            page, 0, [(f"u{user}-a{v}.png", character_png(todo["shapes"][0], v)) for v in range(2)]
        )
        # Wait for what a person waits for: the first class's count on screen. Under heavy
        # load `settle` can return before that rerun has even started; the rerun then puts a
        # thumbnail row above the first class's uploader, and until it ends the old uploader
        # is still in the page, so the second uploader by position was that stale element and
        # the files sent to it vanished with it (seen in CI and reproduced here under load).
        await page.get_by_text(f"{todo['names'][0]} · 2 image(s)").wait_for(timeout=120_000)
        await settle(page)
        await everyone_ready.wait()  # the second class's images make every user adapt now
        await upload(
            page, 1, [(f"u{user}-b{v}.png", character_png(todo["shapes"][1], v)) for v in range(2)]
        )
        # Wait for the adaptation to finish, as a person watching it would, before the
        # check image goes in (the same reason as above).
        await page.get_by_text(f"{todo['names'][1]} · 2 image(s)").wait_for(timeout=120_000)
        adapted = (
            page.get_by_text(re.compile(r"Adapted in \d+ inner steps"))
            if todo["algorithm"]
            else page.get_by_text("Each star is the centre of a class")
        )
        await adapted.first.wait_for(timeout=120_000)
        await settle(page)
        await upload(page, 2, [(f"u{user}-query.png", character_png(todo["query_shape"], 4))])
        verdict = page.get_by_text(re.compile(r"Looks like .+ \([<>]?\d+%\)"))
        await verdict.first.wait_for(timeout=60_000)
        ARTIFACTS.mkdir(exist_ok=True)
        await page.screenshot(path=str(ARTIFACTS / f"concurrency-user{user}.png"), full_page=True)
        return {
            "user": user,
            "plan": todo,
            "verdicts": await verdict.all_inner_texts(),
            "text": await page.locator("body").inner_text(),
            "errors": page_errors
            + await page.locator('[data-testid="stException"]').all_inner_texts(),
        }
    except BaseException:
        ARTIFACTS.mkdir(exist_ok=True)
        text = await page.locator("body").inner_text()
        (ARTIFACTS / f"concurrency-user{user}-failed.txt").write_text(text)
        await page.screenshot(
            path=str(ARTIFACTS / f"concurrency-user{user}-failed.png"), full_page=True
        )
        raise
    finally:
        await context.close()


async def all_users(url: str) -> list[dict]:
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            everyone_ready = asyncio.Barrier(CONTEXTS)
            return await asyncio.gather(
                *(one_user(browser, url, user, everyone_ready) for user in range(CONTEXTS))
            )
        finally:
            await browser.close()


def test_five_browsers_adapting_at_once_each_see_their_own_answer(server_url):  # noqa: F811
    outcome: dict = {}

    def drive() -> None:
        try:
            outcome["results"] = asyncio.run(all_users(server_url))
        except BaseException as error:  # reported in the test's thread below
            outcome["error"] = error

    thread = threading.Thread(target=drive)
    thread.start()
    thread.join(timeout=400)
    assert not thread.is_alive(), "the browsers did not finish in 400 s"
    if "error" in outcome:
        raise outcome["error"]
    results = outcome["results"]
    for result in results:
        user, todo = result["user"], result["plan"]
        assert not result["errors"], result["errors"]
        assert len(result["verdicts"]) == 1, result["verdicts"]
        assert result["verdicts"][0].startswith(f"Looks like {todo['expected']} ("), result
        others = [
            name for other in results if other["user"] != user for name in other["plan"]["names"]
        ]
        assert not [name for name in others if name in result["text"]], result["text"][:500]
        if todo["algorithm"] == "MAML":
            assert re.search(r"Adapted in \d+ inner steps", result["text"])
    assert len({result["plan"]["expected"] for result in results}) == CONTEXTS
