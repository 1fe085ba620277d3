"""How close the two meta-learning steps come to this machine's limit (issue 19).

    python -m benchmarks roofline --threads 2 --out docs/results/roofline.json

The peak: the best of a large float32 matrix product (2048^3) and a large convolution
(64 x 128 -> 128 channels, 3x3, 56x56) with the same threads, GFLOP/s as a median of runs.
The steps: one ProtoNet training episode (ours, the training formulation: 60-way 5-shot 5
queries) and one MAML meta-step (32 tasks of 5-way 1-shot 15 queries, 5 inner steps, second
order, zero head), the computations `python -m benchmarks` times against the peers.

FLOPs are counted by torch.utils.flop_counter.FlopCounterMode: matrix products and
convolutions, forward and backward (a multiply-add is two). The MAML step's are counted on its
one-task-at-a-time form (the same arithmetic): the counter counts a grouped convolution's
backward once per group too often (torch 2.14), and the timed step groups its inner steps.
The rest of the work (batch norm, ReLU, max-pool, softmax, Adam, the inner loop's parameter
updates) is not counted, so the share is of the time doing counted arithmetic at peak
speed. Where the rest of the time goes is measured with torch.profiler: each step's self CPU
time by operator family.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch.utils.flop_counter import FlopCounterMode

from benchmarks.common import BenchConfig, machine, seeded_conv4
from benchmarks.maml import ours_maml_step
from benchmarks.protonet import ours_training_step
from benchmarks.tasks import maml_batch, proto_episode
from core import maml

FAMILIES = {  # operator name fragments -> the family its time is reported under
    "conv": "convolution (forward and backward)",
    "mm": "matrix products",
    "addmm": "matrix products",
    "bmm": "matrix products",
    "batch_norm": "batch norm",
    "native_batch_norm": "batch norm",
    "max_pool": "max-pool",
    "relu": "ReLU / threshold",
    "threshold": "ReLU / threshold",
}


def median_seconds(call: Callable[[], Any], runs: int) -> float:
    call()  # warm-up
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        call()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def counted_flops(call: Callable[[], Any]) -> int:
    with FlopCounterMode(display=False) as counter:
        call()
    return int(counter.get_total_flops())


def peak(runs: int) -> dict[str, Any]:
    """GFLOP/s of a large GEMM and a large convolution; the peak is the better one."""
    generator = torch.Generator().manual_seed(0)
    a = torch.randn(2048, 2048, generator=generator)
    b = torch.randn(2048, 2048, generator=generator)
    x = torch.randn(64, 128, 56, 56, generator=generator)
    w = torch.randn(128, 128, 3, 3, generator=generator)
    rows = {}
    for name, call in (
        ("gemm 2048^3", lambda: a @ b),
        ("conv 64x128x56x56, 128 3x3 filters", lambda: F.conv2d(x, w, padding=1)),
    ):
        with torch.inference_mode():
            flops = counted_flops(call)
            seconds = median_seconds(call, runs)
        rows[name] = {"gflop": round(flops / 1e9, 3), "s": round(seconds, 4)}
        rows[name]["gflop_per_s"] = round(flops / seconds / 1e9, 2)
    return {"kernels": rows, "peak_gflop_per_s": max(r["gflop_per_s"] for r in rows.values())}


def family(name: str) -> str:
    short = name.removeprefix("aten::")
    for fragment, label in FAMILIES.items():
        if short.startswith(fragment) or f"_{fragment}" in short or fragment in short.split("_"):
            return label
    return "everything else (elementwise, copies, Adam, autograd bookkeeping)"


def time_by_family(call: Callable[[], Any]) -> dict[str, float]:
    """Share of the step's self CPU time per operator family (one profiled run)."""
    from torch.profiler import ProfilerActivity, profile

    with profile(activities=[ProfilerActivity.CPU]) as profiled:
        call()
    totals: dict[str, float] = {}
    for event in profiled.key_averages():
        if event.key.startswith("aten::") or event.key.startswith("mkldnn"):
            label = family(event.key)
            totals[label] = totals.get(label, 0.0) + event.self_cpu_time_total
    whole = sum(totals.values()) or 1.0
    return {k: round(v / whole, 3) for k, v in sorted(totals.items(), key=lambda kv: -kv[1])}


def step_row(
    name: str,
    call: Callable[[], Any],
    runs: int,
    peak_gflops: float,
    count: Callable[[], Any] | None = None,
) -> dict[str, Any]:
    """`call` timed and profiled; its FLOPs counted on `count` (the same arithmetic), or on
    `call` itself."""
    flops = counted_flops(count or call)
    seconds = median_seconds(call, runs)
    achieved = flops / seconds / 1e9
    return {
        "step": name,
        "gflop": round(flops / 1e9, 3),
        "s": round(seconds, 4),
        "gflop_per_s": round(achieved, 2),
        "share_of_peak": round(achieved / peak_gflops, 3),
        "self_time_by_family": time_by_family(call),
    }


def roofline(config: BenchConfig, runs: int) -> dict[str, Any]:
    top = peak(runs)
    peak_gflops = top["peak_gflop_per_s"]
    rows = []
    net = seeded_conv4(config.hidden, config.seed)
    optimizer = torch.optim.Adam(net.parameters(), 1e-3)
    episode = proto_episode(config, torch.Generator().manual_seed(config.seed + 2))
    rows.append(
        step_row(
            f"protonet {config.proto_ways}w{config.proto_shots}s {config.proto_queries}q "
            "training episode (ours)",
            partial(ours_training_step, net, optimizer, episode),
            runs,
            peak_gflops,
        )
    )
    net = seeded_conv4(config.hidden, config.seed)
    optimizer = torch.optim.Adam(net.parameters(), 1e-3)
    batch = maml_batch(config, torch.Generator().manual_seed(config.seed + 1))
    loop = maml.InnerLoop(5, config.inner_lr, False, head_init="zero")
    rows.append(
        step_row(
            f"maml {config.maml_ways}w{config.maml_shots}s {config.maml_queries}q "
            f"x{config.meta_batch} tasks, 5 inner steps, second order (ours)",
            partial(ours_maml_step, net, optimizer, batch, loop=loop),
            runs,
            peak_gflops,
            count=partial(ours_maml_step, net, optimizer, batch, loop=loop, group_tasks=False),
        )
    )
    return {"peak": top, "steps": rows}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks roofline", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--threads", type=int, default=2, help="torch intra-op threads")
    parser.add_argument("--runs", type=int, default=5, help="timed runs per figure (median)")
    parser.add_argument("--out", default="", help="also write the JSON here")
    args = parser.parse_args(argv)
    if args.threads < 1 or args.runs < 1:
        parser.error("--threads and --runs must be >= 1")
    torch.set_num_threads(args.threads)
    report = {
        "command": f"python -m benchmarks roofline --threads {args.threads} --runs {args.runs}",
        "machine": machine(),
        **roofline(BenchConfig(), args.runs),
    }
    print(f"peak {report['peak']['peak_gflop_per_s']} GFLOP/s ({args.threads} threads)")
    for row in report["steps"]:
        print(
            f"{row['step']}: {row['gflop']} GFLOP in {row['s']} s = {row['gflop_per_s']} GFLOP/s, "
            f"{100 * row['share_of_peak']:.1f}% of peak; self time {row['self_time_by_family']}"
        )
    if args.out:
        Path(args.out).write_text(json.dumps(report, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
