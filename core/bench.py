"""Side-by-side speed of our MAML and ProtoNet against the peer libraries, and scaling.

    python -m core.bench --json                  # ours vs learn2learn 0.2.0 and easyfsl 1.5.0
    python -m core.bench scaling --out docs      # time and peak memory vs steps, ways, shots

The comparison runs, in one process and alternating ours / peer, on identical weights,
inputs and seeds:
  - MAML meta-training step (Conv-4, 1x28x28, 5-way 1-shot, 15 queries, 32 tasks): 1 inner
    step second order, 5 inner steps second order, 1 inner step first order; ours is
    core.maml.meta_loss + backward + Adam, the peer learn2learn's clone()/adapt() loop.
  - ProtoNet training episode (60-way 5-shot 5 queries, batch norm on batch statistics):
    ours is the Trainer's (one forward over support and queries, core.protonet.episode_loss),
    the peer easyfsl's PrototypicalNetworks (process_support_set, forward, cross-entropy).
  - adapt + predict latency of each shipped model through core.load_model(...).adapt(...)
    .predict_proba(...): 5-way 5-shot, 10 queries, MAML with 10 inner steps.

The peers get the textbook Conv-4 (conv, batch norm, ReLU, max-pool modules, as in their
examples) with our weights; ours is core.backbones.Conv4. Before timing, the meta-gradients
and losses of both are checked equal (in float64, on the same weights and the first tasks of
the timed batch), so the speed is for the same computation: MAML as both libraries can
express it (zero-initialised linear head of 5 outputs, as our head_init="zero"; batch norm
on stored statistics in both); ProtoNet with easyfsl's Euclidean distance (we train on its
square, as the paper does) and batch norm on stored statistics (easyfsl embeds support and
queries in two passes, so batch statistics would differ). The peers are not project
requirements; without them only our side runs and the peer fields are null. Install them:

    bash ../shared/tools/install-peers.sh .venv/bin/python
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image, ImageDraw
from torch import nn

from core import maml, protonet
from core.backbones import Conv4

INSTALL_HINT = (
    "peer libraries not installed (learn2learn 0.2.0, easyfsl 1.5.0); install them with "
    "`bash ../shared/tools/install-peers.sh .venv/bin/python` (they are not project "
    "requirements); timing our side only"
)


@dataclass
class BenchConfig:
    repeats: int = 5  # timed runs per side, alternating ours / peer, after one warm-up each
    threads: int = 0  # torch intra-op threads; 0 keeps torch's default
    seed: int = 0
    hidden: int = 64  # Conv-4 channels
    image_size: int = 28  # Omniglot shapes: 1 x 28 x 28
    meta_batch: int = 32  # MAML tasks per meta-step
    maml_ways: int = 5
    maml_shots: int = 1
    maml_queries: int = 15  # per class
    inner_lr: float = 0.4
    # (inner steps, first order) settings of the MAML comparison
    maml_settings: tuple[tuple[int, bool], ...] = ((1, False), (5, False), (1, True))
    proto_ways: int = 60
    proto_shots: int = 5
    proto_queries: int = 5
    latency_ways: int = 5
    latency_shots: int = 5
    latency_queries: int = 10
    latency_maml_steps: int = 10
    # The equality check runs in float64 (rounding ~1e-15, so 1e-6 leaves no room for a
    # different computation) on the first check_tasks tasks of the timed batch.
    tolerance: float = 1e-6  # max relative error of the loss and of each gradient tensor
    check_tasks: int = 4
    models: tuple[str, ...] = field(default_factory=tuple)  # latency models; () = all shipped


# -- models and inputs ------------------------------------------------------------------------
class TextbookConv4(nn.Module):
    """The Conv-4 as the peers' examples write it: conv, batch norm, ReLU, max-pool modules.

    Its state dict has the keys of core.backbones.Conv4, so both load the same weights.
    """

    def __init__(self, in_channels: int = 1, hidden: int = 64) -> None:
        super().__init__()

        def block(i: int, o: int) -> nn.Sequential:
            return nn.Sequential(
                nn.Conv2d(i, o, 3, padding=1), nn.BatchNorm2d(o), nn.ReLU(), nn.MaxPool2d(2)
            )

        self.encoder = nn.Sequential(
            block(in_channels, hidden),
            block(hidden, hidden),
            block(hidden, hidden),
            block(hidden, hidden),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.encoder(x).flatten(1)


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


def textbook_copy(net: Conv4, hidden: int) -> TextbookConv4:
    peer = TextbookConv4(hidden=hidden)
    peer.load_state_dict(net.state_dict())
    return peer


@dataclass
class MamlBatch:
    support: torch.Tensor  # (T, N*K, 1, H, W)
    support_labels: torch.Tensor  # (T, N*K)
    query: torch.Tensor  # (T, N*Q, 1, H, W)
    query_labels: torch.Tensor  # (T, N*Q)
    ways: int


def maml_batch(config: BenchConfig, generator: torch.Generator) -> MamlBatch:
    """Random images in [0, 1] with Omniglot's shapes; the cost does not depend on pixels."""
    t, n, k, q, s = (
        config.meta_batch,
        config.maml_ways,
        config.maml_shots,
        config.maml_queries,
        config.image_size,
    )
    labels = torch.arange(n)
    return MamlBatch(
        torch.rand(t, n * k, 1, s, s, generator=generator),
        labels.repeat_interleave(k).expand(t, -1).contiguous(),
        torch.rand(t, n * q, 1, s, s, generator=generator),
        labels.repeat_interleave(q).expand(t, -1).contiguous(),
        n,
    )


def backward_and_step(
    loss: torch.Tensor, optimizer: torch.optim.Optimizer, named_params
) -> tuple[float, dict[str, torch.Tensor]]:
    """Backward from zeroed gradients, copy the gradients by name (before the step changes
    anything), then the optimiser step. Returns (loss, gradients)."""
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    grads = {k: v.grad.detach().clone() for k, v in named_params}
    optimizer.step()
    return float(loss.detach()), grads


# -- MAML: ours and learn2learn's -------------------------------------------------------------
def ours_maml_step(
    net: Conv4, optimizer: torch.optim.Optimizer, batch: MamlBatch, loop: maml.InnerLoop
) -> tuple[float, dict[str, torch.Tensor]]:
    """One meta-step as core.train.Trainer.maml_step computes it: meta_loss, backward, Adam.

    Returns:
        (meta loss, meta-gradients by parameter name, taken before the optimiser step).
    """
    net.eval()  # batch norm on stored statistics, as in meta-training
    params, buffers = dict(net.named_parameters()), dict(net.named_buffers())
    loss, _ = maml.meta_loss(
        maml.make_features_fn(net),
        params,
        buffers,
        batch.support,
        F.one_hot(batch.support_labels, batch.ways).float(),
        batch.query,
        F.one_hot(batch.query_labels, batch.ways).float(),
        loop,
    )
    return backward_and_step(loss, optimizer, params.items())


def peer_maml_learner(net: TextbookConv4, ways: int, loop: maml.InnerLoop) -> Any:
    """learn2learn's MAML over the Conv-4 and a zero linear head (our head_init="zero")."""
    import learn2learn as l2l

    dtype = next(net.parameters()).dtype
    head = nn.Linear(net.encoder[-1][0].out_channels, ways).to(dtype)
    nn.init.zeros_(head.weight)
    nn.init.zeros_(head.bias)
    model = nn.Sequential(net, head).eval()
    return l2l.algorithms.MAML(model, lr=float(loop.lr), first_order=loop.first_order)


def peer_maml_step(
    learner: Any, optimizer: torch.optim.Optimizer, batch: MamlBatch, steps: int
) -> tuple[float, dict[str, torch.Tensor]]:
    """learn2learn's canonical meta-step: per task clone(), adapt() `steps` times on the
    support loss, query loss / T backward (gradients accumulate on the original), Adam.

    The head starts at zero in every task and is not meta-learned (its gradient is dropped),
    as our zero head.
    """
    optimizer.zero_grad(set_to_none=True)
    tasks, total = batch.support.shape[0], 0.0
    for t in range(tasks):
        clone = learner.clone()
        for _ in range(steps):
            clone.adapt(F.cross_entropy(clone(batch.support[t]), batch.support_labels[t]))
        loss = F.cross_entropy(clone(batch.query[t]), batch.query_labels[t]) / tasks
        loss.backward()
        total += float(loss.detach())
    backbone = learner.module[0]
    grads = {k: v.grad.detach().clone() for k, v in backbone.named_parameters()}
    learner.module[1].weight.grad = learner.module[1].bias.grad = None
    optimizer.step()
    return total, grads


# -- ProtoNet: ours and easyfsl's -------------------------------------------------------------
@dataclass
class ProtoEpisode:
    support: torch.Tensor  # (N*K, 1, H, W)
    support_labels: torch.Tensor  # (N*K,)
    query: torch.Tensor  # (N*Q, 1, H, W)
    query_labels: torch.Tensor  # (N*Q,)
    ways: int


def proto_episode(config: BenchConfig, generator: torch.Generator) -> ProtoEpisode:
    n, k, q, s = config.proto_ways, config.proto_shots, config.proto_queries, config.image_size
    labels = torch.arange(n)
    return ProtoEpisode(
        torch.rand(n * k, 1, s, s, generator=generator),
        labels.repeat_interleave(k),
        torch.rand(n * q, 1, s, s, generator=generator),
        labels.repeat_interleave(q),
        n,
    )


def ours_proto_step(
    net: Conv4,
    optimizer: torch.optim.Optimizer,
    episode: ProtoEpisode,
    distance: protonet.Distance = "sq_euclidean",
    train: bool = True,
) -> tuple[float, dict[str, torch.Tensor]]:
    """One episode as core.train.Trainer.protonet_step computes it: one forward over support
    and queries, prototypes, cross-entropy on negative distances, backward, Adam."""
    net.train(train)
    embedded = net(torch.cat([episode.support, episode.query]))  # (N*K + N*Q, D)
    split = len(episode.support)
    loss, _ = protonet.episode_loss(
        embedded[:split],
        episode.support_labels,
        embedded[split:],
        episode.query_labels,
        episode.ways,
        distance,
    )
    return backward_and_step(loss, optimizer, net.named_parameters())


def peer_proto_step(
    model: Any, optimizer: torch.optim.Optimizer, episode: ProtoEpisode, train: bool = True
) -> tuple[float, dict[str, torch.Tensor]]:
    """easyfsl's canonical episode: process_support_set, forward on queries, cross-entropy."""
    model.train(train)
    model.process_support_set(episode.support, episode.support_labels)
    loss = F.cross_entropy(model(episode.query), episode.query_labels)
    return backward_and_step(loss, optimizer, model.backbone.named_parameters())


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


def peers_available() -> bool:
    try:
        import easyfsl  # noqa: F401
        import learn2learn  # noqa: F401
    except ImportError:
        return False
    return True


def _verdict(config, ours_loss, peer_loss, ours_grads, peer_grads) -> dict[str, Any]:
    error = relative_errors(ours_grads, peer_grads)
    return {
        "dtype": "float64",
        "ours_loss": ours_loss,
        "peer_loss": peer_loss,
        "max_relative_grad_error": error,
        "equal": bool(
            abs(ours_loss - peer_loss) <= config.tolerance * abs(peer_loss)
            and error <= config.tolerance
        ),
    }


def check_maml(
    config: BenchConfig, net: Conv4, batch: MamlBatch, loop: maml.InnerLoop
) -> dict[str, Any]:
    """Loss and meta-gradients of ours and learn2learn's, in float64, same weights and tasks."""
    ours = copy.deepcopy(net).double()
    peer = textbook_copy(ours, config.hidden).double()
    n = config.check_tasks
    tasks = MamlBatch(
        batch.support[:n].double(),
        batch.support_labels[:n],
        batch.query[:n].double(),
        batch.query_labels[:n],
        batch.ways,
    )
    ours_loss, ours_grads = ours_maml_step(
        ours, torch.optim.SGD(ours.parameters(), lr=0.0), tasks, loop
    )
    learner = peer_maml_learner(peer, batch.ways, loop)
    peer_loss, peer_grads = peer_maml_step(
        learner, torch.optim.SGD(peer.parameters(), lr=0.0), tasks, loop.steps
    )
    return _verdict(config, ours_loss, peer_loss, ours_grads, peer_grads)


def check_protonet(config: BenchConfig, net: Conv4, episode: ProtoEpisode) -> dict[str, Any]:
    """Loss and gradients of ours and easyfsl's, in float64: easyfsl's Euclidean distance,
    batch norm on stored statistics in both (easyfsl embeds support and queries apart)."""
    from easyfsl.methods import PrototypicalNetworks

    ours = copy.deepcopy(net).double()
    peer = textbook_copy(ours, config.hidden).double()
    episode = ProtoEpisode(
        episode.support.double(),
        episode.support_labels,
        episode.query.double(),
        episode.query_labels,
        episode.ways,
    )
    ours_loss, ours_grads = ours_proto_step(
        ours, torch.optim.SGD(ours.parameters(), lr=0.0), episode, "euclidean", train=False
    )
    peer_loss, peer_grads = peer_proto_step(
        PrototypicalNetworks(peer), torch.optim.SGD(peer.parameters(), lr=0.0), episode, False
    )
    return _verdict(config, ours_loss, peer_loss, ours_grads, peer_grads)


def bench_maml(config: BenchConfig, peers: bool) -> list[dict[str, Any]]:
    results = []
    for steps, first_order in config.maml_settings:
        loop = maml.InnerLoop(steps, config.inner_lr, first_order, head_init="zero")
        ours_net = seeded_conv4(config.hidden, config.seed)
        batch = maml_batch(config, torch.Generator().manual_seed(config.seed + 1))
        ours_opt = torch.optim.Adam(ours_net.parameters(), lr=1e-3)
        entry: dict[str, Any] = {
            "name": f"maml {config.maml_ways}w{config.maml_shots}s {config.maml_queries}q "
            f"x{config.meta_batch} tasks, {steps} inner step{'s' * (steps > 1)}, "
            f"{'first' if first_order else 'second'} order",
            "inner_steps": steps,
            "first_order": first_order,
        }
        peer_fn = None
        if peers:
            entry["check"] = check_maml(config, ours_net, batch, loop)
            peer_net = textbook_copy(ours_net, config.hidden)
            learner = peer_maml_learner(peer_net, batch.ways, loop)
            peer_opt = torch.optim.Adam(peer_net.parameters(), lr=1e-3)

            def peer_fn(learner=learner, peer_opt=peer_opt, batch=batch, steps=steps):
                return peer_maml_step(learner, peer_opt, batch, steps)

        entry.update(
            timed_pair(
                lambda net=ours_net, opt=ours_opt, batch=batch, loop=loop: ours_maml_step(
                    net, opt, batch, loop
                ),
                peer_fn,
                config.repeats,
            )
        )
        results.append(entry)
    return results


def bench_protonet(config: BenchConfig, peers: bool) -> dict[str, Any]:
    ours_net = seeded_conv4(config.hidden, config.seed)
    episode = proto_episode(config, torch.Generator().manual_seed(config.seed + 2))
    ours_opt = torch.optim.Adam(ours_net.parameters(), lr=1e-3)
    entry: dict[str, Any] = {
        "name": f"protonet {config.proto_ways}w{config.proto_shots}s {config.proto_queries}q "
        "training episode"
    }
    peer_fn = None
    if peers:
        from easyfsl.methods import PrototypicalNetworks

        entry["check"] = check_protonet(config, ours_net, episode)
        peer_net = textbook_copy(ours_net, config.hidden)
        model = PrototypicalNetworks(peer_net)
        peer_opt = torch.optim.Adam(peer_net.parameters(), lr=1e-3)

        def peer_fn():
            return peer_proto_step(model, peer_opt, episode)

    entry.update(
        timed_pair(lambda: ours_proto_step(ours_net, ours_opt, episode), peer_fn, config.repeats)
    )
    return entry


def character_images(count: int, seed: int, size: int = 105) -> list[Image.Image]:
    """Seeded random pen strokes on white, Omniglot's look (black ink, 105 x 105)."""
    rng = np.random.default_rng(seed)
    images = []
    for _ in range(count):
        image = Image.new("L", (size, size), 255)
        draw = ImageDraw.Draw(image)
        points = [tuple(p) for p in rng.integers(15, size - 15, (4, 2)).tolist()]
        draw.line(points, fill=0, width=4)
        images.append(image)
    return images


def photo_images(count: int, seed: int, size: int = 160) -> list[Image.Image]:
    rng = np.random.default_rng(seed)
    return [
        Image.fromarray(rng.integers(0, 256, (size, size, 3), dtype=np.uint8)) for _ in range(count)
    ]


def bench_latency(config: BenchConfig) -> list[dict[str, Any]]:
    """adapt + predict_proba of each shipped model, timed end to end from PIL images."""
    from core.learner import list_models, load_model

    names = list(config.models) or [m["name"] for m in list_models()]
    n, k, q = config.latency_ways, config.latency_shots, config.latency_queries
    results = []
    for name in names:
        model = load_model(name)
        make = character_images if model.input_kind == "character" else photo_images
        support = make(n * k, config.seed)
        queries = make(q, config.seed + 1)
        labels = [f"class {i}" for i in range(n) for _ in range(k)]
        settings = {"inner_steps": config.latency_maml_steps} if model.algorithm == "maml" else {}

        def run(model=model, support=support, queries=queries, labels=labels, settings=settings):
            return model.adapt(support, labels, **settings).predict_proba(queries)

        timing = timed_pair(run, None, config.repeats)
        results.append(
            {
                "name": f"{name} adapt {n}w{k}s + predict {q}",
                "model": name,
                "algorithm": model.algorithm,
                "inner_steps": settings.get("inner_steps"),
                "network": model.card.get("network", {}).get("type"),
                "ours_s": timing["ours_s"],
                "ours_runs_s": timing["ours_runs_s"],
            }
        )
    return results


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


def run_bench(config: BenchConfig, parts: tuple[str, ...] = ("maml", "protonet", "latency")):
    """All comparisons of the module docstring; returns the JSON-ready result."""
    if config.threads:
        torch.set_num_threads(config.threads)
    peers = peers_available()
    if not peers:
        print(INSTALL_HINT, file=sys.stderr)
    torch.manual_seed(config.seed)
    result: dict[str, Any] = {
        "command": "python -m core.bench " + " ".join(sys.argv[1:]),
        "config": asdict(config),
        "machine": machine(),
        "peers": (
            {"learn2learn": _version("learn2learn"), "easyfsl": _version("easyfsl")}
            if peers
            else None
        ),
        "load_average_before": [round(x, 2) for x in os.getloadavg()],
    }
    if "maml" in parts:
        result["maml"] = bench_maml(config, peers)
    if "protonet" in parts:
        result["protonet"] = bench_protonet(config, peers)
    if "latency" in parts:
        result["latency"] = bench_latency(config)
    result["load_average_after"] = [round(x, 2) for x in os.getloadavg()]
    result["checks_passed"] = (
        all(e["check"]["equal"] for e in result.get("maml", []) + [result.get("protonet", {})])
        if peers
        else None
    )
    return result


def _version(package: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(package)
    except PackageNotFoundError:
        return "unknown"


# -- scaling ----------------------------------------------------------------------------------
@dataclass
class ScalingConfig:
    out: str = "docs"  # writes scaling.png there and scaling.json under its results/
    repeats: int = 3  # timed runs per point (median), after one warm-up
    threads: int = 0
    seed: int = 0
    meta_batch: int = 4  # MAML tasks per point (time grows linearly in tasks)
    queries: int = 15  # MAML queries per class; ProtoNet uses 5
    inner_steps: tuple[int, ...] = (1, 2, 5, 10, 20)
    ways: tuple[int, ...] = (5, 10, 20, 40, 60)
    shots: tuple[int, ...] = (1, 2, 5, 10, 20)


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
            return ours_proto_step(net, optimizer, episode)

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
    base = {
        "repeats": config.repeats,
        "threads": config.threads,
        "seed": config.seed,
        "meta_batch": config.meta_batch,
        "queries": config.queries,
    }
    points = []
    for steps in config.inner_steps:
        points.append(
            {
                **base,
                "axis": "inner_steps",
                "algorithm": "maml",
                "inner_steps": steps,
                "ways": 5,
                "shots": 1,
            }
        )
    for algorithm in ("maml", "protonet"):
        for ways in config.ways:
            points.append(
                {
                    **base,
                    "axis": "ways",
                    "algorithm": algorithm,
                    "inner_steps": 1,
                    "ways": ways,
                    "shots": 1 if algorithm == "maml" else 5,
                }
            )
        for shots in config.shots:
            points.append(
                {
                    **base,
                    "axis": "shots",
                    "algorithm": algorithm,
                    "inner_steps": 1,
                    "ways": 5 if algorithm == "maml" else 60,
                    "shots": shots,
                }
            )
    return points


def run_scaling(config: ScalingConfig) -> dict[str, Any]:
    """Every point in a fresh subprocess; writes <out>/scaling.png and results/scaling.json."""
    rows = []
    for spec in scaling_points(config):
        process = subprocess.run(
            [sys.executable, "-m", "core.bench", "point", json.dumps(spec)],
            capture_output=True,
            text=True,
            check=True,
            cwd=Path(__file__).resolve().parent.parent,
        )
        rows.append(json.loads(process.stdout.strip().splitlines()[-1]))
        print(json.dumps(rows[-1]), file=sys.stderr)
    out = Path(config.out)
    (out / "results").mkdir(parents=True, exist_ok=True)
    result = {
        "command": "python -m core.bench " + " ".join(sys.argv[1:]),
        "config": asdict(config),
        "machine": machine(),
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "points": rows,
    }
    (out / "results" / "scaling.json").write_text(json.dumps(result, indent=1) + "\n")
    plot_scaling(rows, out / "scaling.png", config)
    return result


def plot_scaling(rows: list[dict[str, Any]], path: Path, config: ScalingConfig) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    axes_spec = [
        ("inner_steps", "MAML inner steps (5-way 1-shot)"),
        ("ways", "ways (MAML 1-shot; ProtoNet 5-shot)"),
        ("shots", "shots (MAML 5-way; ProtoNet 60-way)"),
    ]
    figure, axes = plt.subplots(2, 3, figsize=(13, 7), constrained_layout=True)
    colors = {"maml": "#0072B2", "protonet": "#D55E00"}
    for column, (axis, label) in enumerate(axes_spec):
        for algorithm, color in colors.items():
            points = [r for r in rows if r["axis"] == axis and r["algorithm"] == algorithm]
            if not points:
                continue
            xs = [r[axis] for r in points]
            name = (
                f"MAML ({config.meta_batch} tasks, 2nd order)"
                if algorithm == "maml"
                else ("ProtoNet episode")
            )
            axes[0, column].plot(xs, [r["seconds"] for r in points], "o-", color=color, label=name)
            axes[1, column].plot(xs, [r["peak_mib"] for r in points], "o-", color=color, label=name)
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


# -- command line -----------------------------------------------------------------------------
def parse_bench_args(argv: list[str]) -> tuple[BenchConfig, bool, tuple[str, ...]]:
    parser = argparse.ArgumentParser(
        prog="python -m core.bench",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    defaults = BenchConfig()
    for name in (
        "repeats",
        "threads",
        "seed",
        "hidden",
        "meta_batch",
        "maml_queries",
        "proto_ways",
        "proto_shots",
        "proto_queries",
        "latency_maml_steps",
    ):
        parser.add_argument(
            "--" + name.replace("_", "-"), type=int, default=getattr(defaults, name)
        )
    parser.add_argument("--tolerance", type=float, default=defaults.tolerance)
    parser.add_argument("--models", nargs="*", default=[], help="latency models (default: all)")
    parser.add_argument(
        "--parts",
        nargs="+",
        default=["maml", "protonet", "latency"],
        choices=["maml", "protonet", "latency"],
    )
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    args = vars(parser.parse_args(argv))
    as_json, parts = args.pop("json"), tuple(args.pop("parts"))
    args["models"] = tuple(args["models"])
    return BenchConfig(**args), as_json, parts


def summary(result: dict[str, Any]) -> str:
    lines = [
        f"{result['machine']['cpu']}, {result['machine']['threads']} threads, load average "
        f"{result['load_average_before']} -> {result['load_average_after']}"
    ]
    for entry in result.get("maml", []) + ([result["protonet"]] if "protonet" in result else []):
        peer = (
            f"peer {entry['peer_s']:.3f} s, {entry['speedup']:.2f}x"
            if entry.get("peer_s") is not None
            else "peer not installed"
        )
        check = entry.get("check")
        checked = (
            f"; equal to the peer: {check['equal']} "
            f"(grad err {check['max_relative_grad_error']:.1e})"
            if check
            else ""
        )
        lines.append(f"{entry['name']}: ours {entry['ours_s']:.3f} s, {peer}{checked}")
    for entry in result.get("latency", []):
        lines.append(f"{entry['name']}: {1000 * entry['ours_s']:.1f} ms")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["point"]:
        print(json.dumps(measure_point(json.loads(argv[1]))))
        return 0
    if argv[:1] == ["scaling"]:
        parser = argparse.ArgumentParser(prog="python -m core.bench scaling")
        for f in ScalingConfig.__dataclass_fields__.values():
            default = f.default
            if isinstance(default, tuple):
                parser.add_argument(
                    "--" + f.name.replace("_", "-"), type=int, nargs="+", default=list(default)
                )
            else:
                parser.add_argument(
                    "--" + f.name.replace("_", "-"), type=type(default), default=default
                )
        parser.add_argument("--json", action="store_true")
        args = vars(parser.parse_args(argv[1:]))
        as_json = args.pop("json")
        config = ScalingConfig(
            **{k: tuple(v) if isinstance(v, list) else v for k, v in args.items()}
        )
        if config.threads:
            torch.set_num_threads(config.threads)
        result = run_scaling(config)
        print(json.dumps(result) if as_json else f"wrote {config.out}/scaling.png")
        return 0
    config, as_json, parts = parse_bench_args(argv)
    result = run_bench(config, parts)
    print(json.dumps(result) if as_json else summary(result))
    return 0 if result["checks_passed"] in (True, None) else 1


if __name__ == "__main__":
    raise SystemExit(main())
