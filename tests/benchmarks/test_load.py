"""The load benchmark's bookkeeping (benchmarks/load.py): percentiles and cross-talk."""

from __future__ import annotations

import pytest

from benchmarks.load import cross_talk, percentile, plan, run_seconds


def test_percentile_interpolates_between_ranks():
    values = [4.0, 1.0, 3.0, 2.0]
    assert percentile(values, 50) == pytest.approx(2.5)
    assert percentile(values, 95) == pytest.approx(3.85)
    assert percentile(values, 0) == 1.0 and percentile(values, 100) == 4.0
    assert percentile([], 50) is None


def test_each_session_has_names_no_other_session_has():
    names = [name for user in range(20) for name in plan(user)["names"]]
    assert len(set(names)) == 40
    # No name is a prefix of another's ("s1 cross" inside "s11 cross" would hide cross-talk).
    assert not [a for a in names for b in names if a != b and a in b]


def _result(user: int, verdict: str, text: str) -> dict:
    return {"user": user, "plan": plan(user), "verdicts": [verdict], "text": text}


def test_cross_talk_catches_a_wrong_verdict_and_a_foreign_name():
    own = [
        _result(u, f"Looks like {plan(u)['expected']} (97%)", " ".join(plan(u)["names"]))
        for u in range(3)
    ]
    assert cross_talk(own) == []
    wrong = [*own[:2], _result(2, f"Looks like {plan(0)['expected']} (90%)", "s2 square")]
    assert any("session 2" in found and "expected" in found for found in cross_talk(wrong))
    leaked = [*own[:2], _result(2, f"Looks like {plan(2)['expected']} (90%)", plan(1)["names"][0])]
    assert any(found.startswith("session 2 shows") for found in cross_talk(leaked))


def test_cpu_seconds_count_this_process_within_the_machine():
    import os
    import time

    from benchmarks.load import _cpu_seconds

    server, machine = _cpu_seconds(os.getpid())
    started = time.process_time()
    while time.process_time() - started < 0.3:  # burn 0.3 s of this process's CPU
        pass
    server_after, machine_after = _cpu_seconds(os.getpid())
    assert server_after - server >= 0.25
    # the machine's busy time includes this process's (clock ticks: 0.01 s each)
    assert machine_after - machine >= server_after - server - 0.05
    assert _cpu_seconds(None)[0] == 0.0


def test_run_seconds_is_the_first_run_requested_after_the_moment_until_it_ended():
    runs = [[1.0, 1.5], [2.0, None], [3.0, 3.25]]
    assert run_seconds(runs, 0.5) == 0.5
    assert run_seconds(runs, 1.5) is None  # requested, not yet ended
    assert run_seconds(runs, 2.5) == 0.25
    assert run_seconds(runs, 4.0) is None  # none requested since
