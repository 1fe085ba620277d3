"""Random labelled images with Omniglot's shapes: a batch of MAML tasks or one ProtoNet
episode. The cost of a step does not depend on the pixels, so noise stands in for drawings."""

from __future__ import annotations

from dataclasses import dataclass

import torch

from benchmarks.common import BenchConfig


@dataclass
class Episodes:
    """One episode, or T of them stacked along a leading task dimension (MAML's batch).

    Labels are grouped by class: 0 repeated K (or Q) times, then 1, and so on.
    """

    support: torch.Tensor  # ([T,] N*K, 1, H, W)
    support_labels: torch.Tensor  # ([T,] N*K)
    query: torch.Tensor  # ([T,] N*Q, 1, H, W)
    query_labels: torch.Tensor  # ([T,] N*Q)
    ways: int

    def float64(self, tasks: int | None = None) -> Episodes:
        """The images in float64 (labels unchanged), of the first `tasks` tasks if given."""
        pick = slice(tasks)  # slice(None) keeps everything
        return Episodes(
            self.support[pick].double(),
            self.support_labels[pick],
            self.query[pick].double(),
            self.query_labels[pick],
            self.ways,
        )


def random_episodes(
    generator: torch.Generator,
    ways: int,
    shots: int,
    queries: int,
    image_size: int,
    tasks: int | None = None,
) -> Episodes:
    """Images uniform in [0, 1], support then queries; `tasks` adds the leading dimension.

    Args:
        generator: the only source of randomness.
        ways, shots, queries: N classes, K support and Q query images per class.
        image_size: H = W.
        tasks: T stacked episodes, or None for one episode without the task dimension.
    """
    lead = () if tasks is None else (tasks,)
    labels = torch.arange(ways)
    return Episodes(
        torch.rand(*lead, ways * shots, 1, image_size, image_size, generator=generator),
        labels.repeat_interleave(shots).expand(*lead, -1).contiguous(),
        torch.rand(*lead, ways * queries, 1, image_size, image_size, generator=generator),
        labels.repeat_interleave(queries).expand(*lead, -1).contiguous(),
        ways,
    )


def maml_batch(config: BenchConfig, generator: torch.Generator) -> Episodes:
    """The MAML meta-batch: T = config.meta_batch tasks of the maml_* shapes."""
    return random_episodes(
        generator,
        config.maml_ways,
        config.maml_shots,
        config.maml_queries,
        config.image_size,
        tasks=config.meta_batch,
    )


def proto_episode(config: BenchConfig, generator: torch.Generator) -> Episodes:
    """One ProtoNet training episode of the proto_* shapes."""
    return random_episodes(
        generator, config.proto_ways, config.proto_shots, config.proto_queries, config.image_size
    )
