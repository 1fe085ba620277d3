"""Many users on one server: N sessions at once, each teaching and classifying.

    python -m benchmarks load --sessions 1 5 10 20 --out docs/results/load.json
    python -m benchmarks load --sessions 1 5 10 20 --others protocol --rounds 5 --server-work 3

For each N, one fresh streamlit server on loopback (benchmarks.browser.serve). Each session
does what a person does on Teach & classify: start with handwriting, name two classes (its
own names), upload two drawings to each, wait for the model to adapt, add one check image
and wait for the verdict. Half the sessions use MAML (20 inner steps, live), half ProtoNet.

Who drives the sessions:
  - by default, one Chromium with N contexts (separate cookies, so separate Streamlit
    sessions), all started together. On a 2-core machine the N browsers take most of the
    cores the server needs, so at 10 sessions the waits mostly measure the browsers.
  - --others protocol: one Chromium session, the person measured, among N - 1 slots of
    protocol visitors (benchmarks/protocol.py: a recorded Chromium session's messages,
    uploads, page files and pauses, replayed without rendering). The slots start spread over
    one journey, the person once all have, and each slot sends visitor after visitor until
    the person is done, so every step of the person's journey meets N - 1 others; how many
    of their page runs overlapped the person's waits is reported (others_running).
    --server-work R first checks, R times on fresh servers, the server's CPU seconds for one
    journey from Chromium and from a protocol session.
  - --url drives a server already running instead, such as the nginx recipe's proxy in front
    of its replicas (protocol visitors keep the cookies it sets, as browsers do).

Measured per Chromium session, from the action to the answer on screen (Playwright waits on
the page's text):
  - adapt: the second class's upload -> the adapted view (ProtoNet's plot or "Adapted in");
  - verdict: the check image's upload -> "Looks like <class> (p%)";
  - adapt_server, verdict_server: the server's part of each (the request to run the page ->
    that run's end, both at the browser's network), without the page's rendering.
Per protocol visitor: protocol_adapt, protocol_verdict: the upload's request -> the end of
its run. Reported per N (pooled over --rounds, each on a fresh server): p50 and p95 of each,
errors (exceptions on the page, page errors, timeouts, lost connections) and cross-talk (a
verdict naming another session's class, or another session's class names anywhere on the
page). A failed Chromium session is reported with the step it was at, the end of its page's
text and the browser's last warnings. cpu_s says who used the cores: the server process,
and the whole machine (the rest is the browsers and the protocol visitors). Bounded: every
session has a deadline (--timeout), N <= 50, rounds <= 20, loopback only.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import io
import json
import os
import platform
import re
import statistics
import sys
import time
from pathlib import Path
from typing import Any

from PIL import Image, ImageDraw

from benchmarks.browser import CHROMIUM, CHROMIUM_ARGS, serve_process, settle_async
from benchmarks.protocol import Recorder, Template, replay

SHAPES = ("circle", "cross", "square", "triangle")
MAX_SESSIONS = 50


def drawing(shape: int, variant: int = 0, size: int = 64) -> bytes:
    """A PNG of a black shape on white (0 circle, 1 cross, 2 square, 3 triangle), slightly
    varied by `variant`: what a person draws for a character class."""
    image = Image.new("L", (size, size), 255)
    draw = ImageDraw.Draw(image)
    v = 2 * variant
    if shape == 0:
        draw.ellipse((10 + v, 10, 52, 52 - v), outline=0, width=5)
    elif shape == 1:
        draw.line((10, 10 + v, 54, 54), fill=0, width=5)
        draw.line((54, 10, 10 + v, 54), fill=0, width=5)
    elif shape == 2:
        draw.rectangle((12, 12 + v, 52, 52), outline=0, width=5)
    else:
        draw.polygon([(32, 8 + v), (56, 54), (8, 54)], outline=0, width=5)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def files(user: int) -> list[list[tuple[str, bytes]]]:
    """Session `user`'s uploads, in order: two drawings of its first class, two of its
    second, and its check image (name, PNG bytes)."""
    todo = plan(user)
    return [
        [(f"s{user}-a{v}.png", drawing(todo["shapes"][0], v)) for v in range(2)],
        [(f"s{user}-b{v}.png", drawing(todo["shapes"][1], v)) for v in range(2)],
        [(f"s{user}-check.png", drawing(todo["query"], 4))],
    ]


def plan(user: int) -> dict[str, Any]:
    """Session `user`'s two classes (names unique to it), algorithm and check image."""
    shapes = [user % len(SHAPES), (user + 1) % len(SHAPES)]
    query = shapes[user % 2]
    return {
        "names": [f"s{user} {SHAPES[s]}" for s in shapes],
        "shapes": shapes,
        "algorithm": "MAML" if user % 2 == 0 else "ProtoNet",
        "query": query,
        "expected": f"s{user} {SHAPES[query]}",
    }


async def _settle(page, quiet_ms: int = 400) -> None:
    await settle_async(page, quiet_ms, timeout_ms=300_000)


async def _upload(page, index: int, files: list[tuple[str, bytes]]) -> float:
    """Send files to the index-th uploader; returns the time it was done (perf_counter)."""
    uploaders = page.locator('[data-testid="stFileUploader"] input[type="file"]')
    await uploaders.nth(index).set_input_files(
        [{"name": name, "mimeType": "image/png", "buffer": data} for name, data in files]
    )
    return time.perf_counter()


async def session(
    browser, url: str, user: int, result: dict[str, Any], record: bool = False
) -> dict[str, Any]:
    """One person's teach -> adapt -> classify: their timings, verdict and page text, filled
    into `result` as they come (what a session cut off by its deadline got to is kept).
    record: also keep what the page sent and fetched, as result["template"] (for protocol
    sessions to replay)."""
    todo = result["plan"]
    uploads = files(user)
    context = await browser.new_context(viewport={"width": 1300, "height": 900})
    context.set_default_timeout(300_000)  # a latency is measured, not cut off; --timeout bounds
    page = await context.new_page()
    if record:
        result["template"] = Recorder(page).template()
    errors: list[str] = result["errors"]
    page.on("pageerror", lambda error: errors.append(str(error)))
    console: list[str] = []  # the browser's warnings and errors, reported with a failure
    page.on(
        "console",
        lambda message: (
            console.append(f"{message.type}: {message.text[:200]}")
            if message.type in ("error", "warning")
            else None
        ),
    )
    runs: list[list[float | None]] = []
    note = watch_network(page, result.setdefault("network", []), runs)
    step = "open the app"  # named in the error if a wait never ends
    try:
        await page.goto(url, wait_until="networkidle")
        await page.get_by_role("button", name="Start with handwriting").click()
        await page.get_by_text("Add at least one image to each class").first.wait_for()
        step = note("name the classes")
        names = page.get_by_label("Class name")
        for i, name in enumerate(todo["names"]):
            await names.nth(i).fill(name)
            await names.nth(i).press("Enter")
            await page.get_by_text(f"{name} · 0 image(s)").wait_for(timeout=300_000)
            await _settle(page)
        if todo["algorithm"] == "MAML":
            step = note("choose MAML")
            radios = page.locator('[data-testid="stRadio"] label')
            await radios.filter(has_text=re.compile("^MAML$")).first.click()
            await _settle(page)
        step = note("upload the first class")
        await _upload(page, 0, uploads[0])
        await page.get_by_text(f"{todo['names'][0]} · 2 image(s)").wait_for(timeout=300_000)
        await _settle(page)
        step = note("upload the second class and wait for the adaptation")
        sent = await _upload(page, 1, uploads[1])
        adapted = (
            page.get_by_text(re.compile(r"Adapted in \d+ inner steps"))
            if todo["algorithm"] == "MAML"
            else page.get_by_text("Each star is the centre of a class")
        )
        await adapted.first.wait_for(timeout=300_000)
        result["adapt_s"] = time.perf_counter() - sent
        result["adapt_at"] = sent
        result["adapt_server_s"] = run_seconds(runs, sent)
        await _settle(page)
        step = note("check an image and wait for the verdict")
        sent = await _upload(page, 2, uploads[2])
        verdict = page.get_by_text(re.compile(r"Looks like .+ \([<>]?\d+%\)"))
        await verdict.first.wait_for(timeout=300_000)
        result["verdict_s"] = time.perf_counter() - sent
        result["verdict_at"] = sent
        result["verdict_server_s"] = run_seconds(runs, sent)
        await _settle(page)
        step = note("read the page")
        result["verdicts"] = await verdict.all_inner_texts()
        result["text"] = await page.locator("body").inner_text()
        errors += await page.locator('[data-testid="stException"]').all_inner_texts()
    except Exception as error:  # a timeout or a lost page: counted, reported, not raised
        errors.append(f"{step}: {type(error).__name__}: {str(error).splitlines()[0][:200]}")
        await _keep_failure(result, page, console)
    except asyncio.CancelledError:  # the session's deadline (--timeout): say where it was
        result["cut_at"] = step
        await _keep_failure(result, page, console)
        raise
    finally:
        await context.close()
    return result


def watch_network(page, events: list[str], runs: list[list[float | None]] | None = None):
    """Note in `events`, with seconds since now, what a lost upload could be lost in: the
    websocket's opening and closing, the upload requests and their answers, and any request
    that failed. Returns the function that notes a line (the steps go in as well).

    runs: if given, gets [sent, finished] (perf_counter) for each request to run the page
        (a rerun_script message) and the end of that run (the next script_finished message),
        both as the browser's network sees them: the server's part of a wait, without the
        page's rendering (run_seconds).
    """
    from streamlit.proto.BackMsg_pb2 import BackMsg
    from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

    start = time.perf_counter()

    def sent(data: bytes | str) -> None:
        note(f"sent {len(data)} B")
        if runs is not None and isinstance(data, bytes):
            message = BackMsg()
            message.ParseFromString(data)
            if message.WhichOneof("type") == "rerun_script":
                runs.append([time.perf_counter(), None])

    def finished(data: bytes | str) -> None:
        received(len(data))
        if runs and isinstance(data, bytes) and any(run[1] is None for run in runs):
            message = ForwardMsg()
            message.ParseFromString(data)
            if message.WhichOneof("type") == "script_finished":
                now = time.perf_counter()
                for run in runs:
                    run[1] = now if run[1] is None else run[1]

    def note(text: str) -> str:
        events.append(f"{time.perf_counter() - start:7.2f} {text}")
        return text

    burst = {"line": -1, "count": 0, "bytes": 0}  # the messages received since the last note

    def received(size: int) -> None:  # a run's many messages in one line
        if burst["line"] != len(events) - 1:
            note("received")
            burst.update(line=len(events) - 1, count=0, bytes=0)
        burst["count"] += 1
        burst["bytes"] += size
        head = events[-1].split(" received")[0]
        events[-1] = f"{head} received {burst['count']} messages, {burst['bytes']} B"

    def on_websocket(socket) -> None:
        note(f"websocket open {socket.url.rsplit('/', 1)[-1]}")
        socket.on("close", lambda _: note("websocket closed"))
        socket.on("framesent", sent)
        socket.on("framereceived", finished)
        socket.on("socketerror", lambda error: note(f"websocket error {error}"))

    def is_upload(request) -> bool:
        return "upload_file" in request.url

    page.on("websocket", on_websocket)
    page.on(
        "request",
        lambda r: note(f"{r.method} {r.url.split('/_stcore/')[-1][:80]}") if is_upload(r) else None,
    )
    page.on(
        "response",
        lambda r: note(f"{r.status} {r.request.method} upload") if is_upload(r.request) else None,
    )
    page.on(
        "requestfailed",
        lambda r: note(f"failed {r.method} {r.url.split('/')[-1][:60]}: {r.failure}"),
    )
    return note


def run_seconds(runs: list[list[float | None]], after: float) -> float | None:
    """Seconds from the first request to run the page sent after `after` to the end of that
    run (watch_network's runs), or None if there is none, or it has not ended."""
    for sent, finished in runs:
        if sent >= after:
            return None if finished is None else finished - sent
    return None


async def _keep_failure(result: dict[str, Any], page, console: list[str]) -> None:
    """What a failed session's page showed, and the browser's last warnings."""
    result["page_at_error"] = await _page_text(page)
    result["console_at_error"] = console[-5:]


async def _page_text(page) -> str:
    """The end of what the page shows (where a session hung), or why it could not be read."""
    try:
        text = await page.locator("body").inner_text(timeout=10_000)
    except Exception as error:
        return f"(page unreadable: {type(error).__name__})"
    return " | ".join(line for line in text.splitlines() if line.strip())[-600:]


def cross_talk(results: list[dict[str, Any]]) -> list[str]:
    """Each session's verdict names its own expected class, and no page shows another
    session's class names."""
    found = []
    for result in results:
        verdicts = result.get("verdicts", [])
        expected = result["plan"]["expected"]
        if verdicts and not verdicts[0].startswith(f"Looks like {expected} ("):
            found.append(f"session {result['user']}: {verdicts[0]!r}, expected {expected!r}")
        text = result.get("text", "")
        for other in results:
            if other["user"] != result["user"]:
                shown = [name for name in other["plan"]["names"] if name in text]
                if shown:
                    found.append(f"session {result['user']} shows {shown}")
    return found


def percentile(values: list[float], q: float) -> float | None:
    """The q-th percentile (0-100) by linear interpolation; None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    position = (len(ordered) - 1) * q / 100
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


async def protocol_visitors(
    url: str,
    user: int,
    templates: dict[str, tuple[int, Template]],
    done: asyncio.Event,
    once: bool = False,
) -> list[dict[str, Any]]:
    """Session slot `user` as protocol sessions (benchmarks.protocol), one visitor after
    another until `done`: each replays the recorded Chromium session of the slot's algorithm
    with the slot's own class names and files. A visitor's adapt and verdict are the
    server's part: the upload's request -> the end of its run. Returns one result per
    visitor (one visitor only if `once`)."""
    todo = plan(user)
    recorded_user, template = templates[todo["algorithm"]]
    names = dict(zip(plan(recorded_user)["names"], todo["names"], strict=True))
    swaps = {
        old: new
        for olds, news in zip(files(recorded_user), files(user), strict=True)
        for (old, _), new in zip(olds, news, strict=True)
    }
    visitors: list[dict[str, Any]] = []
    while not done.is_set():
        result: dict[str, Any] = {"user": user, "plan": todo, "errors": [], "driver": "protocol"}
        visitors.append(result)
        try:
            await replay(url, template, names, swaps, result)
        except Exception as error:  # a lost connection: counted, and the slot goes on
            result["errors"].append(f"{type(error).__name__}: {str(error)[:200]}")
            await asyncio.sleep(1.0)  # not a tight loop against a server that is down
            continue
        uploads = result["uploads"]
        if len(uploads) == 3:
            result["protocol_adapt_s"] = uploads[1]["seconds"]
            result["protocol_verdict_s"] = uploads[2]["seconds"]
        else:
            result["errors"].append(f"{len(uploads)} of 3 uploads answered")
        if once:
            break
    return visitors


async def run_sessions(
    url: str,
    count: int,
    timeout_s: float,
    templates: dict[str, tuple[int, Template]] | None = None,
) -> list[dict[str, Any]]:
    """`count` sessions on the server at `url` together, each within `timeout_s`.

    Without `templates`, all in Chromium, started at once. With them, one Chromium session
    (the person measured) and count - 1 slots of protocol visitors: the slots start spread
    over one recorded journey, the person once all have started, and each slot sends
    visitor after visitor until the person is done, so every step of the person's journey
    meets count - 1 others mid-journey."""
    from playwright.async_api import async_playwright

    done = asyncio.Event()
    period = max((t.duration for _, t in templates.values()), default=0.0) if templates else 0.0
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:

            async def bounded(user: int) -> list[dict[str, Any]]:
                result: dict[str, Any] = {"user": user, "plan": plan(user), "errors": []}
                try:
                    if templates and user > 0:
                        await asyncio.sleep((user - 1) / (count - 1) * period)
                        work = protocol_visitors(url, user, templates, done)
                        return await asyncio.wait_for(work, timeout_s)
                    await asyncio.sleep(period if templates and count > 1 else 0.0)
                    result["driver"] = "chromium"
                    await asyncio.wait_for(session(browser, url, user, result), timeout_s)
                except TimeoutError:
                    step = result.get("cut_at", "start the page")
                    result["errors"].append(f"{step}: over {timeout_s} s, the session's deadline")
                finally:
                    if user == 0:
                        done.set()
                return [result]

            slots = await asyncio.gather(*(bounded(user) for user in range(count)))
        finally:
            await browser.close()
    results = [result for slot in slots for result in slot]
    for result in results:
        if result.get("driver") == "chromium" and templates:
            result["others_running"] = others_running(result, results)
    return results


def others_running(person: dict[str, Any], results: list[dict[str, Any]]) -> dict[str, int]:
    """How many runs of other sessions were in progress during the person's adapt and
    verdict waits (protocol visitors' runs: request -> end): the load the person met."""
    found = {}
    for key in ("adapt", "verdict"):
        if person.get(f"{key}_s") is None:
            continue
        start = person[f"{key}_at"]
        end = start + person[f"{key}_s"]
        found[key] = sum(
            1
            for other in results
            if other.get("driver") == "protocol"
            for sent, ended in other.get("runs", [])
            if sent < end and ended > start
        )
    return found


async def recorded(url: str, user: int, timeout_s: float) -> dict[str, Any]:
    """Session `user` alone in Chromium, recorded (its result's "template")."""
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            result: dict[str, Any] = {"user": user, "plan": plan(user), "errors": []}
            return await asyncio.wait_for(session(browser, url, user, result, True), timeout_s)
        finally:
            await browser.close()


def record_templates(timeout_s: float, log: Path | None = None) -> dict[str, tuple[int, Template]]:
    """One Chromium session per algorithm (session 0, MAML, then session 1, ProtoNet) on a
    server of their own, recorded for protocol sessions to replay."""
    templates = {}
    with serve_process(log) as (url, _process):
        for user in (0, 1):
            result = asyncio.run(recorded(url, user, timeout_s))
            if result["errors"] or not result.get("verdicts"):
                raise RuntimeError(f"recording session {user} failed: {result['errors']}")
            templates[result["plan"]["algorithm"]] = (user, result["template"])
    return templates


async def _one_visitor(url: str, user: int, templates: dict[str, tuple[int, Template]]) -> None:
    (result,) = await protocol_visitors(url, user, templates, asyncio.Event(), once=True)
    if result["errors"] or not result.get("verdicts"):
        raise RuntimeError(f"protocol session {user} failed: {result['errors']}")


async def warm(url: str, templates: dict[str, tuple[int, Template]], visitors: int = 8) -> None:
    """Protocol visitors at once on a server already running, before it is measured: each
    replica behind a proxy gets its first page views (which load the models) from one of
    them, unless the proxy's random routes miss it (with 2 replicas and 8 visitors, 1 in
    128)."""
    await asyncio.gather(*(_one_visitor(url, user, templates) for user in range(visitors)))


def _quiet(pid: int, still_s: float = 0.05, limit_s: float = 120.0) -> None:
    """Wait until the server process used under `still_s` CPU seconds in one second (its
    start-up preload done)."""
    deadline = time.time() + limit_s
    before = _cpu_seconds(pid)[0]
    while time.time() < deadline:
        time.sleep(1.0)
        now = _cpu_seconds(pid)[0]
        if now - before < still_s:
            return
        before = now


def server_work(
    rounds: int, timeout_s: float, templates: dict[str, tuple[int, Template]]
) -> dict[str, Any]:
    """The server's CPU seconds for one journey driven by Chromium and by a protocol session
    replaying it (sessions 0, MAML, and 1, ProtoNet), each on a fresh server after its
    start-up preload, alternating: the check that a protocol session costs the server what
    a browser does."""
    seconds: dict[str, list[float]] = {}
    for _ in range(rounds):
        for user in (0, 1):
            for driver in ("chromium", "protocol"):
                with serve_process() as (url, process):
                    # a first page view starts the preload; wait for it to end
                    opening = Template(messages=templates["MAML"][1].messages[:1])
                    asyncio.run(replay(url, opening, {}, {}, {}))
                    _quiet(process.pid)
                    before = _cpu_seconds(process.pid)[0]
                    if driver == "chromium":
                        result = asyncio.run(recorded(url, user, timeout_s))
                        if result["errors"]:
                            raise RuntimeError(f"session {user} failed: {result['errors']}")
                    else:
                        asyncio.run(_one_visitor(url, user, templates))
                    time.sleep(1.0)  # the page files fetched last
                    used = _cpu_seconds(process.pid)[0] - before
                key = f"{driver} {plan(user)['algorithm']}"
                seconds.setdefault(key, []).append(round(used, 2))
    return {
        key: {"runs": values, "median": round(statistics.median(values), 3)}
        for key, values in seconds.items()
    }


def summary(
    count: int, results: list[dict[str, Any]], wall_s: float, talk: list[str]
) -> dict[str, Any]:
    """One line per N: percentiles of each wait over all its sessions (of every round),
    errors, and `talk` (the cross-talk found, round by round)."""
    line: dict[str, Any] = {"sessions": count, "wall_s": round(wall_s, 1)}
    keys = ["adapt_s", "adapt_server_s", "verdict_s", "verdict_server_s"]
    if any(r.get("driver") == "protocol" for r in results):
        keys += ["protocol_adapt_s", "protocol_verdict_s"]
    for key in keys:
        values = [r[key] for r in results if r.get(key) is not None]
        line[key.removesuffix("_s")] = {
            "p50_s": round(percentile(values, 50), 3) if values else None,
            "p95_s": round(percentile(values, 95), 3) if values else None,
            "done": len(values),
            "values_s": [round(v, 3) for v in values],  # each session's, for pooling runs
        }
    met = [r["others_running"] for r in results if "others_running" in r]
    if met:  # the load each measured person met, round by round
        line["others_running"] = {k: [m.get(k) for m in met] for k in ("adapt", "verdict")}
    line["errors"] = sum(len(r["errors"]) for r in results)
    line["error_examples"] = [e for r in results for e in r["errors"]][:3]
    line["pages_at_error"] = [r["page_at_error"] for r in results if "page_at_error" in r][:3]
    line["consoles_at_error"] = [r["console_at_error"] for r in results if "page_at_error" in r][:3]
    line["network_at_error"] = [r["network"] for r in results if "page_at_error" in r][:3]
    line["cross_talk"] = len(talk)
    line["cross_talk_examples"] = talk[:3]
    return line


def _cpu_seconds(pid: int | None) -> tuple[float, float]:
    """(CPU seconds the process `pid` has used, busy CPU seconds of the whole machine) from
    /proc; a difference of two readings says who used the cores in between."""
    ticks = os.sysconf("SC_CLK_TCK")
    server = 0.0
    if pid is not None:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            server = (int(fields[11]) + int(fields[12])) / ticks  # utime + stime
        except OSError:
            pass
    total = [int(v) for v in Path("/proc/stat").read_text().split("\n")[0].split()[1:]]
    busy = sum(total) - total[3] - total[4]  # all but idle and iowait
    return server, busy / ticks


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks load",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--sessions", type=int, nargs="+", default=[1, 5, 10, 20])
    parser.add_argument("--timeout", type=float, default=600, help="seconds per session")
    parser.add_argument(
        "--others",
        choices=["chromium", "protocol"],
        default="chromium",
        help="every session in Chromium (default), or only the first, the others protocol "
        "sessions replaying a recorded Chromium session (benchmarks/protocol.py)",
    )
    parser.add_argument(
        "--rounds", type=int, default=1, help="times each N runs, each on a fresh server"
    )
    parser.add_argument(
        "--server-work",
        type=int,
        default=0,
        metavar="ROUNDS",
        help="with --others protocol, first measure the server's CPU for one journey driven "
        "by Chromium and by a protocol session, ROUNDS times each",
    )
    parser.add_argument(
        "--url",
        default="",
        help="drive the server already running at this URL (such as the nginx recipe's "
        "proxy, bash deploy/serve.sh) instead of a fresh one per round; its CPU is not counted",
    )
    parser.add_argument("--out", default="", help="also write the JSON here")
    parser.add_argument(
        "--server-log", default="", help="append the servers' output here (for a failure's cause)"
    )
    args = parser.parse_args(argv)
    if any(not 1 <= n <= MAX_SESSIONS for n in args.sessions):
        parser.error(f"--sessions must each be between 1 and {MAX_SESSIONS}")
    if not 1 <= args.rounds <= 20:
        parser.error("--rounds must be between 1 and 20")
    log = Path(args.server_log) if args.server_log else None
    templates = record_templates(args.timeout, log) if args.others == "protocol" else None
    if args.url and templates:  # its first page views load the models: not measured
        asyncio.run(warm(args.url, templates))
    work = server_work(args.server_work, args.timeout, templates) if templates else {}
    if work:
        print(json.dumps({"server_cpu_s_per_journey": work}), flush=True)
    lines = []
    for count in args.sessions:
        pooled: list[dict[str, Any]] = []
        talk: list[str] = []
        wall = server = busy = 0.0
        for _ in range(args.rounds):
            # A fresh server each time: no warm caches from the previous N or round (unless
            # --url names one already running).
            given = contextlib.nullcontext((args.url, None)) if args.url else None
            with given or serve_process(log) as (url, process):
                pid = process.pid if process else None
                server_before, busy_before = _cpu_seconds(pid)
                started = time.perf_counter()
                results = asyncio.run(run_sessions(url, count, args.timeout, templates))
                wall += time.perf_counter() - started
                server_after, busy_after = _cpu_seconds(pid)
            server += server_after - server_before
            busy += busy_after - busy_before
            pooled += results
            talk += cross_talk([r for r in results if "text" in r])
        lines.append(summary(count, pooled, wall, talk))
        # Who used the cores: the server, and everything else (the browsers driving it).
        lines[-1]["cpu_s"] = {
            "server": None if args.url else round(server, 1),  # its process is not ours
            "machine": round(busy, 1),
            "journeys": len(pooled),  # sessions, and each protocol visitor after the first
            "server_per_journey": None if args.url else round(server / len(pooled), 2),
        }
        print(json.dumps(lines[-1]), flush=True)
    report = {
        "command": "python -m benchmarks " + " ".join(sys.argv[1:]),  # as typed (no torch import)
        "machine": f"{platform.machine()}, {platform.python_version()}",
        "others": args.others,
        "rounds": args.rounds,
        **({"server_cpu_s_per_journey": work} if work else {}),
        "results": lines,
    }
    if args.out:
        Path(args.out).write_text(json.dumps(report, indent=1) + "\n")
    single = next((line for line in lines if line["sessions"] == 1), None)
    ten = next((line for line in lines if line["sessions"] == 10), None)
    for key, what in (
        ("verdict", "verdict on screen (Chromium sessions)"),
        ("verdict_server", "the server's run of it, as Chromium's network saw it"),
        ("adapt", "adaptation on screen (Chromium sessions)"),
    ):
        if single and ten and single[key]["p95_s"] and ten[key]["p95_s"]:
            many = ten[key]["p95_s"]
            print(
                f"{what}: p95 at 10 sessions / 1 session: {many / single[key]['p95_s']:.2f}x"
                f" (/ its p50: {many / single[key]['p50_s']:.2f}x; target <= 3x)"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
