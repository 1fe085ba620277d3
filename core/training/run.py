"""What every meta-training run shares: progress and best-checkpoint bookkeeping, a
state.pt written atomically at every validation, resuming from it, and the loop.

Resumable: run the same command again after a kill and it continues from state.pt. Model
selection uses the validation split only.
"""

from __future__ import annotations

import io
import json
import math
import os
import platform
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, fields
from pathlib import Path
from typing import Any

import torch
from tqdm import tqdm

from core.files import atomic_write_bytes


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

    resume_ignores: tuple[str, ...] = (
        "episodes", "time_budget_s", "device", "threads", "save_every_s"
    )  # fmt: skip
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
        self.skipped = 0  # meta-steps skipped for a non-finite meta-gradient

    @property
    def state_path(self) -> Path:
        return self.run_dir / "state.pt"

    def save_state(self) -> None:
        if self.rank != 0:
            return
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
                "skipped": self.skipped,
            },
            buffer,
        )
        atomic_write_bytes(self.state_path, buffer.getvalue())

    def try_resume(self) -> bool:
        # A write interrupted by a kill leaves only a hidden temporary file: drop it.
        for leftover in self.run_dir.glob(".*.tmp*") if self.run_dir.is_dir() else []:
            leftover.unlink(missing_ok=True)
        if not self.state_path.exists():
            return False
        state = torch.load(self.state_path, map_location=self.device, weights_only=True)
        mismatched = self.changed_settings(state["config"])
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
        self.skipped = int(state.get("skipped", 0))
        return True

    def changed_settings(self, saved: dict[str, Any]) -> list[str]:
        """Names of the settings that differ from a saved config (resume_ignores aside).

        Keys renamed since (config.renamed) are read under today's names, and a field the
        saved config lacks counts as its default, so older run folders still resume.
        """
        saved = self.config.current_names(saved)
        defaults = type(self.config)()
        return [
            f.name
            for f in fields(self.config)
            if f.name not in self.resume_ignores
            and _plain(saved.get(f.name, getattr(defaults, f.name)))
            != _plain(getattr(self.config, f.name))
        ]

    def _pick(self, options: tuple[int, ...]) -> int:
        return options[int(torch.randint(len(options), (1,), generator=self.generator))]

    def inner_rates(self) -> dict[str, float]:
        return {k: float(v.detach().exp()) for k, v in self.log_inner_lr.items()}

    def record_validation(self, scores: dict[str, float], losses: list[float]) -> None:
        """Add a point to the curve; keep the weights and step sizes if the mean is best."""
        finite = [loss for loss in losses if math.isfinite(loss)] or [math.nan]
        self.curve.append(
            {
                "step": self.step,
                "train_loss": sum(finite) / len(finite),
                "val": scores,
                "seconds": round(self.elapsed, 1),
                **({"skipped": self.skipped} if self.skipped else {}),
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
        saved = time.perf_counter()
        save_every = getattr(c, "save_every_s", 0.0)
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
                saved = time.perf_counter()
                if out_of_time:
                    break
            elif save_every and time.perf_counter() - saved > save_every:
                # Between validations too, so a killed session loses minutes, not an hour.
                self.elapsed = time.perf_counter() - start
                self.save_state()
                saved = time.perf_counter()
        bar.close()
        self.elapsed = time.perf_counter() - start


def _plain(value: Any) -> Any:
    return list(value) if isinstance(value, (list, tuple)) else value
