"""lab.jobs: work on its own thread, its progress and result read from another."""

from __future__ import annotations

import threading

from lab.jobs import BackgroundJob


def test_a_job_reports_progress_then_its_result():
    gate = threading.Event()

    def work(progress):
        progress(1, 3)
        gate.wait(10)
        progress(3, 3)
        return "done"

    job = BackgroundJob(work).start()
    for _ in range(1000):  # the first progress call, seen from this thread
        if job.state().done == 1:
            break
        threading.Event().wait(0.005)
    state = job.state()
    assert (state.done, state.total, state.finished, state.result) == (1, 3, False, None)
    assert abs(state.fraction - 1 / 3) < 1e-12
    gate.set()
    state = job.wait(10)
    assert (state.done, state.total, state.finished, state.result) == (3, 3, True, "done")
    assert state.error is None


def test_an_error_in_the_work_is_kept_in_words():
    def work(progress):
        raise ValueError("no support images")

    state = BackgroundJob(work).start().wait(10)
    assert state.finished and state.result is None
    assert state.error == "ValueError: no support images"


def test_a_job_runs_on_another_thread():
    seen = []
    BackgroundJob(lambda progress: seen.append(threading.current_thread().name), "x").start().wait(
        10
    )
    assert seen == ["x"] and seen[0] != threading.current_thread().name
