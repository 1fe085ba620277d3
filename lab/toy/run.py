"""The playground's per-user state: typed, and safe to share with one training thread.

A ``TrainingRun`` is written by the thread that trains (``train``) and read by the page
(``snapshot``, ``status``, ...); every field is behind one lock, and readers get copies. A
``PlaygroundState`` holds one run and one played task per task family; only the page's own
script thread changes it. Pure Python and torch: no streamlit.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Literal

from lab.toy.config import ToyConfig
from lab.toy.learn import meta_train, pretrain
from lab.toy.mlp import Params, random_init
from lab.toy.player import TaskPlay, new_task

RunStatus = Literal["running", "done", "stopped", "error"]


def maml_step_weight(config: ToyConfig) -> int:
    """How many baseline steps one MAML outer step costs, roughly: a forward and a backward
    pass per inner step, then the query pass, against one pass for the baseline (measured:
    0.27-0.38 for one inner step, ``python -m scripts.playground_lesson``). Weighting by it
    keeps the progress bar, and the time left read from it, steady across the two trainers.
    """
    return 1 + 2 * config.inner_steps


@dataclass(frozen=True)
class RunSnapshot:
    """A consistent copy of a run's progress, for drawing.

    Attributes:
        status: "running", "done", "stopped" (by the user: nothing to play) or "error".
        phase: what is training now, in words.
        progress: fraction of the run's work done, in [0, 1]: outer steps of MAML then of the
            baseline, a MAML step counting ``maml_step_weight`` baseline steps.
        meta_losses: MAML's meta-loss of every completed outer step.
        error: a sentence for the user when status is "error", else None.
        stopped_early: True when the user stopped the run (status "stopped").
        seconds: training time so far (both trainers), final once the run has ended.
    """

    status: RunStatus
    phase: str
    progress: float
    meta_losses: tuple[float, ...]
    error: str | None
    stopped_early: bool
    seconds: float


class TrainingRun:
    """Meta-training of one lesson, then its pretrained baseline, with a stop flag.

    A stop ends the whole run within one outer step, whichever trainer is running: the run
    becomes "stopped" and offers no starts, since half-trained starts would not show the
    lesson (a MAML start stopped early can lose to the baseline).

    Args:
        config: the lesson to train.
    """

    def __init__(self, config: ToyConfig) -> None:
        self.config = config
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._status: RunStatus = "running"
        self._phase = "starting"
        self._progress = 0.0
        self._meta_losses: list[float] = []
        self._error: str | None = None
        self._stopped_early = False
        self._seconds = 0.0
        self._starts: dict[str, Params] | None = None
        self._shown = False
        self._ended = threading.Event()
        self._started_at: float | None = None

    # Reading (any thread) ---------------------------------------------------------------------

    def snapshot(self) -> RunSnapshot:
        """Everything the progress panel shows, read at one instant."""
        with self._lock:
            return RunSnapshot(
                status=self._status,
                phase=self._phase,
                progress=min(self._progress, 1.0),
                meta_losses=tuple(self._meta_losses),
                error=self._error,
                stopped_early=self._stopped_early,
                seconds=self._elapsed(),
            )

    @property
    def status(self) -> RunStatus:
        """The run's status: "running", "done" or "error"."""
        with self._lock:
            return self._status

    @property
    def error(self) -> str | None:
        """The sentence shown when training failed, else None."""
        with self._lock:
            return self._error

    @property
    def meta_losses(self) -> list[float]:
        """A copy of the meta-loss curve so far."""
        with self._lock:
            return list(self._meta_losses)

    def starts(self) -> dict[str, Params]:
        """Start name (see ``player.STARTS``) -> parameters, once the run is done.

        Raises:
            ValueError: while the run is still training or when it failed.
        """
        with self._lock:
            if self._starts is None:
                raise ValueError(f"no trained starts: the run's status is {self._status!r}")
            return dict(self._starts)

    def mark_shown(self) -> bool:
        """Record that the page has drawn the finished run; True the first time only."""
        with self._lock:
            first, self._shown = not self._shown, True
            return first

    # Writing (the training thread, or the page when it trains in its own run) ----------------

    def request_stop(self) -> None:
        """Ask the run to end after its current outer step (MAML's or the baseline's)."""
        self._stop.set()

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the run has ended (done, stopped or failed); False on timeout."""
        return self._ended.wait(timeout)

    def train(self) -> None:
        """Meta-train, then pretrain the baseline, writing progress and results into the run.

        Never raises for a failed training: the error becomes a sentence in ``error``. A stop
        request ends it after the current outer step with status "stopped".
        """
        config = self.config
        weight = maml_step_weight(config)
        total = weight * config.meta_steps + config.pretrain_steps

        def on_meta_step(step: int, loss: float) -> None:
            with self._lock:
                self._meta_losses.append(loss)
                self._progress = weight * step / total

        def on_pretrain_step(step: int, loss: float) -> None:
            with self._lock:
                self._progress = (weight * config.meta_steps + step) / total

        with self._lock:
            self._started_at = time.perf_counter()
        try:
            self._set_phase("Meta-training MAML")
            maml = meta_train(config, on_meta_step, self._stop.is_set)
            if not maml.stopped:
                self._set_phase("Training the pretrained baseline (no meta-learning)")
                pretrained = pretrain(config, on_pretrain_step, self._stop.is_set)
            with self._lock:
                if maml.stopped or pretrained.stopped:
                    self._phase, self._status, self._stopped_early = "Stopped", "stopped", True
                else:
                    self._starts = {
                        "MAML": maml.params,
                        "Random": random_init(config),
                        "Pretrained": pretrained.params,
                    }
                    self._phase, self._status = "Done", "done"
        except (RuntimeError, ValueError) as error:  # shown as a sentence, never a traceback
            with self._lock:
                self._error = f"Training stopped: {error}."
                self._status = "error"
        finally:
            with self._lock:
                self._seconds = self._elapsed()
                self._started_at = None
            self._ended.set()

    def start_thread(self) -> threading.Thread:
        """Train in a daemon thread, so the page stays usable; returns the started thread."""
        thread = threading.Thread(target=self.train, daemon=True, name="pg-meta-train")
        thread.start()
        return thread

    def _set_phase(self, phase: str) -> None:
        with self._lock:
            self._phase = phase

    def _elapsed(self) -> float:
        """Seconds trained: final once ended, else running (call with the lock held)."""
        if self._started_at is None:
            return self._seconds
        return time.perf_counter() - self._started_at


@dataclass
class PlaygroundState:
    """One user's playground: a training run and a played task per task family.

    Attributes:
        runs: family -> its latest training run.
        plays: family -> the task being played on that family's trained starts.
    """

    runs: dict[str, TrainingRun] = field(default_factory=dict)
    plays: dict[str, TaskPlay] = field(default_factory=dict)
    # family -> the finished run (and its played task) that a newer run replaced: kept until
    # that newer run finishes, and back in place if it is stopped or fails.
    previous: dict[str, tuple[TrainingRun, TaskPlay | None]] = field(default_factory=dict)

    def busy(self) -> bool:
        """True while any family trains: one training at a time per user."""
        return any(run.status == "running" for run in self.runs.values())

    def start_run(self, config: ToyConfig) -> TrainingRun:
        """A new run for ``config.family``, replacing its old run and played task.

        The caller trains it (``run.train()`` or ``run.start_thread()``).
        """
        family = config.family
        old = self.runs.get(family)
        if old is not None and old.status == "done":
            self.previous[family] = (old, self.plays.get(family))
        run = TrainingRun(config)
        self.runs[family] = run
        self.plays.pop(family, None)
        return run

    def settle(self, family: str) -> bool:
        """After the latest run of `family` ended: drop the kept lesson if it finished, or
        put the kept lesson back if it was stopped or failed (a Stop must not throw away
        the lesson trained before it). True when the kept lesson was put back."""
        run = self.runs.get(family)
        if run is None or run.status == "running" or family not in self.previous:
            return False
        kept_run, kept_play = self.previous.pop(family)
        if run.status == "done":
            return False
        self.runs[family] = kept_run
        if kept_play is not None:
            self.plays[family] = kept_play
        return True

    def new_task(self, family: str) -> TaskPlay:
        """The next new task of ``family``, adapted from every start of its finished run."""
        run = self.runs.get(family)
        if run is None:
            raise ValueError(f"no training run for {family!r}; meta-train first")
        previous = self.plays.get(family)
        play = new_task(run.config, run.starts(), previous.number + 1 if previous else 1)
        self.plays[family] = play
        return play
