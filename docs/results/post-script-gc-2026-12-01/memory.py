"""The server's memory with and without the post-run collection (see README.md here): one
server, two rounds of 20 load-benchmark sessions, VmRSS and VmHWM after each round.

    PYTHONPATH=. python docs/results/post-script-gc-2026-12-01/memory.py
    (from the repo root; the same with STREAMLIT_RUNNER_POST_SCRIPT_GC=true for Streamlit's
    default)
"""

import asyncio
import os
from pathlib import Path

from benchmarks import load
from benchmarks.browser import serve_process


def memory(pid: int) -> dict[str, str]:
    lines = Path(f"/proc/{pid}/status").read_text().splitlines()
    pairs = (line.split(":", 1) for line in lines if line.startswith(("VmRSS", "VmHWM")))
    return {key: value.strip() for key, value in pairs}


with serve_process() as (url, process):
    for round_ in range(2):
        results = asyncio.run(load.run_sessions(url, 20, 300))
        errors = sum(len(r["errors"]) for r in results)
        setting = os.environ.get("STREAMLIT_RUNNER_POST_SCRIPT_GC", "config")
        print(
            setting, "after", (round_ + 1) * 20, "sessions:", memory(process.pid), "errors", errors
        )
