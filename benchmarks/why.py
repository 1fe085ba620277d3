"""Timings of issue 30's "why" features, median of several runs on this machine.

    python -m benchmarks.why occlusion [--runs 7] [--out docs/results/why]

occlusion: "Why this verdict?" (lab.occlusion) as the app computes it, the occlusion map and
the nearest examples of the winner and runner-up, for the example lessons' first check image
under each shipped model (the photo lesson needs no dataset; the handwriting one reads
../shared/data and is left out without it). One untimed run first (the ONNX Runtime session,
the support features). The load average is recorded beside the times: other processes on
the machine's cores slow the photo backbone in proportion, so the process's CPU seconds (all
its threads) are recorded too: on an otherwise idle machine the wall time of a photo is about
its CPU seconds over the cores its backbone workers use.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _lesson_task(kind: str):
    from lab.examples import ExampleMissing, lesson

    try:
        found = lesson(kind)
    except ExampleMissing as error:
        print(f"{kind}: left out ({error})", file=sys.stderr)
        return None
    support = [e.image for examples in found.support for e in examples]
    labels = [i for i, examples in enumerate(found.support) for _ in examples]
    return support, labels, found.checks[0][0].image


def time_occlusion(runs: int) -> list[dict]:
    """Seconds per explanation (map + nearest examples), per model: median, min, max."""
    from core import load_model
    from lab import occlusion

    rows = []
    for kind, models in (
        ("photo", ("photo-protonet", "photo-maml")),
        ("character", ("omniglot-protonet", "omniglot-maml")),
    ):
        task = _lesson_task(kind)
        if task is None:
            continue
        support, labels, image = task
        for name in models:
            classifier = load_model(name).adapt(support, labels)
            seconds, cpu, loads = [], [], []
            for run in range(runs + 1):
                start, start_cpu = time.perf_counter(), time.process_time()
                result = occlusion.occlusion_map(classifier, image)
                occlusion.nearest_examples(
                    classifier, image, support, labels, (result.winner, result.runner_up)
                )
                if run:  # the first run is the warm-up
                    seconds.append(time.perf_counter() - start)
                    cpu.append(time.process_time() - start_cpu)
                    loads.append(os.getloadavg()[0])
            rows.append(
                {
                    "model": name,
                    "copies": result.copies,
                    "patch": result.patch,
                    "stride": result.stride,
                    "runs": runs,
                    "median_s": round(statistics.median(seconds), 3),
                    "min_s": round(min(seconds), 3),
                    "max_s": round(max(seconds), 3),
                    "cpu_s_median": round(statistics.median(cpu), 3),
                    "load_average_1min_median": round(statistics.median(loads), 2),
                }
            )
            print(json.dumps(rows[-1]), flush=True)
    return rows


def occlusion_main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.why occlusion")
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "results" / "why")
    args = parser.parse_args(argv)
    import torch

    started = datetime.now(UTC)
    load_at_start = round(os.getloadavg()[0], 2)
    rows = time_occlusion(args.runs)
    record = {
        "command": "python -m benchmarks.why occlusion " + " ".join(argv),
        "date": started.isoformat(timespec="seconds"),
        "cpus": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "load_average_1min_at_start": load_at_start,
        "rows": rows,
    }
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / f"occlusion-{started:%Y-%m-%dT%H%M%S}.json"
    path.write_text(json.dumps(record, indent=1) + "\n")
    print(f"wrote {path}")
    return 0


# --- leave-one-out: Teach's "Check the lesson" (lab.influence) ----------------------------

LESSON_CLASSES, LESSON_SHOTS, LESSON_CHECKS = 10, 10, 2  # the largest lesson: 10 x 10


COMMANDS = {"occlusion": occlusion_main}


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] not in COMMANDS:
        print(f"usage: python -m benchmarks.why {{{','.join(COMMANDS)}}} [--flags]")
        return 2
    return COMMANDS[argv[0]](argv[1:])


if __name__ == "__main__":
    raise SystemExit(main())
