"""One row of the comparison: the step we time is the step we check.

A Row names our step and the other side of its float64 check: the peer library's step, or a
hand-written reference (benchmarks.reference) when no peer computes what ours does. measure()
passes the same `row.ours` to the check and to the timer, and times the other side only when
it is a peer: only then is the ratio a like-for-like speed-up.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

import torch

from benchmarks.common import BenchConfig, timed_pair
from benchmarks.peers import OursStep, PeerStep, float64_check
from benchmarks.tasks import Episodes
from core.networks import Conv4


@dataclass(frozen=True)
class Row:
    """What one row runs, and what its float64 check compares it with.

    against: the other side's step; None when it is a peer that is not installed.
    against_name: "easyfsl", "learn2learn" or "hand-written reference", as the JSON says.
    is_peer: the other side is the peer's own computation, so it is timed too and the ratio
        is a speed-up; a reference is only checked, never timed.
    computation: one line on what the row computes and, when ours differs from the peer's,
        how.
    """

    name: str
    ours: OursStep
    against: PeerStep | None
    against_name: str
    is_peer: bool
    computation: str


def measure(
    config: BenchConfig, row: Row, net: Conv4, inputs: Episodes, check_inputs: Episodes
) -> dict[str, Any]:
    """The float64 check of row.ours against row.against on `check_inputs`, then row.ours
    timed in float32 on `inputs` (alternating with the peer's step when row.is_peer), each
    side from a copy of `net`'s weights with its own Adam.

    Returns:
        the row's JSON entry: name, computation, compared_with, check (None when the peer is
        not installed), ours_s, peer_s and speedup (None unless a peer was timed), runs.
    """
    entry: dict[str, Any] = {
        "name": row.name,
        "computation": row.computation,
        "compared_with": row.against_name,
        "check": None,
    }
    if row.against is not None:
        check = float64_check(config, net, check_inputs, row.ours, row.against)
        entry["check"] = {**check, "against": row.against_name, "against_peer": row.is_peer}
    peer_fn = None
    if row.is_peer and row.against is not None:
        peer_fn = row.against.timed(net, config.hidden, inputs)
    ours_net = copy.deepcopy(net)
    ours_opt = torch.optim.Adam(ours_net.parameters(), lr=1e-3)
    entry.update(timed_pair(lambda: row.ours(ours_net, ours_opt, inputs), peer_fn, config.repeats))
    return entry
