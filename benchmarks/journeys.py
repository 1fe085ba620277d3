"""How long a person waits, click to settled page, on the journeys issue 19 names.

    python -m benchmarks journeys --runs 3 --out docs/results/journeys.json

Each run starts a fresh streamlit server (benchmarks.browser.serve) and drives Debian's
Chromium through it at once, with no pause a person would make:
  1. photos: "Start with photos", a third class, 4 photos uploaded to each class one class
     after the other (the first photo lesson: the backbone's loading is whatever of it the
     server has not done by then); then one check photo; then 8 check photos at once;
  2. handwriting, in a new session: 3 classes x 3 drawings, then check drawings added one at
     a time (each -> its verdict), then the first switch to MAML, then Inside MAML (its first
     view adapts the card's 20 steps with the check images), then, with the other head start
     the "Inner steps" slider at 1 and the largest learning rate, the slider moved to 20: a
     20-step adaptation that no cache holds.

A wait is measured in the page's own clock: from the action to the later of (a) the moment
the answer is on the page (the verdicts, "Adapted in", the 20-step slider) and (b) the moment
the page last stopped being busy (no stale element, no run indicator) before staying quiet
for 500 ms. The report gives every wait and the median per journey, beside the issue's
targets. Photos are crops of scikit-image's CC0 sample photos (chelsea, coffee, rocket), as
JPEGs of 640 px, the size a phone's "smaller" share gives.
"""

from __future__ import annotations

import argparse
import io
import json
import platform
import re
import statistics
import time
from pathlib import Path
from typing import Any

from PIL import Image

from benchmarks.browser import CHROMIUM, CHROMIUM_ARGS, SETTLE_JS, serve
from benchmarks.load import drawing

# The targets (seconds, click to settled page, idle machine).
TARGETS = {
    "handwriting_check_image_s": 0.5,
    "first_maml_switch_s": 1.5,
    "first_photo_lesson_s": 3.0,
    "photo_check_image_s": 0.8,
    "eight_photo_checks_s": 1.5,
    "inside_maml_20_steps_s": 2.0,
}
QUIET_MS = 500
VERBOSE = False  # --verbose: each wait's two moments (answer on the page, page settled)
# The answer is on the page: at least `count` matches of `pattern` in its text.
TEXT_JS = """([pattern, count]) => {
    const found = (document.body.innerText.match(new RegExp(pattern, 'g')) || []).length;
    return found >= count ? performance.now() : false;
}"""
SLIDERS_AT_JS = """(value) => {
    const at = [...document.querySelectorAll('[data-testid="stSlider"] input[type="range"]')]
        .filter(s => s.max === String(value) && s.value === String(value));
    return at.length >= 2 ? performance.now() : false;
}"""  # both "Inner steps" and the adapted trace's "Inner step" slider at 20
VERDICT = r"Looks like [^\n]+ \([<>]?\d+%\)"


def photos(count: int, seed: int) -> list[list[tuple[str, bytes]]]:
    """`count` JPEGs (640 px, distinct crops) of each of three sample photos, one list per class."""
    from skimage import data as samples

    sources = [samples.chelsea(), samples.coffee(), samples.rocket()]
    classes = []
    for c, array in enumerate(sources):
        image = Image.fromarray(array).convert("RGB")
        width, height = image.size
        files = []
        for k in range(count):
            shift = (seed * 7 + k * 13) % 20 / 100  # up to a fifth of the side
            box = (int(width * shift), int(height * shift / 2), width, height)
            crop = image.crop(box).resize((640, 480))
            buffer = io.BytesIO()
            crop.save(buffer, "JPEG", quality=90)
            files.append((f"c{c}-s{seed}-{k}.jpg", buffer.getvalue()))
        classes.append(files)
    return classes


class Waits:
    """The page-clock waits of one browser page, keyed by journey."""

    def __init__(self, page) -> None:
        self.page = page
        self.waits: dict[str, list[float]] = {}

    def start(self) -> float:
        return self.page.evaluate(
            "() => { window.__fslQuietSince = undefined; return performance.now(); }"
        )

    def settle(self, timeout_ms: float = 300_000) -> float:
        """When the page last stopped being busy, once it has been quiet for QUIET_MS."""
        self.page.wait_for_function(SETTLE_JS, arg=QUIET_MS, timeout=timeout_ms, polling=50)
        return self.page.evaluate("() => window.__fslQuietSince")

    def answered(self, script: str, arg: Any, timeout_ms: float = 300_000) -> float:
        handle = self.page.wait_for_function(script, arg=arg, timeout=timeout_ms, polling=50)
        return handle.json_value()

    def text(self, pattern: str, count: int = 1) -> float:
        return self.answered(TEXT_JS, [pattern, count])

    def record(self, journey: str, started: float, answered: float) -> float:
        settled = self.settle()
        seconds = (max(answered, settled) - started) / 1000
        if VERBOSE:
            answer_s, settled_s = (answered - started) / 1000, (settled - started) / 1000
            print(f"{journey}: answer {answer_s:.3f} s, settled {settled_s:.3f} s", flush=True)
        self.waits.setdefault(journey, []).append(round(seconds, 3))
        return seconds

    def upload(self, index: int, files: list[tuple[str, bytes]], mime: str) -> float:
        started = self.start()
        self.page.locator('[data-testid="stFileUploader"] input[type="file"]').nth(
            index
        ).set_input_files([{"name": n, "mimeType": mime, "buffer": b} for n, b in files])
        return started


def _slider(page, label: str):
    """The thumb of the slider whose label contains `label`."""
    return (
        page.locator('[data-testid="stSlider"]').filter(has_text=label).get_by_role("slider").first
    )


def _start(page, url: str, button: str) -> None:
    page.goto(url, wait_until="networkidle")
    page.get_by_role("button", name=button).click()
    page.get_by_text("Add at least one image to each class").first.wait_for(timeout=300_000)
    page.get_by_role("button", name="+ Add a class").click()
    page.get_by_label("Class name").nth(2).wait_for(timeout=300_000)


def photo_journey(browser, url: str, seed: int) -> dict[str, list[float]]:
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    waits = Waits(page)
    _start(page, url, "Start with photos")
    waits.settle()
    support = photos(4, seed)
    lesson = 0.0
    for c, files in enumerate(support):
        started = waits.upload(c, files, "image/jpeg")
        lesson += waits.record("photo_upload_s", started, waits.text(r"· 4 image\(s\)", c + 1))
    waits.waits["first_photo_lesson_s"] = [round(lesson, 3)]
    checks = photos(3, seed + 100)
    started = waits.upload(3, checks[0][:1], "image/jpeg")
    waits.record("photo_check_image_s", started, waits.text(VERDICT, 1))
    eight = checks[1][:3] + checks[2][:3] + checks[0][1:3]
    started = waits.upload(3, eight, "image/jpeg")
    waits.record("eight_photo_checks_s", started, waits.text(VERDICT, 9))
    context.close()
    return waits.waits


def handwriting_journey(browser, url: str, seed: int, checks: int) -> dict[str, list[float]]:
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    waits = Waits(page)
    _start(page, url, "Start with handwriting")
    waits.settle()
    for shape in range(3):
        files = [(f"s{shape}-{k}.png", drawing(shape, seed + k)) for k in range(3)]
        started = waits.upload(shape, files, "image/png")
        waits.record("handwriting_upload_s", started, waits.text(r"· 3 image\(s\)", shape + 1))
    for k in range(checks):
        check = [(f"check-{seed}-{k}.png", drawing(k % 3, seed + 10 + k))]
        started = waits.upload(3, check, "image/png")
        waits.record("handwriting_check_image_s", started, waits.text(VERDICT, k + 1))
    started = waits.start()
    page.locator('[data-testid="stRadio"] label').filter(
        has_text=re.compile("^MAML$")
    ).first.click()
    waits.record("first_maml_switch_s", started, waits.text(r"Adapted in \d+ inner steps"))
    started = waits.start()
    page.get_by_role("link", name="Inside MAML").click()
    page.get_by_text("Inner steps").first.wait_for(timeout=300_000)
    waits.record("inside_maml_first_view_s", started, waits.text("The embeddings at each step"))
    # The card's own 20 steps were adapted for the first view; a slider change to 20 steps
    # that adapts anew: the other head start, the slider to 1 step, the largest learning
    # rate, then the slider to 20.
    page.locator('[data-testid="stRadio"] label').filter(has_text="class centres").first.click()
    waits.settle()
    thumb = _slider(page, "Inner steps")
    thumb.focus()
    thumb.press("Home")
    waits.settle()
    rate = _slider(page, "Inner learning rate")
    rate.focus()
    rate.press("End")  # a new learning rate, so the 20 steps below are not in the cache
    waits.settle()
    thumb.focus()
    started = waits.start()
    thumb.press("End")  # the slider's maximum, 20
    waits.record("inside_maml_20_steps_s", started, waits.answered(SLIDERS_AT_JS, 20))
    context.close()
    return waits.waits


JOURNEYS = ("photos", "handwriting")


def run(runs: int, checks: int, only: tuple[str, ...] = JOURNEYS) -> dict[str, Any]:
    from playwright.sync_api import sync_playwright

    waits: dict[str, list[float]] = {}
    with sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        for seed in range(runs):
            with serve() as url:  # fresh: the first lesson of each run is a process's first
                for journey in only:
                    if journey == "photos":
                        journey_waits = photo_journey(browser, url, seed)
                    else:
                        journey_waits = handwriting_journey(browser, url, seed, checks)
                    for name, values in journey_waits.items():
                        waits.setdefault(name, []).extend(values)
            print(json.dumps({"run": seed, "waits": waits}), flush=True)
        browser.close()
    rows = []
    for name, values in waits.items():
        median = statistics.median(values)
        target = TARGETS.get(name)
        rows.append(
            {
                "journey": name,
                "median_s": round(median, 3),
                "waits_s": values,
                "target_s": target,
                "met": None if target is None else median <= target,
            }
        )
    return {"rows": rows}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks journeys", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--runs", type=int, default=3, help="fresh servers, one journey each")
    parser.add_argument("--checks", type=int, default=3, help="handwriting check images a run")
    parser.add_argument("--out", default="", help="also write the JSON here")
    parser.add_argument("--verbose", action="store_true", help="print every wait as it ends")
    parser.add_argument(
        "--only", choices=JOURNEYS, default="", help="run one of the two journeys only"
    )
    args = parser.parse_args(argv)
    global VERBOSE
    VERBOSE = args.verbose
    if not 1 <= args.runs <= 10 or not 1 <= args.checks <= 10:
        parser.error("--runs and --checks must each be between 1 and 10")
    started = time.perf_counter()
    only = (args.only,) if args.only else JOURNEYS
    command = f"python -m benchmarks journeys --runs {args.runs} --checks {args.checks}"
    report = {
        "command": command + (f" --only {args.only}" if args.only else ""),
        "machine": f"{platform.machine()}, {platform.python_version()}",
        "quiet_ms": QUIET_MS,
        **run(args.runs, args.checks, only),
        "wall_s": 0.0,
    }
    report["wall_s"] = round(time.perf_counter() - started, 1)
    for row in report["rows"]:
        mark = "" if row["met"] is None else ("  met" if row["met"] else "  MISSED")
        target = f" (target <= {row['target_s']} s)" if row["target_s"] else ""
        print(f"{row['journey']}: median {row['median_s']} s{target}{mark}  {row['waits_s']}")
    if args.out:
        Path(args.out).write_text(json.dumps(report, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
