"""One meta-trainer for every model: ProtoNet or MAML steps, validation on fixed episodes,
resumable runs (core.training.run) and the model card.

What differs between a Conv-4 on Omniglot images and a head on cached photo features is an
Inputs object (core.training.omniglot, core.training.heads): where episodes come from, how
they are augmented, the network, and the card's input and encoder entries.
With torchrun, the tasks of each meta-batch are split across ranks and gradients averaged
(DDP semantics by all_reduce; gloo on CPU, nccl on GPUs).
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import Any, Protocol

import torch
import torch.distributed as dist
import torch.nn.functional as F
from torch import nn

from core import maml, protonet
from core.checkpoints import load_checkpoint, models_dir, save_checkpoint
from core.encoders import build_encoder
from core.episodes import check_episode_shape, episode_batch
from core.networks import build_network
from core.settings import CARD_INNER_STEPS
from core.training.config import RunConfig, parse_setting
from core.training.run import MetaTrainingRun, hardware, lineage

Augment = Callable[[torch.Tensor, torch.Generator], torch.Tensor]


class Episodic(Protocol):
    """A dataset episodes are drawn from: TensorDataset images or a FeatureTable."""

    def class_sizes(self) -> list[int]: ...

    def batch(self, classes: torch.Tensor, items: torch.Tensor) -> torch.Tensor: ...


class Inputs(Protocol):
    """The part of a run that depends on what the network reads."""

    device: torch.device
    network_spec: dict[str, Any]
    encoder_spec: dict[str, Any]
    augment: Augment | None  # applied to (B, ...) training inputs; None: none
    inputs_hint: str  # how to match a --init-from model's encoder

    def key(self) -> str:
        """What inputs are computed with beyond the config: a run is not resumed over others."""

    def load(self, split: str, quiet: bool) -> Episodic: ...

    def initialise(self, net: nn.Module, generator: torch.Generator) -> None:
        """A fresh network's starting weights beyond the seeded default (before data)."""

    def prepare(self, net: nn.Module, train: Episodic) -> None:
        """A fresh network's starting state that needs the training data."""

    def card(self, algorithm: str) -> dict[str, Any]:
        """The card's "input", "description" and other entries before "network"."""

    def card_extras(self) -> dict[str, Any]:
        """Entries after "metrics" (published numbers to compare with)."""

    data_name: str  # the card's training data, before "trained on '<split>'"

    def hardware_note(self) -> str: ...


@torch.no_grad()
def validate(
    net: nn.Module,
    config: RunConfig,
    data: Episodic,
    device: torch.device | str,
    rates: dict[str, float],
) -> dict[str, float]:
    """Accuracy (%) on fixed validation episodes (seeded, so comparable across steps)."""
    net.eval()
    features = maml.make_features_fn(net)
    params, buffers = maml.split_state(net)
    loop = maml.InnerLoop(
        config.test_inner_steps,
        rates,
        head_init=config.head_init,
        head_lr_per_class=config.head_lr_per_class,
    )
    scores = {}
    for setting in config.val_settings:
        ways, shots = parse_setting(setting)
        generator = torch.Generator().manual_seed(1234)
        correct = total = 0
        for _ in range(config.val_episodes):
            sx, sy, qx, qy = episode_batch(data, ways, shots, 15, generator, device)
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


def source_inner_rates(
    card: dict[str, Any], names: list[str], per_class: bool = False
) -> dict[str, float] | None:
    """A MAML model's per-tensor inner step sizes (card "maml.lr"), or None for ProtoNet.

    per_class: this run's classifier step sizes are per class (head_lr_per_class). A source
    whose are not is converted so that it takes the same steps at the number of classes it
    was meta-trained on (the first of its --ways): its head rates divided by that N.

    Raises:
        ValueError: the card's step sizes name other tensors than this run's network.
    """
    if card.get("algorithm") != "maml" or "lr" not in card.get("maml", {}):
        return None
    rates = card["maml"]["lr"]
    if not isinstance(rates, dict):
        return dict.fromkeys(names, float(rates))
    if sorted(rates) != sorted(names):
        raise ValueError(
            f"--init-from {card.get('name')}: its inner step sizes are for {sorted(rates)}, "
            f"this run's network has {sorted(names)}"
        )
    rates = {k: float(rates[k]) for k in names}
    settings = card["maml"]
    if per_class and not settings.get("head_lr_per_class", False):
        ways = int(card["training"]["config"]["ways"][0])
        head = (maml.HEAD_WEIGHT, maml.HEAD_BIAS)
        rates = {k: v / ways if k in head else v for k, v in rates.items()}
    return rates


class Trainer(MetaTrainingRun):
    """Meta-trains config.algorithm over `inputs`; resumable (see MetaTrainingRun)."""

    def __init__(self, config: RunConfig, inputs: Inputs, command: str) -> None:
        self.config = config
        self.inputs = inputs
        self.command = command
        self.device = inputs.device
        torch.backends.cudnn.benchmark = True
        self.distributed = dist.is_available() and "RANK" in os.environ
        if self.distributed and self.device.type == "cuda" and self.device.index is None:
            # torchrun starts one process per GPU: each rank takes its own (LOCAL_RANK).
            self.device = torch.device("cuda", int(os.environ.get("LOCAL_RANK", 0)))
            torch.cuda.set_device(self.device)
        if self.distributed and not dist.is_initialized():
            dist.init_process_group("nccl" if self.device.type == "cuda" else "gloo")
        self.rank = dist.get_rank() if self.distributed else 0
        self.world = dist.get_world_size() if self.distributed else 1
        self.run_dir = Path(config.run_dir or Path("runs") / config.name)
        self.out_dir = Path(config.out_dir or models_dir())
        self.network_spec = inputs.network_spec
        torch.manual_seed(config.seed)  # weight init only; sampling uses explicit generators
        self.net = build_network(self.network_spec).to(self.device)
        # The same seed on every rank: ranks draw identical batches and split them.
        self.generator = torch.Generator().manual_seed(config.seed)
        self.started_from: list[dict[str, Any]] = []
        # MAML's inner step sizes, one per tensor (head included), as log values.
        names = [k for k, _ in self.net.named_parameters()] + [maml.HEAD_WEIGHT, maml.HEAD_BIAS]
        rates = dict.fromkeys(names, config.inner_lr)
        if config.init_from:
            rates = self._start_from(config.init_from, names) or rates
        else:
            inputs.initialise(self.net, self.generator)
        head = (maml.HEAD_WEIGHT, maml.HEAD_BIAS)
        if not config.inner_backbone:  # the classifier alone adapts: the others' steps are 0
            rates = {k: (v if k in head else 0.0) for k, v in rates.items()}
        self.start_rates = {k: float(v) for k, v in rates.items()}  # the card's maml.lr_start
        learn_rates = config.learn_inner_lr and config.algorithm == "maml"
        self.log_inner_lr = {
            k: torch.tensor(
                math.log(rates[k]) if rates[k] > 0 else -math.inf,
                device=self.device,
                requires_grad=learn_rates and rates[k] > 0,
            )
            for k in names
        }
        groups: list[dict[str, Any]] = [
            {"params": list(self.net.parameters()), "weight_decay": config.weight_decay}
        ]
        if learn_rates:
            learned = [v for v in self.log_inner_lr.values() if v.requires_grad]
            groups.append({"params": learned, "lr": config.inner_lr_lr})
        self.optimizer = torch.optim.Adam(groups, lr=config.lr)
        self.scheduler = torch.optim.lr_scheduler.StepLR(
            self.optimizer, step_size=max(config.lr_halve_every, 1), gamma=0.5
        )
        self.init_progress()

    def _start_from(self, name: str, names: list[str]) -> dict[str, float] | None:
        """Load a shipped model's weights; returns its inner step sizes if it is MAML."""
        source, card = load_checkpoint(name)
        if card["network"] != self.network_spec:
            raise ValueError(
                f"--init-from {name}: its network {card['network']} differs "
                f"from this run's {self.network_spec}"
            )
        encoder = card.get("encoder", {"type": "character"})
        if build_encoder(encoder).spec() != self.inputs.encoder_spec:
            raise ValueError(
                f"--init-from {name}: it was trained over {encoder}, this run over "
                f"{self.inputs.encoder_spec}; {self.inputs.inputs_hint}"
            )
        self.net.load_state_dict(source.state_dict())
        self.started_from = lineage(card)
        rates = source_inner_rates(card, names, self.config.head_lr_per_class)
        if rates is None:
            return None
        return {k: v * self.config.init_lr_scale for k, v in rates.items()}

    def inputs_key(self) -> str:
        return self.inputs.key()

    def data_note(self) -> str:
        """The card's "data": what it trained on and how its checkpoint was chosen. Trained on
        trainval, val is no held-out score: the checkpoint is the step fixed in advance."""
        c = self.config
        trained = f"{self.inputs.data_name}: trained on '{c.train_split}', "
        if c.train_split == "trainval" and c.val_split == "val":
            return trained + (
                f"val inside it (its val numbers are not held out); checkpoint: step "
                f"{self.best_step}, the step count fixed in advance on a run without val"
            )
        return trained + f"checkpoint chosen on '{c.val_split}'"

    # -- steps ------------------------------------------------------------------------------
    def _episode(self, data: Episodic, ways: int, shots: int) -> tuple[torch.Tensor, ...]:
        return episode_batch(data, ways, shots, self.config.queries, self.generator, self.device)

    def _augmented(self, x: torch.Tensor) -> torch.Tensor:
        """(T, B, ...) or (B, ...) inputs, augmented image by image when the inputs say so."""
        if self.inputs.augment is None:
            return x
        return self.inputs.augment(x.flatten(0, x.dim() - 4), self.generator).view(x.shape)

    def protonet_step(self, data: Episodic) -> float:
        c = self.config
        ways, shots = self._pick(c.ways), self._pick(c.shots)
        sx, sy, qx, qy = self._episode(data, ways, shots)
        self.net.train()
        embedded = self.net(self._augmented(torch.cat([sx, qx])))
        loss, _ = protonet.episode_loss(embedded[: len(sx)], sy, embedded[len(sx) :], qy, ways)
        self._optimise(loss)
        return float(loss.detach())

    def maml_step(self, data: Episodic) -> float:
        c = self.config
        ways, shots = self._pick(c.ways), self._pick(c.shots)
        # Every rank draws the same meta-batch (one seed), then keeps its share of the tasks:
        # a 2-rank step computes exactly what a single-process step does.
        tasks = [self._episode(data, ways, shots) for _ in range(c.meta_batch)]
        sx, sy, qx, qy = (torch.stack(parts) for parts in zip(*tasks, strict=True))  # (T, ...)
        sx, qx = self._augmented(sx), self._augmented(qx)
        share = slice(self.rank, None, self.world)
        sx, sy, qx, qy = sx[share], sy[share], qx[share], qy[share]
        self.net.eval()  # batch norm on stored statistics: nothing depends on the batch
        rates = {k: v.exp() for k, v in self.log_inner_lr.items()}
        loss, _ = maml.meta_loss(
            maml.make_features_fn(self.net),
            dict(self.net.named_parameters()),
            dict(self.net.named_buffers()),
            sx,
            F.one_hot(sy, ways).float(),
            qx,
            F.one_hot(qy, ways).float(),
            maml.InnerLoop(
                c.inner_steps,
                rates,
                c.first_order,
                c.head_init,  # type: ignore[arg-type]
                c.head_lr_per_class,
            ),
        )
        # Sum over this rank's tasks / meta_batch; the all-reduce sums the ranks: the mean.
        self._optimise(loss * sx.shape[0] / c.meta_batch * self.world)
        return float(loss.detach())

    def _optimise(self, loss: torch.Tensor) -> None:
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        parameters = list(self.net.parameters()) + list(self.log_inner_lr.values())
        if self.distributed:
            for parameter in parameters:
                if parameter.grad is not None:
                    dist.all_reduce(parameter.grad)
                    parameter.grad /= self.world
        # A meta-batch whose inner loop diverged gives a non-finite meta-gradient: one Adam
        # step with it would turn every weight and step size into NaN. Skip it and count it
        # (the curve's "skipped"), the same decision on every rank (the gradients are summed).
        grads = [p.grad for p in parameters if p.grad is not None]
        if not all(bool(torch.isfinite(g).all()) for g in grads):
            self.skipped += 1
            return
        self.optimizer.step()

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

    # -- loop -------------------------------------------------------------------------------
    def run(self, quiet: bool = False) -> dict[str, Any]:
        c = self.config
        resumed = self.try_resume()
        train, val = (self.inputs.load(split, quiet) for split in (c.train_split, c.val_split))
        for ways in c.ways:
            for shots in c.shots:
                check_episode_shape(ways, shots, c.queries, train.class_sizes())
        if not c.init_from and not resumed:
            self.inputs.prepare(self.net, train)
        step = self.protonet_step if c.algorithm == "protonet" else self.maml_step
        self.loop(
            lambda: step(train),
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
        state = self.best_state or self.net.state_dict()
        net.load_state_dict({k: v.cpu() for k, v in state.items()})
        algorithm = "Prototypical Networks" if c.algorithm == "protonet" else "MAML"
        card: dict[str, Any] = {
            "name": c.name,
            "algorithm": c.algorithm,
            **self.inputs.card(algorithm),
            "network": self.network_spec,
            "encoder": self.inputs.encoder_spec,
            "training": {
                "command": self.command,
                "config": asdict(c),
                "data": self.data_note(),
                "seed": c.seed,
                "steps_run": self.step,
                "best_step": self.best_step,
                "best_val": self.best_score,
                "wall_time_s": round(self.elapsed, 1),
                "hardware": hardware() + self.inputs.hardware_note(),
                "world_size": self.world,
                "curve": self.curve,
                "started_from": self.started_from,
            },
            "metrics": {},
            **self.inputs.card_extras(),
        }
        if c.algorithm == "protonet":
            card["protonet"] = {"distance": "sq_euclidean", "cosine_scale": 10.0}
        else:
            card["maml"] = {
                "steps": c.inner_steps,
                CARD_INNER_STEPS: c.test_inner_steps,
                "lr": self.best_rates or self.inner_rates(),
                "lr_start": self.start_rates,
                "head_init": c.head_init,
                "head_lr_per_class": c.head_lr_per_class,
                "first_order": c.first_order,
            }
        save_checkpoint(net, card, self.out_dir)
        return {
            "name": c.name,
            "best_val": round(self.best_score, 2),
            "best_step": self.best_step,
            "steps": self.step,
            "wall_time_s": round(self.elapsed, 1),
        }
