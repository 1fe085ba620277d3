"""One load-benchmark session, N times against one fresh server (see README.md here).

PYTHONPATH=. python docs/results/post-script-gc-2026-12-01/one_session.py 3
"""

import asyncio
import sys

from benchmarks import load
from benchmarks.browser import serve

out = []
with serve() as url:
    for _ in range(int(sys.argv[1]) if len(sys.argv) > 1 else 3):
        r = asyncio.run(load.run_sessions(url, 1, 120))[0]
        seconds = (r.get("adapt_s"), r.get("verdict_s"), r.get("verdict_server_s"))
        out.append(tuple(round(s, 3) for s in seconds))
print("adapt, verdict, verdict_server:", out)
