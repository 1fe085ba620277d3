"""The exact picture of a few-shot decision: the flat space through the class centres.

PCA, t-SNE and UMAP distort distances, so a point can sit nearer one star on screen and be
classified as another. This view does not. With the squared Euclidean distance, a query f's
distance to class centre p_k splits into two parts:

    ||f - p_k||^2 = ||P(f - o) - (p_k - o)||^2 + ||(I - P)(f - o)||^2

where o is a point of the affine span of the centres and P projects onto that span's
directions. The second part is the same for every class, so softmax(-d) (ProtoNet's
probabilities) depends on the first part only: the line (2 classes), plane (3) or 3-D space
(4) through the centres shows ProtoNet's answers and probabilities exactly. Cosine distance is
the squared Euclidean distance of unit vectors, halved, so it is exact the same way on the
normalised embeddings.

MAML's head is linear, logits = W f + b. Logit differences (w_i - w_j) . f + (b_i - b_j)
depend only on f's part in the span of the differences of W's rows: project f there and the
logits change by the same amount for every class, so the softmax does not change.

Above 4 classes the span has more than 3 dimensions; the fallback is a 2-D PCA of the points
inside that span, which is labelled approximate. Pure (no Streamlit).

    ExactSpace       an orthonormal basis of the span, the decision rule inside it, a view
    exact_space      from an AdaptedClassifier (and the points to draw, for the fallback)
    classifier_for   adapt a model again on an ExplorerData's examples (to get its head)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

MAX_EXACT_CLASSES = 4  # 3 dimensions: the most a picture shows
_RANK_TOL = 1e-7  # singular values below this (relative to the largest) are not directions


@dataclass(frozen=True)
class ExactSpace:
    """Coordinates in the space through the class centres (or MAML's weight differences).

    origin: (D,) a point of the space; basis: (K, D) orthonormal rows spanning it.
    ProtoNet: centres (N, K) in those coordinates and logits = -factor * ||c - centre||^2.
    MAML: logits = c @ weight.T + bias, weight (N, K) and bias (N,) in those coordinates
    (equal to the model's logits up to one constant per image).
    view_mean (K,) and view (V, K): the picture's axes inside the space: the identity when
    K <= 3 (exact), else a 2-D PCA of the points drawn (approximate).
    """

    algorithm: str
    distance: str
    origin: np.ndarray
    basis: np.ndarray
    centres: np.ndarray | None
    factor: float
    weight: np.ndarray | None
    bias: np.ndarray | None
    view_mean: np.ndarray
    view: np.ndarray
    n_classes: int

    @property
    def exact(self) -> bool:
        """True when the picture shows every answer and probability as the model has them."""
        return self.view.shape[0] == self.basis.shape[0] and self.distance != "euclidean"

    @property
    def dims(self) -> int:
        """The picture's dimensions: 1, 2 or 3 when exact; 2 for the approximate fallback."""
        return self.view.shape[0]

    def coords(self, embeddings: np.ndarray) -> np.ndarray:
        """(M, D) embeddings (the classifier's own, AdaptedClassifier.embed) -> (M, K)."""
        points = np.asarray(embeddings, dtype=np.float64).reshape(-1, self.origin.shape[0])
        if self.distance == "cosine":
            points = _unit(points)
        return (points - self.origin) @ self.basis.T

    def to_picture(self, coords: np.ndarray) -> np.ndarray:
        """(M, K) coordinates in the space -> (M, dims) positions in the picture."""
        return (np.asarray(coords, dtype=np.float64) - self.view_mean) @ self.view.T

    def place(self, embeddings: np.ndarray) -> np.ndarray:
        """(M, D) embeddings -> (M, dims) positions in the picture."""
        return self.to_picture(self.coords(embeddings))

    def centres_xy(self) -> np.ndarray | None:
        """ProtoNet's centres (N, dims) in the picture (None for MAML: see place)."""
        return None if self.centres is None else self.to_picture(self.centres)

    def logits_at(self, xy: np.ndarray) -> np.ndarray:
        """(M, dims) picture positions -> (M, N) logits of a point there (up to a constant
        per point, which the softmax ignores)."""
        xy = np.asarray(xy, dtype=np.float64).reshape(-1, self.dims)
        coords = self.view_mean + xy @ self.view
        if self.centres is not None:
            squared = ((coords[:, None, :] - self.centres[None, :, :]) ** 2).sum(-1)
            if self.distance == "euclidean":  # the plane itself: no distance off it
                return -self.factor * np.sqrt(squared)
            return -self.factor * squared
        return coords @ self.weight.T + self.bias

    def proba_at(self, xy: np.ndarray) -> np.ndarray:
        """(M, dims) picture positions -> (M, N) the model's probabilities there."""
        logits = self.logits_at(xy)
        logits = logits - logits.max(1, keepdims=True)
        e = np.exp(logits)
        return e / e.sum(1, keepdims=True)

    def answer_at(self, xy: np.ndarray) -> np.ndarray:
        """(M,) the class the picture gives each position: ProtoNet's nearest centre (the
        largest logit), MAML's largest logit."""
        return self.logits_at(xy).argmax(1)

    def grid(self, xy: np.ndarray, steps: int = 120, margin: float = 0.15):
        """A regular grid over the points `xy` (M, dims) and their margin, for backgrounds:
        one axis array per dimension and the (steps**dims, N) probabilities on it (the
        first axis varying fastest, as plotly's heatmaps and volumes want)."""
        xy = np.asarray(xy, dtype=np.float64).reshape(-1, self.dims)
        low, high = xy.min(0), xy.max(0)
        pad = np.maximum((high - low) * margin, 1e-6)
        axes = [
            np.linspace(lo - p, hi + p, steps) for lo, hi, p in zip(low, high, pad, strict=True)
        ]
        mesh = np.meshgrid(*axes, indexing="xy" if self.dims == 2 else "ij")
        points = np.stack([m.ravel() for m in mesh], 1)
        return axes, points, self.proba_at(points)


def _unit(points: np.ndarray, eps: float = 1e-8) -> np.ndarray:
    """Rows divided by their norm (clamped as core.protonet.cosine_distance does)."""
    return points / np.maximum(np.linalg.norm(points, axis=1, keepdims=True), eps)


def _span(directions: np.ndarray) -> np.ndarray:
    """(R, D) directions -> (K, D) orthonormal rows spanning them, each with its largest
    loading positive (a picture that does not flip between reruns); K >= 1."""
    _, s, vt = np.linalg.svd(directions, full_matrices=False)
    keep = s > _RANK_TOL * max(float(s.max(initial=0.0)), 1e-300)
    basis = vt[keep] if keep.any() else vt[:1]  # all classes alike: any line shows it
    signs = np.sign(basis[np.arange(len(basis)), np.abs(basis).argmax(1)])
    return basis * np.where(signs == 0, 1.0, signs)[:, None]


def exact_space(
    classifier: Any, points: np.ndarray | None = None, basis: np.ndarray | None = None
) -> ExactSpace:
    """The exact space of an AdaptedClassifier (core.learner), ProtoNet or MAML.

    Args:
        classifier: adapted on the examples; its prototypes (ProtoNet) or adapted head (MAML)
            define the space.
        points: (M, D) embeddings (classifier.embed) to be drawn: above 4 classes the
            picture is a 2-D PCA of these (and the centres) inside the space.
        basis: (K, D) orthonormal rows to use instead of the span (only to show that
            another plane, e.g. the points' PCA, gives wrong answers: the tests do).
    """
    import torch

    from core import maml

    algorithm = classifier.model.algorithm
    with torch.no_grad():
        if algorithm == "protonet":
            distance = classifier.settings["distance"]
            centres = classifier.trace.prototypes.double().numpy()
            factor = float(classifier.logit_scale)
            if distance == "cosine":
                centres = _unit(centres)
                factor /= 2.0  # 1 - cos(a, b) = ||a - b||^2 / 2 for unit vectors
            origin = centres.mean(0)
            basis = _span(centres - origin) if basis is None else basis
            in_space = (centres - origin) @ basis.T
            weight = bias = None
        else:
            distance = "linear"
            w = classifier.params[maml.HEAD_WEIGHT].double().cpu().numpy()
            b = classifier.params[maml.HEAD_BIAS].double().cpu().numpy()
            origin = (
                np.zeros(w.shape[1])
                if points is None or not len(points)
                else np.asarray(points, np.float64).mean(0)
            )
            basis = _span(w - w.mean(0)) if basis is None else basis
            weight, bias = w @ basis.T, w @ origin + b
            centres, in_space, factor = None, None, 1.0
    k = basis.shape[0]
    n = len(classifier.classes)
    view_mean, view = np.zeros(k), np.eye(k)
    space = ExactSpace(
        algorithm, distance, origin, basis, in_space, factor, weight, bias, view_mean, view, n
    )
    if k <= MAX_EXACT_CLASSES - 1:
        return space
    drawn = [space.coords(points)] if points is not None and len(points) else []
    if in_space is not None:
        drawn.append(in_space)
    cloud = np.concatenate(drawn)
    view_mean = cloud.mean(0)
    _, _, vt = np.linalg.svd(cloud - view_mean, full_matrices=False)
    view = vt[:2]
    if len(view) < 2:  # one point: any plane of the space
        view = np.eye(k)[:2]
    signs = np.sign(view[np.arange(len(view)), np.abs(view).argmax(1)])
    view = view * np.where(signs == 0, 1.0, signs)[:, None]
    return ExactSpace(
        algorithm, distance, origin, basis, in_space, factor, weight, bias, view_mean, view, n
    )


def classifier_for(model: Any, images: Sequence[Any], labels: Sequence[int]) -> Any:
    """The classifier an ExplorerData was made with, adapted again on its examples (the
    same examples in the same order give the same prototypes or the same MAML head): its
    first n_support images and their class indices."""
    return model.adapt(list(images), [int(k) for k in labels])
