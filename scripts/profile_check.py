"""Where a handwriting check image's wait goes in the browser (issue 19): a JavaScript
profile of Teach & classify while four check drawings are added one at a time.

    python -m scripts.profile_check

Starts the app (benchmarks.browser.serve), loads 3 classes x 3 drawings in Chromium, then
samples the page's JavaScript with Chrome DevTools' profiler (through Playwright's CDP
session) while four check drawings are added, each waited for as benchmarks/journeys.py
waits. Prints each check's wait, then self time per script and per function and inclusive
time per function over the four checks. A diagnostic, not a benchmark: the profiler itself
slows the page. Output of the 2026-12-01 runs: docs/results/teach_check_profile.txt.
"""

from __future__ import annotations

import collections

from playwright.sync_api import sync_playwright

from benchmarks.browser import CHROMIUM, CHROMIUM_ARGS, serve
from benchmarks.journeys import VERDICT, Waits, _start
from benchmarks.load import drawing


def _key(frame: dict) -> str:
    name = frame["functionName"] or "(anonymous)"
    return f"{name} @{frame['url'].rsplit('/', 1)[-1][:40]}:{frame['lineNumber']}"


def main() -> int:
    with serve() as url, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_context(viewport={"width": 1400, "height": 900}).new_page()
        waits = Waits(page)
        _start(page, url, "Start with handwriting")
        waits.settle()
        for shape in range(3):
            files = [(f"s{shape}-{k}.png", drawing(shape, k)) for k in range(3)]
            started = waits.upload(shape, files, "image/png")
            waits.record("upload", started, waits.text(r"· 3 image\(s\)", shape + 1))
        cdp = page.context.new_cdp_session(page)
        cdp.send("Profiler.enable")
        cdp.send("Profiler.setSamplingInterval", {"interval": 200})
        cdp.send("Profiler.start")
        for k in range(4):
            check = [(f"c{k}.png", drawing(k % 3, 1 + k))]
            started = waits.upload(3, check, "image/png")
            answered, settled = waits.text(VERDICT, k + 1), waits.settle()
            print(f"check {k + 1}: answer {(answered - started) / 1000:.3f} s, "
                  f"settled {(settled - started) / 1000:.3f} s")  # fmt: skip
        profile = cdp.send("Profiler.stop")["profile"]
        browser.close()
    nodes = {node["id"]: node for node in profile["nodes"]}
    parent = {child: node["id"] for node in profile["nodes"] for child in node.get("children", [])}
    spent: collections.Counter = collections.Counter()
    for sample, delta in zip(profile["samples"], profile["timeDeltas"][1:] + [0], strict=True):
        spent[sample] += delta / 1000
    by_script, by_function, inclusive = (collections.Counter() for _ in range(3))
    for node_id, ms in spent.items():
        frame = nodes[node_id]["callFrame"]
        by_script[frame["url"].rsplit("/", 1)[-1][:40] or frame["functionName"]] += ms
        by_function[_key(frame)] += ms
        seen, walk = set(), node_id
        while walk is not None:
            key = _key(nodes[walk]["callFrame"])
            if key not in seen:
                inclusive[key] += ms
                seen.add(key)
            walk = parent.get(walk)
    for title, table, rows in (
        ("self time by script", by_script, 12),
        ("self time by function", by_function, 25),
        ("inclusive time by function", inclusive, 40),
    ):
        print(f"{title} (ms, four checks):")
        for key, ms in table.most_common(rows):
            print(f"  {key}: {ms:.0f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
