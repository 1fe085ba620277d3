"""Prototypical Networks (Snell, Swersky & Zemel, NeurIPS 2017) on raw 2-D points.

The identity embedding makes the decision regions the Voronoi cells of the class means, so the
playground can show ProtoNet beside MAML on the same task, with no training at all.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from core.protonet import logits as protonet_logits
from core.protonet import prototypes as protonet_prototypes


@dataclass
class ProtoNetResult:
    """ProtoNet with the identity embedding on one 2-D task.

    Attributes:
        prototypes: (N, 2) class means of the support points (Snell et al. 2017, eq. 1).
        grid_labels: (R * R,) nearest-prototype class of every grid point (Voronoi regions).
        grid_class1_probability: (R * R,) softmax probability of class 1 (eq. 2), for N = 2.
        query_predictions: (Q,) predicted class of every query point.
        query_accuracy: fraction of queries classified correctly, or None without labels.
    """

    prototypes: torch.Tensor
    grid_labels: torch.Tensor
    grid_class1_probability: torch.Tensor
    query_predictions: torch.Tensor
    query_accuracy: float | None


def protonet_on_plane(
    support_points: torch.Tensor,
    support_labels: torch.Tensor,
    grid_points: torch.Tensor,
    query_points: torch.Tensor,
    query_labels: torch.Tensor | None = None,
    n_classes: int = 2,
) -> ProtoNetResult:
    """Prototypes and nearest-prototype decision regions, squared Euclidean distance.

    With the identity embedding the regions are the Voronoi cells of the prototypes; for two
    classes the boundary is the perpendicular bisector of the two class means.

    Args:
        support_points: (S, 2).
        support_labels: (S,) integer classes in [0, n_classes), or (S, 1) floats 0./1.
        grid_points: (G, 2) from ``plane_grid``.
        query_points: (Q, 2).
        query_labels: optional (Q,) or (Q, 1) labels, for the accuracy.
        n_classes: number of classes N.

    Returns:
        ProtoNetResult for the grid and the queries.
    """
    if support_points.dim() != 2 or support_points.shape[-1] != 2:
        raise ValueError(f"expected support points (S, 2), got {tuple(support_points.shape)}")
    labels = support_labels.reshape(-1).long()
    protos = protonet_prototypes(support_points, labels, n_classes)  # (N, 2)
    grid_logits = protonet_logits(grid_points, protos)  # (G, N)
    query_predictions = protonet_logits(query_points, protos).argmax(-1)  # (Q,)
    accuracy = None
    if query_labels is not None:
        truth = query_labels.reshape(-1).long()
        accuracy = (query_predictions == truth).float().mean().item()
    class1 = grid_logits.softmax(-1)[:, 1] if n_classes >= 2 else torch.zeros(len(grid_points))
    return ProtoNetResult(
        prototypes=protos,
        grid_labels=grid_logits.argmax(-1),
        grid_class1_probability=class1,
        query_predictions=query_predictions,
        query_accuracy=accuracy,
    )
