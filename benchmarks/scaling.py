"""Time and peak memory of one training step of ours against MAML inner steps, ways and
shots: every point in a fresh process, a JSON record and a figure
(`python -m benchmarks scaling --out docs`)."""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import torch

from benchmarks.common import BenchConfig, command_line, load_average, machine, seeded_conv4
from benchmarks.maml import ours_maml_step
from benchmarks.protonet import ours_training_step
from benchmarks.tasks import maml_batch, proto_episode
from core import maml
from core.cli import add_config_arguments, config_from_args, option
from lab.style import OKABE_ITO

REPO = Path(__file__).resolve().parent.parent
COLOURS = {"maml": OKABE_ITO["blue"], "protonet": OKABE_ITO["vermillion"]}


@dataclass
class ScalingConfig:
    out: str = option("docs", "writes scaling.png there and scaling.json under its results/")
    repeats: int = option(3, "timed runs per point (median), after one warm-up")
    threads: int = option(0, "torch intra-op threads; 0 keeps torch's default")
    seed: int = option(0, "seed of the weights and inputs")
    meta_batch: int = option(4, "MAML tasks per point (time grows linearly in tasks)")
    queries: int = option(15, "MAML queries per class; ProtoNet uses 5")
    inner_steps: tuple[int, ...] = option((1, 2, 5, 10, 20), "MAML inner steps axis")
    ways: tuple[int, ...] = option((5, 10, 20, 40, 60), "ways axis")
    shots: tuple[int, ...] = option((1, 2, 5, 10, 20), "shots axis")


def measure_point(spec: dict[str, Any]) -> dict[str, Any]:
    """Median seconds and peak resident-memory growth (MiB) of one step, in this process.

    Peak memory is ru_maxrss after the step minus ru_maxrss before it (inputs and model
    already built): torch's CPU allocations are invisible to tracemalloc but not to the
    resident set, and a fresh process per point keeps one point's peak from hiding the next.
    """
    if spec.get("threads"):
        torch.set_num_threads(spec["threads"])
    generator = torch.Generator().manual_seed(spec["seed"])
    net = seeded_conv4(64, spec["seed"])
    optimizer = torch.optim.Adam(net.parameters(), lr=1e-3)
    config = BenchConfig(
        meta_batch=spec["meta_batch"],
        maml_ways=spec["ways"],
        maml_shots=spec["shots"],
        maml_queries=spec["queries"],
        proto_ways=spec["ways"],
        proto_shots=spec["shots"],
        proto_queries=5,
    )
    if spec["algorithm"] == "maml":
        batch = maml_batch(config, generator)
        loop = maml.InnerLoop(spec["inner_steps"], 0.4, False, head_init="proto")

        def step():
            return ours_maml_step(net, optimizer, batch, loop)
    else:
        episode = proto_episode(config, generator)

        def step():
            return ours_training_step(net, optimizer, episode)

    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    step()
    peak_mib = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    times = []
    for _ in range(spec["repeats"]):
        start = time.perf_counter()
        step()
        times.append(time.perf_counter() - start)
    return {**spec, "seconds": statistics.median(times), "peak_mib": round(peak_mib, 1)}


def scaling_points(config: ScalingConfig) -> list[dict[str, Any]]:
    """The specs of measure_point: MAML against inner steps (5-way 1-shot), then MAML and
    ProtoNet against ways (1-shot; ProtoNet 5-shot) and shots (5-way; ProtoNet 60-way)."""
    base = {
        "repeats": config.repeats,
        "threads": config.threads,
        "seed": config.seed,
        "meta_batch": config.meta_batch,
        "queries": config.queries,
    }

    def point(axis: str, algorithm: str, inner_steps: int, ways: int, shots: int):
        return {
            **base,
            "axis": axis,
            "algorithm": algorithm,
            "inner_steps": inner_steps,
            "ways": ways,
            "shots": shots,
        }

    points = [point("inner_steps", "maml", steps, 5, 1) for steps in config.inner_steps]
    for algorithm in ("maml", "protonet"):
        is_maml = algorithm == "maml"
        points += [point("ways", algorithm, 1, ways, 1 if is_maml else 5) for ways in config.ways]
        points += [
            point("shots", algorithm, 1, 5 if is_maml else 60, shots) for shots in config.shots
        ]
    return points


def run_scaling(config: ScalingConfig) -> dict[str, Any]:
    """Every point in a fresh subprocess; writes <out>/scaling.png and results/scaling.json."""
    rows = []
    for spec in scaling_points(config):
        process = subprocess.run(
            [sys.executable, "-m", "benchmarks", "point", json.dumps(spec)],
            capture_output=True,
            text=True,
            check=True,
            cwd=REPO,
        )
        rows.append(json.loads(process.stdout.strip().splitlines()[-1]))
        print(json.dumps(rows[-1]), file=sys.stderr)
    out = Path(config.out)
    (out / "results").mkdir(parents=True, exist_ok=True)
    result = {
        "command": command_line(),
        "config": asdict(config),
        "machine": machine(),
        "load_average": load_average(),
        "points": rows,
    }
    (out / "results" / "scaling.json").write_text(json.dumps(result, indent=1) + "\n")
    plot_scaling(rows, out / "scaling.png", config)
    return result


def plot_scaling(rows: list[dict[str, Any]], path: Path, config: ScalingConfig) -> None:
    """Seconds (top) and peak memory (bottom) against each axis, one line per algorithm."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    axes_spec = [
        ("inner_steps", "MAML inner steps (5-way 1-shot)"),
        ("ways", "ways (MAML 1-shot; ProtoNet 5-shot)"),
        ("shots", "shots (MAML 5-way; ProtoNet 60-way)"),
    ]
    names = {
        "maml": f"MAML ({config.meta_batch} tasks, 2nd order)",
        "protonet": "ProtoNet episode",
    }
    figure, axes = plt.subplots(2, 3, figsize=(13, 7), constrained_layout=True)
    for column, (axis, label) in enumerate(axes_spec):
        for algorithm, colour in COLOURS.items():
            points = [r for r in rows if r["axis"] == axis and r["algorithm"] == algorithm]
            if not points:
                continue
            xs = [r[axis] for r in points]
            for row, key in enumerate(("seconds", "peak_mib")):
                axes[row, column].plot(
                    xs, [r[key] for r in points], "o-", color=colour, label=names[algorithm]
                )
        axes[0, column].set_ylabel("seconds per step (median)")
        axes[1, column].set_ylabel("peak RSS growth (MiB)")
        for row in (0, 1):
            axes[row, column].set_xlabel(label)
            axes[row, column].grid(alpha=0.3)
            axes[row, column].legend(fontsize=8)
    figure.suptitle(
        f"Scaling on {machine()['cpu']}, {torch.get_num_threads()} threads; time and peak "
        "memory of one training step"
    )
    figure.savefig(path, dpi=110)
    plt.close(figure)


def main(argv: list[str]) -> int:
    """`python -m benchmarks scaling [--flags]`: the flags are ScalingConfig's fields."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks scaling", description=__doc__)
    add_config_arguments(parser, ScalingConfig)
    parser.add_argument("--json", action="store_true")
    args = vars(parser.parse_args(argv))
    as_json = args.pop("json")
    config = config_from_args(ScalingConfig, args)
    if config.threads:
        torch.set_num_threads(config.threads)
    result = run_scaling(config)
    print(json.dumps(result) if as_json else f"wrote {config.out}/scaling.png")
    return 0


def point_main(argv: list[str]) -> int:
    """`python -m benchmarks point SPEC_JSON`: one point, run by run_scaling in a fresh process."""
    print(json.dumps(measure_point(json.loads(argv[0]))))
    return 0
