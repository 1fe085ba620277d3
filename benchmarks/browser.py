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
from contextlib import contextmanager
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


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def serve():
    """A fresh streamlit server for app.py on a free port; yields its URL."""
    port = free_port()
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
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
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
        process.kill()
        raise RuntimeError("the streamlit server did not start in 180 s")
    try:
        yield url
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
