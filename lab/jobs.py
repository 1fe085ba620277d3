"""Long work on its own thread: a page starts it, reads its progress on every rerun and
picks up the result when it is done, and the visitor can use the rest of the page meanwhile.

The thread runs only the function it was given, on what it was given (no Streamlit): the
page reads the job's state, never the other way round. An exception in the work is kept as
the job's error, in words, instead of dying unseen with the thread.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class JobState:
    """A job at one instant: done of total steps, and once finished its result or error."""

    done: int
    total: int
    finished: bool
    result: Any = None
    error: str | None = None

    @property
    def fraction(self) -> float:
        return self.done / self.total if self.total else 0.0


class BackgroundJob:
    """work(progress) on a daemon thread; progress(done, total) may be called from it.

    Args:
        work: the computation; it reports progress through the function it is given.
        name: the thread's name (shows in a debugger or a thread dump).
    """

    def __init__(self, work: Callable[[Progress], Any], name: str = "fewshot-job") -> None:
        self._work = work
        self._lock = threading.Lock()
        self._done = self._total = 0
        self._result: Any = None
        self._error: str | None = None
        self._finished = threading.Event()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)

    def start(self) -> BackgroundJob:
        self._thread.start()
        return self

    def _progress(self, done: int, total: int) -> None:
        with self._lock:
            self._done, self._total = int(done), int(total)

    def _run(self) -> None:
        try:
            result = self._work(self._progress)
            with self._lock:
                self._result = result
        except Exception as error:  # noqa: BLE001 - kept for the page to show, not lost
            with self._lock:
                self._error = f"{type(error).__name__}: {error}"
        finally:
            self._finished.set()

    def state(self) -> JobState:
        """The job now (any thread may ask)."""
        with self._lock:
            return JobState(
                self._done, self._total, self._finished.is_set(), self._result, self._error
            )

    def wait(self, timeout: float | None = None) -> JobState:
        """Block until the job has finished (or `timeout` seconds passed); its state then."""
        self._finished.wait(timeout)
        return self.state()
