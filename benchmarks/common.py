"""What every benchmark shares: the comparison's config, seeded weights, one optimiser step
with its gradients, the equality measure, alternating timing and the record of the machine."""

from __future__ import annotations

import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import torch

from core.cli import option
from core.networks import Conv4

# One training step's result: (loss, gradients by parameter name, before the optimiser step).
StepResult = tuple[float, dict[str, torch.Tensor]]


@dataclass
class BenchConfig:
    """The side-by-side comparison; the fields made with option() are flags."""

    repeats: int = option(5, "timed runs per side, alternating ours / peer, after a warm-up")
    threads: int = option(0, "torch intra-op threads; 0 keeps torch's default")
    seed: int = option(0, "seed of the weights and inputs")
    hidden: int = option(64, "Conv-4 channels")
    image_size: int = 28  # Omniglot shapes: 1 x 28 x 28
    meta_batch: int = option(32, "MAML tasks per meta-step")
    maml_ways: int = 5
    maml_shots: int = 1
    maml_queries: int = option(15, "MAML queries per class")
    inner_lr: float = 0.4
    # (inner steps, first order) settings of the MAML comparison
    maml_settings: tuple[tuple[int, bool], ...] = ((1, False), (5, False), (1, True))
    proto_ways: int = option(60, "ProtoNet episode classes")
    proto_shots: int = option(5, "ProtoNet support images per class")
    proto_queries: int = option(5, "ProtoNet queries per class")
    latency_ways: int = 5
    latency_shots: int = 5
    latency_queries: int = 10
    latency_maml_steps: int = option(10, "MAML inner steps of the latency runs")
    # The equality check runs in float64 (rounding ~1e-15, so 1e-6 leaves no room for a
    # different computation) on the first check_tasks tasks of the timed batch.
    tolerance: float = option(1e-6, "max relative error of the loss and of each gradient")
    check_tasks: int = 4
    models: tuple[str, ...] = ()  # latency models; () = all shipped


# -- weights and one step ---------------------------------------------------------------------
def seeded_conv4(hidden: int, seed: int) -> Conv4:
    """A Conv-4 with seeded weights and non-trivial batch-norm statistics and affine terms
    (fresh ones are the identity, which would hide a batch-norm mistake)."""
    generator = torch.Generator().manual_seed(seed)
    net = Conv4(hidden=hidden)
    with torch.no_grad():
        for name, tensor in net.state_dict().items():
            if name.endswith("num_batches_tracked"):
                continue
            if name.endswith("running_var"):
                tensor.copy_(0.5 + torch.rand(tensor.shape, generator=generator))
            elif name.endswith(("running_mean", "1.bias")):
                tensor.copy_(0.1 * torch.randn(tensor.shape, generator=generator))
            elif name.endswith("1.weight"):
                tensor.copy_(0.8 + 0.4 * torch.rand(tensor.shape, generator=generator))
            else:
                fan_in = tensor[0].numel() if tensor.dim() > 1 else 64
                tensor.copy_(torch.randn(tensor.shape, generator=generator) / fan_in**0.5)
    return net


def backward_and_step(
    loss: torch.Tensor,
    optimizer: torch.optim.Optimizer,
    named_params: Iterable[tuple[str, torch.Tensor]],
) -> StepResult:
    """Backward from zeroed gradients, copy the gradients by name (before the step changes
    anything), then the optimiser step. Returns (loss, gradients)."""
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    grads = {k: v.grad.detach().clone() for k, v in named_params}
    optimizer.step()
    return float(loss.detach()), grads


# -- equality and timing ----------------------------------------------------------------------
def relative_errors(ours: dict[str, torch.Tensor], peer: dict[str, torch.Tensor]) -> float:
    """Largest per-tensor ||ours - peer|| / ||peer|| over the shared parameter names.

    Tensors whose reference gradient is zero in exact arithmetic (a conv bias before batch
    norm on batch statistics) are compared against the largest gradient norm instead.
    """
    scale = max(float(v.norm()) for v in peer.values())
    worst = 0.0
    for name, reference in peer.items():
        denominator = max(float(reference.norm()), 1e-3 * scale, 1e-30)
        worst = max(worst, float((ours[name] - reference).norm()) / denominator)
    return worst


def timed_pair(
    ours: Callable[[], Any], peer: Callable[[], Any] | None, repeats: int
) -> dict[str, Any]:
    """Median seconds of ours and the peer, run alternately after one warm-up each."""
    ours()
    if peer is not None:
        peer()
    times: dict[str, list[float]] = {"ours": [], "peer": []}
    for _ in range(repeats):
        for side, fn in (("ours", ours), ("peer", peer)):
            if fn is None:
                continue
            start = time.perf_counter()
            fn()
            times[side].append(time.perf_counter() - start)
    ours_s = statistics.median(times["ours"])
    peer_s = statistics.median(times["peer"]) if times["peer"] else None
    return {
        "ours_s": round(ours_s, 4),
        "peer_s": None if peer_s is None else round(peer_s, 4),
        "speedup": None if peer_s is None else round(peer_s / ours_s, 3),
        "ours_runs_s": [round(t, 4) for t in times["ours"]],
        "peer_runs_s": [round(t, 4) for t in times["peer"]],
    }


# -- the record of a run ----------------------------------------------------------------------
def machine() -> dict[str, Any]:
    model = platform.processor() or platform.machine()
    try:
        for line in subprocess.run(["lscpu"], capture_output=True, text=True).stdout.splitlines():
            if line.startswith("Model name:"):
                model = line.split(":", 1)[1].strip()
    except OSError:
        pass
    return {
        "cpu": model,
        "cpu_count": os.cpu_count(),
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
        "python": platform.python_version(),
    }


def load_average() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def command_line() -> str:
    """The command that is running, as the results record it."""
    return "python -m benchmarks " + " ".join(sys.argv[1:])
