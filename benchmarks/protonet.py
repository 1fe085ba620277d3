"""ProtoNet training episode, ours against easyfsl's (Snell et al. 2017, arXiv:1703.05175).

Two rows, each timed on the step its float64 check ran:
  - easyfsl's computation: support and queries embedded in two training-mode passes (each
    with its own batch statistics), Euclidean distance (easyfsl's -torch.cdist), cross-entropy.
    Ours runs it with core.networks.Conv4 (patch-moment batch norm in the first layer) and
    core.protonet; the peer is easyfsl's PrototypicalNetworks over a textbook Conv-4. Checked
    equal in float64, timed side by side: the ratio is a speed-up.
  - our training formulation, core.training.Trainer.protonet_step's: one pass over support
    and queries together (one set of batch statistics) and the squared distance. Not the
    peer's computation, so it is checked against a hand-written textbook reference instead
    and timed alone; its ratio to easyfsl's time is of different computations.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F

from benchmarks import reference
from benchmarks.common import BenchConfig, StepResult, backward_and_step, seeded_conv4
from benchmarks.peers import PeerStep
from benchmarks.rows import Row, measure
from benchmarks.tasks import Episodes, proto_episode
from core import protonet
from core.networks import Conv4

EASYFSL_COMPUTATION = (
    "easyfsl's: support and queries in two training-mode passes (batch statistics each), "
    "Euclidean distance"
)
TRAINING_COMPUTATION = (
    "not the peer's computation: one training-mode pass over support and queries together "
    "(one set of batch statistics), squared Euclidean distance, as our Trainer trains"
)


def ours_easyfsl_step(
    net: Conv4, optimizer: torch.optim.Optimizer, episode: Episodes
) -> StepResult:
    """easyfsl's episode with our network and core.protonet: support and queries embedded in
    two training-mode passes, prototypes, cross-entropy on negative Euclidean distances."""
    net.train()
    support = net(episode.support)  # (N*K, D), batch statistics of the support
    queries = net(episode.query)  # (N*Q, D), batch statistics of the queries
    loss, _ = protonet.episode_loss(
        support, episode.support_labels, queries, episode.query_labels, episode.ways, "euclidean"
    )
    return backward_and_step(loss, optimizer, net.named_parameters())


def ours_training_step(
    net: Conv4, optimizer: torch.optim.Optimizer, episode: Episodes
) -> StepResult:
    """One episode as core.training.Trainer.protonet_step computes it (without augmentation):
    one training-mode forward over support and queries, core.protonet.episode_loss on the
    squared distance, backward, Adam."""
    net.train()
    embedded = net(torch.cat([episode.support, episode.query]))  # (N*K + N*Q, D)
    split = len(episode.support)
    loss, _ = protonet.episode_loss(
        embedded[:split],
        episode.support_labels,
        embedded[split:],
        episode.query_labels,
        episode.ways,
    )
    return backward_and_step(loss, optimizer, net.named_parameters())


def peer_proto_step(model: Any, optimizer: torch.optim.Optimizer, episode: Episodes) -> StepResult:
    """easyfsl's canonical training episode: process_support_set, forward on the queries,
    cross-entropy; the backbone in training mode."""
    model.train()
    model.process_support_set(episode.support, episode.support_labels)
    loss = F.cross_entropy(model(episode.query), episode.query_labels)
    return backward_and_step(loss, optimizer, model.backbone.named_parameters())


def easyfsl_step() -> PeerStep:
    from easyfsl.methods import PrototypicalNetworks

    return PeerStep(wrap=PrototypicalNetworks, step=peer_proto_step)


def protonet_rows(config: BenchConfig, peers: bool) -> list[Row]:
    """The easyfsl-equal row, then our training formulation's."""
    shape = f"protonet {config.proto_ways}w{config.proto_shots}s {config.proto_queries}q"
    return [
        Row(
            f"{shape} training episode, easyfsl's computation",
            ours_easyfsl_step,
            easyfsl_step() if peers else None,
            "easyfsl",
            True,
            EASYFSL_COMPUTATION,
        ),
        Row(
            f"{shape} training episode, ours, training formulation",
            ours_training_step,
            reference.reference_step(reference.protonet_single_pass),
            "hand-written reference",
            False,
            TRAINING_COMPUTATION,
        ),
    ]


def bench_protonet(config: BenchConfig, peers: bool) -> list[dict[str, Any]]:
    """Both rows of protonet_rows, each checked in float64 then timed. The training
    formulation's entry also gives easyfsl's time over its own, labelled as a ratio of
    different computations (absent without the peers)."""
    net = seeded_conv4(config.hidden, config.seed)
    episode = proto_episode(config, torch.Generator().manual_seed(config.seed + 2))
    entries = [
        measure(config, row, net, episode, episode.float64())
        for row in protonet_rows(config, peers)
    ]
    easyfsl_s = entries[0]["peer_s"]
    entries[1]["easyfsl_s_different_computation"] = easyfsl_s
    entries[1]["ratio_to_easyfsl_different_computation"] = (
        None if easyfsl_s is None else round(easyfsl_s / entries[1]["ours_s"], 3)
    )
    return entries
