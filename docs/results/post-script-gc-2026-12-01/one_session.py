import asyncio, json, time, sys
from benchmarks import load
from benchmarks.browser import serve
out = []
with serve() as url:
    for _ in range(int(sys.argv[1]) if len(sys.argv) > 1 else 3):
        r = asyncio.run(load.run_sessions(url, 1, 120))[0]
        out.append((round(r.get("adapt_s"), 3), round(r.get("verdict_s"), 3), round(r.get("verdict_server_s"), 3)))
print("adapt, verdict, verdict_server:", out)
