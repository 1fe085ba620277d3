"""N-way K-shot episode sampling with an explicit torch.Generator (never global state)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import torch


@dataclass(frozen=True)
class Episode:
    """Indices of one episode into a dataset of classes.

    classes: (N,) dataset class indices, in episode order (episode label k = classes[k]).
    support: (N, K) item indices within each class; query: (N, Q) likewise.
    """

    classes: torch.Tensor
    support: torch.Tensor
    query: torch.Tensor

    @property
    def ways(self) -> int:
        return int(self.classes.numel())


def check_episode_shape(ways: int, shots: int, queries: int, class_sizes: Sequence[int]) -> None:
    """Raise ValueError naming the problem when the dataset cannot supply such episodes."""
    if ways < 2:
        raise ValueError(f"ways must be at least 2, got {ways}")
    if shots < 1 or queries < 0:
        raise ValueError(f"need shots >= 1 and queries >= 0, got shots={shots}, queries={queries}")
    usable = sum(1 for n in class_sizes if n >= shots + queries)
    if usable < ways:
        raise ValueError(
            f"{ways}-way episodes with {shots} shots + {queries} queries need {ways} classes "
            f"with at least {shots + queries} images each; the dataset has {usable}"
        )


def sample_episode(
    class_sizes: Sequence[int], ways: int, shots: int, queries: int, generator: torch.Generator
) -> Episode:
    """Draw N classes, then K + Q distinct items of each, uniformly without replacement."""
    sizes = torch.as_tensor(list(class_sizes))
    eligible = torch.nonzero(sizes >= shots + queries).flatten()
    pick = eligible[torch.randperm(eligible.numel(), generator=generator)[:ways]]
    rows = [
        torch.randperm(int(sizes[c]), generator=generator)[: shots + queries] for c in pick.tolist()
    ]
    items = torch.stack(rows)  # (N, K + Q)
    return Episode(pick, items[:, :shots], items[:, shots:])


def episodes(
    class_sizes: Sequence[int], ways: int, shots: int, queries: int, count: int, seed: int
) -> Iterator[Episode]:
    """The same seed always gives the same sequence of episodes."""
    check_episode_shape(ways, shots, queries, class_sizes)
    generator = torch.Generator().manual_seed(seed)
    for _ in range(count):
        yield sample_episode(class_sizes, ways, shots, queries, generator)


def episode_batch(
    data: Any,
    ways: int,
    shots: int,
    queries: int,
    generator: torch.Generator,
    device: torch.device | str = "cpu",
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """One episode drawn from `data` (class_sizes() and batch(classes, items) -> (N, K, ...)):
    Omniglot images (core.data.TensorDataset) or cached features (core.features.FeatureTable).

    Returns:
        support (N*K, ...), support labels (N*K,), query (N*Q, ...), query labels (N*Q,).
    """
    episode = sample_episode(data.class_sizes(), ways, shots, queries, generator)
    support = data.batch(episode.classes, episode.support).to(device)  # (N, K, ...)
    query = data.batch(episode.classes, episode.query).to(device)  # (N, Q, ...)
    labels = torch.arange(ways, device=device)
    return (
        support.flatten(0, 1),
        labels.repeat_interleave(shots),
        query.flatten(0, 1),
        labels.repeat_interleave(queries),
    )
