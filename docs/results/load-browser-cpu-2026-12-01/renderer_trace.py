"""Where one load session's Chromium spends its CPU: a Chromium trace of benchmarks/load.py's
journey (one session, alone), summed per thread, then the renderer's main thread and worker
threads by event (self time: an event's thread time minus its children's).

    python docs/results/load-browser-cpu-2026-12-01/renderer_trace.py ProtoNet
"""

from __future__ import annotations

import asyncio
import collections
import json
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[3]))

from benchmarks import load  # noqa: E402
from benchmarks.browser import CHROMIUM, CHROMIUM_ARGS, serve_process  # noqa: E402

CATEGORIES = ["devtools.timeline", "v8", "blink", "cc", "toplevel"]


async def traced(url: str, user: int, path: str) -> dict:
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        await browser.start_tracing(path=path, categories=CATEGORIES)
        result = {"user": user, "plan": load.plan(user), "errors": []}
        await load.session(browser, url, user, result)
        await browser.stop_tracing()
        await browser.close()
    return result


def summarise(path: str) -> None:
    data = json.loads(Path(path).read_text())
    events = data["traceEvents"] if isinstance(data, dict) else data
    names: dict = {}
    for e in events:
        if e.get("ph") == "M" and e.get("name") in ("thread_name", "process_name"):
            key = (e["pid"], e["tid"] if e["name"] == "thread_name" else None)
            names[key] = e["args"]["name"]

    def thread(e) -> str:
        return f"{names.get((e['pid'], None), '?')}/{names.get((e['pid'], e['tid']), '?')}"

    timed = [e for e in events if e.get("ph") == "X" and "tdur" in e]
    timed.sort(key=lambda e: (e["pid"], e["tid"], e["ts"], -e["dur"]))
    total: collections.Counter = collections.Counter()
    own: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
    stacks: dict = collections.defaultdict(list)
    for e in timed:
        stack = stacks[(e["pid"], e["tid"])]
        while stack and stack[-1][0] <= e["ts"]:
            stack.pop()
        where = thread(e)
        if not stack:
            total[where] += e["tdur"]
        own[where][e["name"]] += e["tdur"]
        if stack:
            own[where][stack[-1][1]] -= e["tdur"]
        stack.append((e["ts"] + e["dur"], e["name"]))
    print("thread time by thread (s):")
    for where, micros in total.most_common(8):
        print(f"  {micros / 1e6:7.3f}  {where}")
    for where in ("Renderer/CrRendererMain", "Renderer/ThreadPoolForegroundWorker"):
        print(f"{where}, self time by event (s):")
        for name, micros in own[where].most_common(10):
            print(f"  {micros / 1e6:7.3f}  {name}")


def main(algorithm: str) -> None:
    user = 0 if algorithm == "MAML" else 1  # load.plan: even sessions MAML, odd ProtoNet
    with tempfile.TemporaryDirectory() as folder, serve_process() as (url, _process):
        path = f"{folder}/trace.json"
        result = asyncio.run(traced(url, user, path))
        print(f"{algorithm}: adapt {result['adapt_s']:.2f} s, verdict {result['verdict_s']:.2f} s")
        summarise(path)


if __name__ == "__main__":
    main(sys.argv[1])
