"""How many MAML tasks to group in one convolution on a CPU (core.maml.TASKS_PER_GROUP).

    python -m scripts.time_task_groups --sizes 32 16 8 4 2 --runs 7

Times the benchmark's meta-step (benchmarks.maml.ours_maml_step: 32 tasks, 5-way 1-shot,
15 queries, 5 inner steps, second order, zero head) with each group size, the sizes taking
turns in every run, on torch's 2 threads; prints every time and the median of all runs but
the first (a warm-up), and each size's largest relative gradient difference to the first size's
(benchmarks.common.relative_errors, the benchmark's own measure). Output
of 2026-12-01: docs/results/maml-task-groups-2026-12-01.txt.
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch

from benchmarks.common import BenchConfig, relative_errors, seeded_conv4
from benchmarks.maml import ours_maml_step
from benchmarks.tasks import maml_batch
from core import maml


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m scripts.time_task_groups")
    parser.add_argument("--sizes", type=int, nargs="+", default=[32, 16, 8, 4, 2])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--steps", type=int, default=5)
    args = parser.parse_args(argv)
    torch.set_num_threads(2)
    config = BenchConfig()
    batch = maml_batch(config, torch.Generator().manual_seed(config.seed + 1))
    loop = maml.InnerLoop(args.steps, config.inner_lr, False, head_init="zero")
    kept = maml.TASKS_PER_GROUP
    times: dict[int, list[float]] = {size: [] for size in args.sizes}
    grads = {}
    try:
        for _ in range(args.runs):
            for size in args.sizes:
                maml.TASKS_PER_GROUP = size
                net = seeded_conv4(config.hidden, config.seed)
                optimizer = torch.optim.Adam(net.parameters(), lr=1e-3)
                started = time.perf_counter()
                _, grad = ours_maml_step(net, optimizer, batch, loop)
                times[size].append(time.perf_counter() - started)
                grads.setdefault(size, grad)
    finally:
        maml.TASKS_PER_GROUP = kept
    for size, runs in times.items():
        difference = relative_errors(grads[size], grads[args.sizes[0]])
        print(
            f"{size:3d} tasks a group: median {statistics.median(runs[1:]):.3f} s "
            f"(runs {', '.join(f'{t:.3f}' for t in runs)}); "
            f"largest gradient difference to {args.sizes[0]}: {difference:.1e}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
