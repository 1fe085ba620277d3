"""Meta-train ProtoNet or MAML and write assets/models/<name>.safetensors + <name>.json.

    python -m core.train --algorithm protonet --name omniglot-protonet --episodes 20000
    python -m core.train --algorithm maml --name omniglot-maml --init-from omniglot-protonet

Resumable: the run folder holds state.pt, written atomically at every validation; run the
same command again after a kill and it continues from there. Model selection uses the
validation split only. With torchrun, the tasks of each meta-batch are split across ranks
and gradients averaged (DDP semantics by all_reduce; gloo on CPU, nccl on GPUs).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import shlex
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

import torch
import torch.distributed as dist
import torch.nn.functional as F
from tqdm import tqdm

from core import maml, protonet
from core.backbones import build_network
from core.checkpoints import atomic_write_bytes, load_checkpoint, models_dir, save_checkpoint
from core.data import TensorDataset, omniglot
from core.episodes import sample_episode


@dataclass
class TrainConfig:
    name: str = "omniglot-protonet"  # model name: assets/models/<name>.*
    algorithm: str = "protonet"  # "protonet" or "maml"
    dataset: str = "omniglot"
    train_split: str = "train"  # Vinyals train; the test split is never read here
    val_split: str = "val"  # model selection only
    episodes: int = 20000  # optimiser steps (ProtoNet episodes or MAML meta-batches)
    ways: tuple[int, ...] = (60,)  # drawn per step; MAML: a mix serves any test-time ways
    shots: tuple[int, ...] = (1, 5)  # drawn per step, so one checkpoint serves 1 and 5 shots
    queries: int = 5  # per class
    lr: float = 1e-3  # Adam
    lr_halve_every: int = 4000  # steps; the paper halves every 2000 episodes
    meta_batch: int = 32  # MAML: tasks per meta-step
    inner_steps: int = 1  # MAML: inner steps in training
    inner_lr: float = 0.1  # MAML: inner learning rate
    test_inner_steps: int = 10  # MAML: steps at evaluation and in the app
    first_order: bool = False  # MAML: first-order approximation
    head_init: str = "proto"  # MAML: "proto" or "zero"
    learn_inner_lr: bool = True  # MAML: meta-learn one inner lr per parameter tensor
    inner_lr_lr: float = 0.003  # MAML: Adam step for the log inner learning rates
    init_from: str = ""  # start from a shipped model's weights (e.g. MAML from ProtoNet)
    augment: bool = True  # random shifts of up to 2 pixels
    hidden: int = 64  # Conv-4 channels
    eval_every: int = 500
    val_episodes: int = 300  # per validation setting
    val_settings: tuple[str, ...] = ("5w1s", "20w1s")  # mean of these selects the checkpoint
    seed: int = 0
    device: str = "auto"
    time_budget_s: float = 0.0  # stop (keeping the best checkpoint) after this much time; 0 = none
    run_dir: str = ""  # default: runs/<name>
    out_dir: str = ""  # default: assets/models
    description: str = ""


def parse_setting(text: str) -> tuple[int, int]:
    ways, shots = text.lower().rstrip("s").split("w")
    return int(ways), int(shots)


def pick_device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(name)


def shift_augment(x: torch.Tensor, generator: torch.Generator, max_shift: int = 2) -> torch.Tensor:
    """(B, C, H, W): each image shifted by a random whole number of pixels in
    [-max_shift, max_shift] along each axis, zero fill (one batched grid_sample)."""
    b, _, h, w = x.shape
    shifts = torch.randint(-max_shift, max_shift + 1, (b, 2), generator=generator).to(x)
    theta = torch.zeros(b, 2, 3, device=x.device, dtype=x.dtype)
    theta[:, 0, 0] = theta[:, 1, 1] = 1.0
    theta[:, 0, 2] = -2.0 * shifts[:, 0] / w
    theta[:, 1, 2] = -2.0 * shifts[:, 1] / h
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    return F.grid_sample(x, grid, mode="nearest", padding_mode="zeros", align_corners=False)


def episode_tensors(data: TensorDataset, ways, shots, queries, generator, device):
    """-> support (N*K, 1, H, W), support labels (N*K,), query (N*Q, ...), query labels."""
    episode = sample_episode(data.class_sizes(), ways, shots, queries, generator)
    support = data.batch(episode.classes, episode.support).to(device)  # (N, K, 1, H, W)
    query = data.batch(episode.classes, episode.query).to(device)
    labels = torch.arange(ways, device=device)
    return (
        support.flatten(0, 1),
        labels.repeat_interleave(shots),
        query.flatten(0, 1),
        labels.repeat_interleave(queries),
    )


@torch.no_grad()
def validate(
    net, config: TrainConfig, data: TensorDataset, device, rates: dict[str, float]
) -> dict[str, float]:
    """Accuracy (%) on fixed validation episodes (seeded, so comparable across steps)."""
    net.eval()
    features = maml.make_features_fn(net)
    params, buffers = maml.split_state(net)
    loop = maml.InnerLoop(config.test_inner_steps, rates, head_init=config.head_init)
    scores = {}
    for setting in config.val_settings:
        ways, shots = parse_setting(setting)
        generator = torch.Generator().manual_seed(1234)
        correct = total = 0
        for _ in range(config.val_episodes):
            sx, sy, qx, qy = episode_tensors(data, ways, shots, 15, generator, device)
            if config.algorithm == "protonet":
                protos = protonet.prototypes(net(sx), sy, ways)
                predicted = protonet.logits(net(qx), protos).argmax(-1)
            else:
                with torch.enable_grad():
                    adapted = maml.adapt_with_trace(
                        features, params, buffers, sx, F.one_hot(sy, ways).float(), loop
                    )
                predicted = maml.predict_logits(features, adapted.params, buffers, qx).argmax(-1)
            correct += int((predicted == qy).sum())
            total += qy.numel()
        scores[setting] = 100.0 * correct / total
    return scores


def lineage(card: dict[str, Any]) -> list[dict[str, Any]]:
    """How the model a run starts from was made, then how its own start was made, and so
    on: the training records a card needs to be reproduced from scratch."""
    training = card.get("training", {})
    keep = ("command", "seed", "steps_run", "best_step", "wall_time_s", "hardware")
    record = {"name": card.get("name"), **{k: training[k] for k in keep if k in training}}
    return [record, *training.get("started_from", [])]


def hardware() -> str:
    if torch.cuda.is_available():
        return f"{torch.cuda.get_device_name(0)} (CUDA), torch {torch.__version__}"
    cpu = platform.processor() or platform.machine()
    return f"{cpu} CPU x{os.cpu_count()}, torch {torch.__version__}"


class MetaTrainingRun:
    """What every meta-training run shares: progress and best-checkpoint bookkeeping, an
    atomically written state.pt, resuming from it, and the per-tensor inner step sizes.

    Subclasses set config, run_dir, net, log_inner_lr, optimizer, scheduler and generator,
    call init_progress(), and name in resume_ignores the settings that may change between a
    run and its resumption.
    """

    resume_ignores: tuple[str, ...] = ("episodes", "time_budget_s")
    rank = 0
    device: torch.device | str = "cpu"

    def inputs_key(self) -> str:
        """What the network's inputs are computed with, beyond the config (a photo head's
        backbone and preprocessing): a run is not resumed over other inputs."""
        return ""

    def init_progress(self) -> None:
        self.step = 0
        self.elapsed = 0.0
        self.best_score = -1.0
        self.best_step = 0
        self.best_state: dict[str, torch.Tensor] = {}
        self.best_rates: dict[str, float] = {}
        self.curve: list[dict[str, Any]] = []

    @property
    def state_path(self) -> Path:
        return self.run_dir / "state.pt"

    def save_state(self) -> None:
        if self.rank != 0:
            return
        import io

        buffer = io.BytesIO()
        torch.save(
            {
                "config": asdict(self.config),
                "inputs": self.inputs_key(),
                "net": self.net.state_dict(),
                "log_inner_lr": {k: v.detach() for k, v in self.log_inner_lr.items()},
                "optimizer": self.optimizer.state_dict(),
                "scheduler": self.scheduler.state_dict(),
                "generator": self.generator.get_state(),
                "step": self.step,
                "elapsed": self.elapsed,
                "best_score": self.best_score,
                "best_state": self.best_state,
                "best_step": self.best_step,
                "best_rates": json.dumps(self.best_rates),
                "curve": json.dumps(self.curve),
            },
            buffer,
        )
        atomic_write_bytes(self.state_path, buffer.getvalue())

    def try_resume(self) -> bool:
        # A write interrupted by a kill leaves only a hidden temporary file: drop it.
        for leftover in self.run_dir.glob(".*.tmp") if self.run_dir.is_dir() else []:
            leftover.unlink(missing_ok=True)
        if not self.state_path.exists():
            return False
        state = torch.load(self.state_path, map_location=self.device, weights_only=True)
        saved = state["config"]
        mismatched = [
            f.name
            for f in fields(self.config)
            if f.name not in self.resume_ignores
            and _plain(saved.get(f.name)) != _plain(getattr(self.config, f.name))
        ]
        if state.get("inputs", "") != self.inputs_key():
            mismatched.append(
                f"inputs: {state.get('inputs', '')!r} then, {self.inputs_key()!r} now"
            )
        if mismatched:
            raise SystemExit(
                f"{self.state_path} was written with other settings ({', '.join(mismatched)}); "
                "use another --run-dir or delete it"
            )
        self.net.load_state_dict(state["net"])
        with torch.no_grad():
            for k, v in state["log_inner_lr"].items():
                self.log_inner_lr[k].copy_(v)
        self.optimizer.load_state_dict(state["optimizer"])
        self.scheduler.load_state_dict(state["scheduler"])
        self.generator.set_state(state["generator"].cpu())
        self.step, self.elapsed = int(state["step"]), float(state["elapsed"])
        self.best_score, self.best_step = float(state["best_score"]), int(state["best_step"])
        self.best_state = state["best_state"]
        self.curve = json.loads(state["curve"])
        self.best_rates = json.loads(state["best_rates"])
        return True

    def _pick(self, options: tuple[int, ...]) -> int:
        return options[int(torch.randint(len(options), (1,), generator=self.generator))]

    def inner_rates(self) -> dict[str, float]:
        return {k: float(v.detach().exp()) for k, v in self.log_inner_lr.items()}

    def record_validation(self, scores: dict[str, float], losses: list[float]) -> None:
        """Add a point to the curve; keep the weights and step sizes if the mean is best."""
        self.curve.append(
            {
                "step": self.step,
                "train_loss": sum(losses) / len(losses),
                "val": scores,
                "seconds": round(self.elapsed, 1),
            }
        )
        score = sum(scores.values()) / len(scores)
        if score > self.best_score:
            self.best_score, self.best_step = score, self.step
            self.best_state = {k: v.detach().clone() for k, v in self.net.state_dict().items()}
            self.best_rates = self.inner_rates()

    def agree(self, stop: bool) -> bool:
        """One stop decision for every process of the run (single process: the flag itself)."""
        return stop

    def loop(
        self,
        step_fn: Callable[[], float],
        validate_fn: Callable[[], dict[str, float]],
        resumed: bool,
        quiet: bool = False,
    ) -> None:
        """Meta-train until config.episodes steps or the time budget.

        A fresh run first validates its starting point (a curve point at step 0, never a
        checkpoint candidate), so the curve shows what training added. Then it validates every
        eval_every steps, at the end, and when time runs out, keeping the best weights, and
        writes state.pt after each validation. Rank 0 alone validates and reports.
        """
        c = self.config
        start = time.perf_counter() - self.elapsed
        if not resumed and self.rank == 0:
            self.curve.append({"step": 0, "val": validate_fn(), "seconds": 0.0})
        bar = tqdm(
            total=c.episodes,
            initial=self.step,
            disable=quiet or self.rank != 0,
            file=sys.stderr,
            desc=f"{c.name} ({'resumed' if resumed else 'new'})",
        )
        losses: list[float] = []
        while self.step < c.episodes:
            losses.append(step_fn())
            self.scheduler.step()
            self.step += 1
            bar.update(1)
            out_of_time = self.agree(
                bool(c.time_budget_s) and time.perf_counter() - start > c.time_budget_s
            )
            if self.step % c.eval_every == 0 or self.step == c.episodes or out_of_time:
                self.elapsed = time.perf_counter() - start
                if self.rank == 0:
                    scores = validate_fn()
                    self.record_validation(scores, losses)
                    losses = []
                    bar.set_postfix({k: f"{v:.2f}" for k, v in scores.items()})
                self.save_state()
                if out_of_time:
                    break
        bar.close()
        self.elapsed = time.perf_counter() - start


class Trainer(MetaTrainingRun):
    resume_ignores = ("episodes", "time_budget_s", "device")

    def __init__(self, config: TrainConfig, command: str) -> None:
        self.config = config
        self.command = command
        self.device = pick_device(config.device)
        torch.backends.cudnn.benchmark = True
        self.distributed = dist.is_available() and "RANK" in os.environ
        if self.distributed and self.device.type == "cuda" and self.device.index is None:
            # torchrun starts one process per GPU: each rank takes its own (LOCAL_RANK).
            self.device = torch.device("cuda", int(os.environ.get("LOCAL_RANK", 0)))
            torch.cuda.set_device(self.device)
        if self.distributed and not dist.is_initialized():
            backend = "nccl" if self.device.type == "cuda" else "gloo"
            dist.init_process_group(backend)
        self.rank = dist.get_rank() if self.distributed else 0
        self.world = dist.get_world_size() if self.distributed else 1
        if config.algorithm not in ("protonet", "maml"):
            raise ValueError(f"algorithm must be 'protonet' or 'maml', got {config.algorithm!r}")
        if config.dataset != "omniglot":
            raise ValueError(
                f"core.train meta-trains the Conv-4 on 'omniglot'; got {config.dataset!r} "
                "(photo heads are trained by core.photo)"
            )
        self.run_dir = Path(config.run_dir or Path("runs") / config.name)
        self.out_dir = Path(config.out_dir or models_dir())
        self.network_spec = {"type": "conv4", "in_channels": 1, "hidden": config.hidden}
        torch.manual_seed(config.seed)  # weight init only; sampling uses explicit generators
        self.net = build_network(self.network_spec).to(self.device)
        self.started_from: list[dict[str, Any]] = []
        if config.init_from:
            source, source_card = load_checkpoint(config.init_from)
            self.net.load_state_dict(source.state_dict())
            self.started_from = lineage(source_card)
        # MAML's inner step sizes, one per tensor (head included), as log values.
        names = [k for k, _ in self.net.named_parameters()] + [maml.HEAD_WEIGHT, maml.HEAD_BIAS]
        self.log_inner_lr = {
            k: torch.tensor(
                math.log(config.inner_lr),
                device=self.device,
                requires_grad=config.learn_inner_lr and config.algorithm == "maml",
            )
            for k in names
        }
        groups: list[dict[str, Any]] = [{"params": list(self.net.parameters())}]
        if config.learn_inner_lr and config.algorithm == "maml":
            groups.append({"params": list(self.log_inner_lr.values()), "lr": config.inner_lr_lr})
        self.optimizer = torch.optim.Adam(groups, lr=config.lr)
        self.scheduler = torch.optim.lr_scheduler.StepLR(
            self.optimizer, step_size=max(config.lr_halve_every, 1), gamma=0.5
        )
        # The same seed on every rank: ranks draw identical batches and split them.
        self.generator = torch.Generator().manual_seed(config.seed)
        self.init_progress()

    # -- steps ------------------------------------------------------------------------------
    def protonet_step(self, data: TensorDataset) -> tuple[float, float]:
        c = self.config
        ways, shots = self._pick(c.ways), self._pick(c.shots)
        sx, sy, qx, qy = episode_tensors(data, ways, shots, c.queries, self.generator, self.device)
        self.net.train()
        inputs = torch.cat([sx, qx])
        if c.augment:
            inputs = shift_augment(inputs, self.generator)
        embedded = self.net(inputs)
        loss, accuracy = protonet.episode_loss(
            embedded[: len(sx)], sy, embedded[len(sx) :], qy, ways
        )
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        self._all_reduce_grads()
        self.optimizer.step()
        return float(loss.detach()), float(accuracy)

    def maml_step(self, data: TensorDataset) -> tuple[float, float]:
        c = self.config
        ways, shots = self._pick(c.ways), self._pick(c.shots)
        # Every rank draws the same meta-batch (one seed), then keeps its share of the tasks:
        # a 2-rank step computes exactly what a single-process step does.
        tasks = [
            episode_tensors(data, ways, shots, c.queries, self.generator, self.device)
            for _ in range(c.meta_batch)
        ]
        sx, sy, qx, qy = (torch.stack(parts) for parts in zip(*tasks))  # (T, N*K, ...) ...
        if c.augment:
            sx = shift_augment(sx.flatten(0, 1), self.generator).view(sx.shape)
            qx = shift_augment(qx.flatten(0, 1), self.generator).view(qx.shape)
        share = slice(self.rank, None, self.world)
        sx, sy, qx, qy = sx[share], sy[share], qx[share], qy[share]
        self.net.eval()  # batch norm on stored statistics: nothing depends on the batch
        features = maml.make_features_fn(self.net)
        params = dict(self.net.named_parameters())
        buffers = dict(self.net.named_buffers())
        rates = {k: v.exp() for k, v in self.log_inner_lr.items()}
        loop = maml.InnerLoop(c.inner_steps, rates, c.first_order, c.head_init)
        loss, accuracy = maml.meta_loss(
            features,
            params,
            buffers,
            sx,
            F.one_hot(sy, ways).float(),
            qx,
            F.one_hot(qy, ways).float(),
            loop,
        )
        self.optimizer.zero_grad(set_to_none=True)
        # Sum over this rank's tasks / meta_batch; the all-reduce sums the ranks: the mean.
        (loss * sx.shape[0] / c.meta_batch * self.world).backward()
        self._all_reduce_grads()
        self.optimizer.step()
        return float(loss.detach()), float(accuracy)

    def agree(self, stop: bool) -> bool:
        """One stop decision for all ranks: rank 0's clock decides, broadcast to the others.

        Each rank timing itself could stop one rank a step before another, which would then
        wait forever in the next all-reduce. Without a time budget nothing is exchanged.
        """
        if not (self.distributed and self.config.time_budget_s):
            return stop
        flag = torch.tensor([float(stop)], device=self.device)
        dist.broadcast(flag, src=0)
        return bool(flag.item())

    def _all_reduce_grads(self) -> None:
        if not self.distributed:
            return
        for parameter in list(self.net.parameters()) + list(self.log_inner_lr.values()):
            if parameter.grad is not None:
                dist.all_reduce(parameter.grad)
                parameter.grad /= self.world

    # -- loop -------------------------------------------------------------------------------
    def run(self, quiet: bool = False) -> dict[str, Any]:
        c = self.config
        resumed = self.try_resume()
        train = omniglot(c.train_split).to(self.device)
        val = omniglot(c.val_split).to(self.device)
        step = self.protonet_step if c.algorithm == "protonet" else self.maml_step
        self.loop(
            lambda: step(train)[0],
            lambda: validate(self.net, c, val, self.device, self.inner_rates()),
            resumed,
            quiet,
        )
        result = self.write_model() if self.rank == 0 else {}
        if self.distributed:
            dist.barrier()
        return result

    def write_model(self) -> dict[str, Any]:
        c = self.config
        net = build_network(self.network_spec)
        net.load_state_dict(
            {k: v.cpu() for k, v in (self.best_state or self.net.state_dict()).items()}
        )
        card: dict[str, Any] = {
            "name": c.name,
            "algorithm": c.algorithm,
            "input": "character",
            "description": c.description
            or f"{'Prototypical Networks' if c.algorithm == 'protonet' else 'MAML'} on a "
            "Conv-4, meta-trained on Omniglot; for one handwritten character per image.",
            "network": self.network_spec,
            "encoder": {"type": "character"},
            "training": {
                "command": self.command,
                "config": asdict(c),
                "data": f"Omniglot, Vinyals split: trained on '{c.train_split}', "
                f"checkpoint chosen on '{c.val_split}'",
                "seed": c.seed,
                "steps_run": self.step,
                "best_step": self.best_step,
                "best_val": self.best_score,
                "wall_time_s": round(self.elapsed, 1),
                "hardware": hardware(),
                "world_size": self.world,
                "curve": self.curve,
                "started_from": self.started_from,
            },
            "metrics": {},
        }
        if c.algorithm == "protonet":
            card["protonet"] = {"distance": "sq_euclidean", "cosine_scale": 10.0}
        else:
            card["maml"] = {
                "steps": c.inner_steps,
                "test_steps": c.test_inner_steps,
                "lr": self.best_rates or self.inner_rates(),
                "head_init": c.head_init,
                "first_order": c.first_order,
            }
        save_checkpoint(net, card, self.out_dir)
        return {
            "name": c.name,
            "best_val": self.best_score,
            "best_step": self.best_step,
            "steps": self.step,
            "wall_time_s": round(self.elapsed, 1),
        }


def _plain(value: Any) -> Any:
    return list(value) if isinstance(value, (list, tuple)) else value


def parse_args(argv: list[str] | None = None) -> TrainConfig:
    parser = argparse.ArgumentParser(
        prog="python -m core.train",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    for f in fields(TrainConfig):
        flag = "--" + f.name.replace("_", "-")
        default = f.default
        if isinstance(default, bool):
            parser.add_argument(flag, action=argparse.BooleanOptionalAction, default=default)
        elif isinstance(default, tuple):
            kind = int if f.name != "val_settings" else str
            parser.add_argument(flag, type=kind, nargs="+", default=list(default))
        else:
            parser.add_argument(flag, type=type(default), default=default)
    parser.add_argument("--json", action="store_true", help="print the result as one JSON line")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    args = vars(parser.parse_args(argv))
    extras = {k: args.pop(k) for k in ("json", "quiet")}
    config = TrainConfig(**{k: tuple(v) if isinstance(v, list) else v for k, v in args.items()})
    config.__dict__["_extras"] = extras
    return config


def main(argv: list[str] | None = None) -> int:
    config = parse_args(argv)
    extras = config.__dict__.pop("_extras")
    command = "python -m core.train " + shlex.join(argv if argv is not None else sys.argv[1:])
    result = Trainer(config, command).run(quiet=extras["quiet"])
    if dist.is_available() and dist.is_initialized():
        dist.destroy_process_group()
    if result:
        print(json.dumps(result) if extras["json"] else f"wrote {config.name}: {result}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
