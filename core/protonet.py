"""Prototypical Networks (Snell, Swersky & Zemel, NeurIPS 2017) as pure tensor functions.

A class is represented by its prototype, the mean embedding of its support examples; a query
is classified by a softmax over negative distances to the prototypes. Nothing here holds
state, so one embedding network can serve any number of concurrent support sets.
"""

from __future__ import annotations

from typing import Literal

import torch
import torch.nn.functional as F

from core.settings import DISTANCES  # noqa: F401 - also protonet's name

Distance = Literal["sq_euclidean", "euclidean", "cosine"]


def prototypes(embeddings: torch.Tensor, labels: torch.Tensor, n_classes: int) -> torch.Tensor:
    """Class means of the support embeddings; shots may differ between classes.

    Args:
        embeddings: (S, D) support embeddings.
        labels: (S,) integer class indices in [0, n_classes).
        n_classes: number of classes N; every class needs at least one example.

    Returns:
        (N, D) prototypes, row k the mean of the embeddings labelled k.
    """
    if embeddings.dim() != 2 or labels.shape != embeddings.shape[:1]:
        raise ValueError(
            f"expected embeddings (S, D) and labels (S,), got {tuple(embeddings.shape)} "
            f"and {tuple(labels.shape)}"
        )
    one_hot = F.one_hot(labels, n_classes).to(embeddings.dtype)  # (S, N)
    counts = one_hot.sum(0)  # (N,)
    if bool((counts == 0).any()):
        empty = torch.nonzero(counts == 0).flatten().tolist()
        raise ValueError(f"classes {empty} have no support example")
    return (one_hot.T @ embeddings) / counts[:, None]


def squared_euclidean(x: torch.Tensor, p: torch.Tensor) -> torch.Tensor:
    """(Q, D), (N, D) -> (Q, N) squared Euclidean distances ||x - p||^2, exact (no expansion
    trick, whose cancellation can give small negative values)."""
    return ((x[:, None, :] - p[None, :, :]) ** 2).sum(-1)


def euclidean(x: torch.Tensor, p: torch.Tensor) -> torch.Tensor:
    """(Q, D), (N, D) -> (Q, N) Euclidean distances ||x - p||."""
    return squared_euclidean(x, p).sqrt()


def cosine_distance(x: torch.Tensor, p: torch.Tensor, eps: float = 1e-8) -> torch.Tensor:
    """(Q, D), (N, D) -> (Q, N) cosine distances 1 - x.p / (||x|| ||p||); ignores scale."""
    xn = x / x.norm(dim=-1, keepdim=True).clamp_min(eps)
    pn = p / p.norm(dim=-1, keepdim=True).clamp_min(eps)
    return 1.0 - xn @ pn.T


def distances(
    x: torch.Tensor, p: torch.Tensor, distance: Distance = "sq_euclidean"
) -> torch.Tensor:
    """Dispatch on the distance name; see the functions above."""
    if distance == "sq_euclidean":
        return squared_euclidean(x, p)
    if distance == "euclidean":
        return euclidean(x, p)
    if distance == "cosine":
        return cosine_distance(x, p)
    raise ValueError(f"unknown distance {distance!r}; expected one of {DISTANCES}")


def logits(
    queries: torch.Tensor,
    protos: torch.Tensor,
    distance: Distance = "sq_euclidean",
    scale: float = 1.0,
) -> torch.Tensor:
    """(Q, D), (N, D) -> (Q, N) logits = -scale * d(query, prototype).

    Cosine distance lies in [0, 2], so it needs a scale (a temperature) to give confident
    softmax outputs; the squared Euclidean distance of the paper uses scale 1.
    """
    return -scale * distances(queries, protos, distance)


def episode_loss(
    support: torch.Tensor,
    support_labels: torch.Tensor,
    queries: torch.Tensor,
    query_labels: torch.Tensor,
    n_classes: int,
    distance: Distance = "sq_euclidean",
    scale: float = 1.0,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Cross-entropy of the queries against the support prototypes (eq. 2 of the paper).

    Returns:
        (loss, accuracy), both 0-d tensors; accuracy is detached.
    """
    out = logits(queries, prototypes(support, support_labels, n_classes), distance, scale)
    loss = F.cross_entropy(out, query_labels)
    accuracy = (out.argmax(-1) == query_labels).float().mean().detach()
    return loss, accuracy
