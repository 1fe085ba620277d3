"""The peer libraries' side: whether they are installed, the textbook Conv-4 their examples
write, how a peer's step is timed, and the float64 check that it computes what ours does.

learn2learn 0.2.0 and easyfsl 1.5.0 are not project requirements; install them with
`bash benchmarks/install-peers.sh .venv/bin/python`.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from benchmarks.common import BenchConfig, StepResult, relative_errors
from benchmarks.tasks import Episodes
from core.networks import Conv4

INSTALL_HINT = (
    "peer libraries not installed (learn2learn 0.2.0, easyfsl 1.5.0); install them with "
    "`bash benchmarks/install-peers.sh .venv/bin/python` (they are not project "
    "requirements); timing our side only"
)
PEER_PACKAGES = ("learn2learn", "easyfsl")


def peers_available() -> bool:
    try:
        import easyfsl  # noqa: F401
        import learn2learn  # noqa: F401
    except ImportError:
        return False
    return True


def peer_versions() -> dict[str, str]:
    """The installed version of each peer library ("unknown" where pip has no record)."""
    from importlib.metadata import PackageNotFoundError, version

    versions = {}
    for package in PEER_PACKAGES:
        try:
            versions[package] = version(package)
        except PackageNotFoundError:
            versions[package] = "unknown"
    return versions


class TextbookConv4(nn.Module):
    """The Conv-4 as the peers' examples write it: conv, batch norm, ReLU, max-pool modules.

    Its state dict has the keys of core.networks.Conv4, so both load the same weights.
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
        """(B, C, H, W) -> (B, D) features."""
        return self.encoder(x).flatten(1)


def textbook_copy(net: Conv4, hidden: int) -> TextbookConv4:
    peer = TextbookConv4(hidden=hidden)
    peer.load_state_dict(net.state_dict())
    return peer


# Ours: (network, optimizer, inputs) -> (loss, gradients).
OursStep = Callable[[Conv4, torch.optim.Optimizer, Episodes], StepResult]


@dataclass(frozen=True)
class PeerStep:
    """How the other side of a check runs one training step on a textbook Conv-4: a peer
    library, or a hand-written reference (benchmarks.reference)."""

    wrap: Callable[[TextbookConv4], Any]  # the network -> the library's model, built once
    step: Callable[[Any, torch.optim.Optimizer, Episodes], StepResult]  # (model, opt, inputs)

    def timed(self, net: Conv4, hidden: int, inputs: Episodes) -> Callable[[], StepResult]:
        """The step to time: on a textbook copy of `net`'s weights, with its own Adam."""
        peer_net = textbook_copy(net, hidden)
        model = self.wrap(peer_net)
        optimizer = torch.optim.Adam(peer_net.parameters(), lr=1e-3)
        return lambda: self.step(model, optimizer, inputs)


def float64_check(
    config: BenchConfig, net: Conv4, inputs: Episodes, ours: OursStep, peer: PeerStep
) -> dict[str, Any]:
    """Loss and gradients of ours and the peer's, in float64, from `net`'s weights and the
    same float64 `inputs`; equal within config.tolerance when both compute the same thing.

    The optimisers have lr 0, so `net` and its copies keep their weights.
    """
    ours_net = copy.deepcopy(net).double()
    peer_net = textbook_copy(ours_net, config.hidden).double()
    ours_loss, ours_grads = ours(ours_net, torch.optim.SGD(ours_net.parameters(), lr=0.0), inputs)
    peer_loss, peer_grads = peer.step(
        peer.wrap(peer_net), torch.optim.SGD(peer_net.parameters(), lr=0.0), inputs
    )
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
