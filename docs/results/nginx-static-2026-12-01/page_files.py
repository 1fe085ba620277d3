"""What the nginx recipe's page-file cache saves: the CPU seconds a replica spends serving the
page files one new visitor fetches (as recorded from a Chromium session of the load
benchmark's journey), and the bytes that travel, fetched straight from the replica, through
the proxy with its cache cold, and with it warm; Accept-Encoding as Chromium sends it.

    python docs/results/nginx-static-2026-12-01/page_files.py 3
"""

from __future__ import annotations

import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT))

from benchmarks import load  # noqa: E402
from benchmarks.browser import free_port  # noqa: E402
from benchmarks.protocol import fetch  # noqa: E402


def fetch_all(url: str, paths: list[str]) -> int:
    return sum(fetch(url, path) for path in paths)  # as a protocol visitor fetches them


def replica_pid(port: int) -> int:
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            words = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"streamlit" in words and str(port).encode() in words:
            return int(pid)
    raise RuntimeError("replica not found")


def main(rounds: int) -> None:
    template = load.record_templates(300)["ProtoNet"][1]
    paths = template.gets + [g for m in template.messages for g in m.gets]
    paths = [p for p in paths if p.startswith("static/")]
    print(f"{len(paths)} page files under /static/ in one visitor's journey")
    rows: dict[str, list[tuple[float, int]]] = {"direct": [], "proxy, cold": [], "proxy, warm": []}
    for _ in range(rounds):
        first, listen = free_port(), free_port()
        env = os.environ | {
            "REPLICAS": "1",
            "FIRST_PORT": str(first),
            "LISTEN": f"127.0.0.1:{listen}",
        }
        with tempfile.TemporaryDirectory() as run:
            env["RUN_DIR"] = run
            serve = subprocess.Popen(
                ["bash", "deploy/serve.sh"],
                cwd=ROOT,
                env=env,
                start_new_session=True,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.STDOUT,
            )
            try:
                proxy = f"http://127.0.0.1:{listen}"
                for _ in range(240):
                    try:
                        with urllib.request.urlopen(f"{proxy}/_stcore/health", timeout=2) as r:
                            if r.read() == b"ok":
                                break
                    except OSError:
                        time.sleep(0.5)
                pid = replica_pid(first)
                for name, url in (
                    ("direct", f"http://127.0.0.1:{first}"),
                    ("proxy, cold", proxy),
                    ("proxy, warm", proxy),
                ):
                    before = load._cpu_seconds(pid)[0]
                    sent = fetch_all(url, paths)
                    time.sleep(0.5)
                    rows[name].append((load._cpu_seconds(pid)[0] - before, sent))
            finally:
                os.killpg(serve.pid, signal.SIGTERM)
                serve.wait(30)
    for name, values in rows.items():
        cpu = [round(c, 3) for c, _ in values]
        print(
            f"{name:12s} replica CPU s {cpu} (median {statistics.median(cpu):.3f}), "
            f"bytes sent {values[0][1]:,}"
        )


if __name__ == "__main__":
    main(int(sys.argv[1]))
