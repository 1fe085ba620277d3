"""Who uses the cores in a load run: CPU seconds by process kind (the server, Chromium's
renderers, its browser and GPU processes, Playwright's driver) while N Chromium sessions run
benchmarks/load.py's journey against one server, sampled from /proc every 0.5 s.

    python docs/results/load-browser-cpu-2026-12-01/by_process.py 10
"""

from __future__ import annotations

import asyncio
import collections
import os
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[3]))

from benchmarks import load  # noqa: E402
from benchmarks.browser import serve_process  # noqa: E402

TICKS = os.sysconf("SC_CLK_TCK")


def kind(words: list[str]) -> str:
    exe = words[0]
    if "chrom" in exe:
        types = [w[7:] for w in words if w.startswith("--type=")]
        return "chromium " + (types[0] if types else "browser")
    if "streamlit" in words:
        return "server"
    if "node" in exe:
        return "playwright driver"
    return "this script" if "by_process.py" in " ".join(words) else "other python"


def snapshot() -> dict[str, tuple[str, float]]:
    found = {}
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            words = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        words = words.split()
        if words and any(k in words[0] for k in ("chrom", "python", "node")):
            found[pid] = (kind(words), (int(fields[11]) + int(fields[12])) / TICKS)
    return found


def main(count: int) -> None:
    base = snapshot()
    latest: dict[str, tuple[str, float]] = {}
    stop = threading.Event()

    def sample() -> None:
        while not stop.is_set():
            latest.update(snapshot())  # a process that exits keeps its last reading
            time.sleep(0.5)

    sampler = threading.Thread(target=sample)
    sampler.start()
    with serve_process() as (url, _process):
        started = time.perf_counter()
        busy_before = load._cpu_seconds(None)[1]
        results = asyncio.run(load.run_sessions(url, count, 600))
        busy = load._cpu_seconds(None)[1] - busy_before
        wall = time.perf_counter() - started
        time.sleep(0.6)
    stop.set()
    sampler.join()
    used = collections.Counter()
    processes = collections.Counter()
    for pid, (name, seconds) in latest.items():
        used[name] += seconds - base.get(pid, (name, 0.0))[1]
        processes[name] += 1
    print(f"{count} sessions: wall {wall:.1f} s, machine busy {busy:.1f} CPU s")
    for name, seconds in used.most_common():
        print(f"{name:32s} {processes[name]:3d} processes {seconds:6.1f} CPU s")
    print("verdicts (s):", sorted(round(r["verdict_s"], 2) for r in results if "verdict_s" in r))


if __name__ == "__main__":
    main(int(sys.argv[1]))
