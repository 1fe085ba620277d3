"""The side-by-side run: MAML and ProtoNet against the peers, then the shipped models'
latency, as one JSON record or a short summary (`python -m benchmarks`; see benchmarks)."""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict, fields
from typing import Any

import torch

import benchmarks
from benchmarks import peers
from benchmarks.common import BenchConfig, command_line, load_average, machine
from benchmarks.latency import bench_latency
from benchmarks.maml import bench_maml
from benchmarks.protonet import bench_protonet
from core.cli import add_config_arguments, config_from_args

PARTS = ("maml", "protonet", "latency")
# Only the fields made with core.cli.option are flags; the others are the protocol's.
NOT_FLAGS = tuple(f.name for f in fields(BenchConfig) if "help" not in f.metadata)


def run_bench(config: BenchConfig, parts: tuple[str, ...] = PARTS) -> dict[str, Any]:
    """All comparisons of the package docstring; returns the JSON-ready result."""
    if config.threads:
        torch.set_num_threads(config.threads)
    available = peers.peers_available()
    if not available:
        print(peers.INSTALL_HINT, file=sys.stderr)
    torch.manual_seed(config.seed)
    result: dict[str, Any] = {
        "command": command_line(),
        "config": asdict(config),
        "machine": machine(),
        "peers": peers.peer_versions() if available else None,
        "load_average_before": load_average(),
    }
    if "maml" in parts:
        result["maml"] = bench_maml(config, available)
    if "protonet" in parts:
        result["protonet"] = bench_protonet(config, available)
    if "latency" in parts:
        result["latency"] = bench_latency(config)
    result["load_average_after"] = load_average()
    checks = [e["check"] for e in result.get("maml", []) + result.get("protonet", []) if e["check"]]
    # checks_passed: against the peers (None without them); the references run always
    result["checks_passed"] = (
        all(c["equal"] for c in checks if c["against_peer"]) if available else None
    )
    result["reference_checks_passed"] = all(c["equal"] for c in checks if not c["against_peer"])
    return result


def parse_bench_args(argv: list[str]) -> tuple[BenchConfig, bool, tuple[str, ...]]:
    """Returns (config, print as JSON, parts to run)."""
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks",
        description=benchmarks.__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_config_arguments(parser, BenchConfig, skip=NOT_FLAGS)
    parser.add_argument("--models", nargs="*", default=[], help="latency models (default: all)")
    parser.add_argument("--parts", nargs="+", default=list(PARTS), choices=PARTS)
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    args = vars(parser.parse_args(argv))
    as_json, parts = args.pop("json"), tuple(args.pop("parts"))
    return config_from_args(BenchConfig, args), as_json, parts


def row_summary(entry: dict[str, Any]) -> str:
    """One line: our time, then the peer's and the speed-up when the row was timed against
    it, or what the row's ratio is not; then what the float64 check compared it with."""
    line = f"{entry['name']}: ours {entry['ours_s']:.3f} s"
    check = entry["check"]
    if entry["compared_with"] != "hand-written reference":
        peer = entry["compared_with"]
        line += (
            f", {peer} {entry['peer_s']:.3f} s, {entry['speedup']:.2f}x; equal to the peer: "
            f"{'yes' if check['equal'] else 'NO'} (float64 grad err "
            f"{check['max_relative_grad_error']:.1e})"
            if check
            else f", {peer} not installed"
        )
        return line
    other = entry.get("ratio_to_easyfsl_different_computation")
    if other is not None:
        line += f" (easyfsl's time / ours {other:.2f}x, of a different computation)"
    return (
        f"{line}; {entry['computation']}; against the hand-written reference: "
        f"{'equal' if check['equal'] else 'NOT EQUAL'} (float64 grad err "
        f"{check['max_relative_grad_error']:.1e})"
    )


def summary(result: dict[str, Any]) -> str:
    lines = [
        f"{result['machine']['cpu']}, {result['machine']['threads']} threads, load average "
        f"{result['load_average_before']} -> {result['load_average_after']}"
    ]
    lines += [row_summary(e) for e in result.get("maml", []) + result.get("protonet", [])]
    for entry in result.get("latency", []):
        lines.append(
            f"{entry['name']}: {1000 * entry['uncached_s']:.1f} ms with new images, "
            f"{1000 * entry['ours_s']:.1f} ms with the same images again"
            + (" (photo features cached)" if entry["repeated_hits_photo_cache"] else "")
        )
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    """Exit status 1 when a float64 check found ours and a peer (or a reference) computing
    different things."""
    config, as_json, parts = parse_bench_args(argv)
    result = run_bench(config, parts)
    print(json.dumps(result) if as_json else summary(result))
    passed = result["checks_passed"] in (True, None) and result["reference_checks_passed"]
    return 0 if passed else 1
