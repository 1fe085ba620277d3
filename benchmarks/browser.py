"""What a real browser needs to drive the app, shared by the browser tests (tests/e2e) and the
browser benchmarks (benchmarks/load.py, benchmarks/journeys.py): Debian's Chromium and its
flags, a fresh streamlit server on a free loopback port, and the script that waits for the
page to settle."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time
import urllib.request
from contextlib import ExitStack, contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

# True once the page has had no stale element and no run indicator for `quiet` ms in a row
# (checked continuously: a rerun can start a moment after an action).
SETTLE_JS = """(quiet) => {
    const busy = document.querySelector('[data-stale="true"]')
        || document.querySelector('[data-testid="stStatusWidget"]');
    const now = performance.now();
    if (busy || window.__fslQuietSince === undefined) { window.__fslQuietSince = now; }
    return !busy && now - window.__fslQuietSince >= quiet;
}"""
RESET_QUIET_JS = "() => { window.__fslQuietSince = undefined; }"


def settle(page, quiet_ms: int = 800, timeout_ms: float = 120_000) -> None:
    """Wait until the app has been idle for `quiet_ms` after the last action: no stale
    (greyed-out) element and no run indicator, checked every 100 ms. The quiet clock starts
    afresh, so an earlier quiet spell never counts for a rerun that has not begun yet."""
    page.evaluate(RESET_QUIET_JS)
    page.wait_for_timeout(200)
    page.wait_for_function(SETTLE_JS, arg=quiet_ms, timeout=timeout_ms, polling=100)


async def settle_async(page, quiet_ms: int = 600, timeout_ms: float = 120_000) -> None:
    """`settle` for Playwright's async API."""
    await page.evaluate(RESET_QUIET_JS)
    await page.wait_for_timeout(200)
    await page.wait_for_function(SETTLE_JS, arg=quiet_ms, timeout=timeout_ms, polling=100)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def serve_process(log: Path | None = None):
    """A fresh streamlit server for app.py on a free port; yields (its URL, its process).
    The server's output is appended to `log` if given (else dropped)."""
    port = free_port()
    with ExitStack() as stack:
        output = stack.enter_context(open(log, "ab")) if log is not None else subprocess.DEVNULL
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "streamlit",
                "run",
                "app.py",
                "--server.headless",
                "true",
                "--server.port",
                str(port),
                "--server.address",
                "127.0.0.1",
                "--browser.gatherUsageStats",
                "false",
                "--server.fileWatcherType",
                "none",
            ],
            cwd=ROOT,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
        stack.callback(_stop, process)  # before the log closes: the stack unwinds in reverse
        url = f"http://127.0.0.1:{port}"
        deadline = time.time() + 180  # a loaded 2-core machine can take over a minute
        while time.time() < deadline:
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                    if response.read().decode().strip() == "ok":
                        break
            except OSError:
                time.sleep(0.5)
        else:
            raise RuntimeError("the streamlit server did not start in 180 s")
        yield url, process


@contextmanager
def serve(log: Path | None = None):
    """serve_process's server; yields its URL."""
    with serve_process(log) as (url, _process):
        yield url


def _stop(process: subprocess.Popen) -> None:
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(10)
    except subprocess.TimeoutExpired:
        process.kill()
