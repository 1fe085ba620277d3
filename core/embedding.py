"""Where images sit in a model's embedding space, and 2-D pictures of it.

Pure numpy (and core.protonet for distances): the pages draw what these functions return.
Several blocks of points (support images, class centres, queries, or every step of MAML's
inner loop) are always projected together, with one projection, so that their positions
can be compared.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from PIL import Image

from core import protonet

PROJECTIONS = ("pca", "tsne")


def project_2d(points: np.ndarray, method: str = "pca", seed: int = 0) -> np.ndarray:
    """(M, D) -> (M, 2) for plotting.

    PCA is deterministic and stable between reruns; t-SNE (van der Maaten & Hinton 2008)
    keeps neighbours but distorts distances more. Few points are handled: one point goes to
    the origin, and a missing second component is filled with zeros.

    Raises:
        ValueError: an unknown method, or points that are not (M, D).
    """
    if method not in PROJECTIONS:
        raise ValueError(f"unknown projection {method!r}; expected one of {PROJECTIONS}")
    points = np.asarray(points, dtype=np.float64)
    if points.ndim != 2:
        raise ValueError(f"expected (M, D) points, got shape {points.shape}")
    m = points.shape[0]
    out = np.zeros((m, 2))
    if m < 2:
        return out
    if method == "tsne" and m >= 4:
        from sklearn.manifold import TSNE

        perplexity = float(min(30.0, max(1.0, (m - 1) / 3)))
        out = TSNE(2, perplexity=perplexity, init="pca", random_state=seed).fit_transform(points)
        return np.asarray(out, dtype=np.float64)
    centred = points - points.mean(0)
    _, _, vt = np.linalg.svd(centred, full_matrices=False)
    components = vt[:2]
    # Fix the sign of each axis (largest loading positive) so the picture does not flip.
    signs = np.sign(components[np.arange(len(components)), np.abs(components).argmax(1)])
    components = components * np.where(signs == 0, 1.0, signs)[:, None]
    projected = centred @ components.T
    out[:, : projected.shape[1]] = projected
    return out


def project_together(blocks: Sequence[np.ndarray], method: str = "pca") -> list[np.ndarray]:
    """Several blocks of points, projected with one projection.

    Args:
        blocks: arrays of shape (..., D) with the same D; leading axes are kept, so a
            (T, S, D) block of S points at T steps comes back as (T, S, 2).
        method: "pca" or "tsne" (see project_2d).

    Returns:
        One array per block, of shape (..., 2).
    """
    arrays = [np.asarray(block) for block in blocks]
    flat = [array.reshape(-1, array.shape[-1]) for array in arrays]
    xy = project_2d(np.concatenate(flat), method)
    ends = np.cumsum([len(block) for block in flat])[:-1]
    return [
        part.reshape(*array.shape[:-1], 2)
        for part, array in zip(np.split(xy, ends), arrays, strict=True)
    ]


def steps_in_2d(trace: Sequence[Any]) -> tuple[np.ndarray, np.ndarray | None, np.ndarray | None]:
    """MAML's adapted embeddings at every inner step, all projected with one PCA so that
    positions can be compared between steps.

    Args:
        trace: T core.maml.StepRecord kept with their features (support_features (S, D),
            and query_features (Q, D) with query_probabilities (Q, N) when there are queries).

    Returns:
        support_xy (T, S, 2); query_xy (T, Q, 2) and the predicted class per step (T, Q),
        or None for both without queries.
    """
    support_steps = np.stack([r.support_features.numpy() for r in trace])  # (T, S, D)
    if trace[0].query_features is None:
        return project_together([support_steps])[0], None, None
    query_steps = np.stack([r.query_features.numpy() for r in trace])  # (T, Q, D)
    support_xy, query_xy = project_together([support_steps, query_steps])
    predictions = np.stack([r.query_probabilities.numpy().argmax(1) for r in trace])  # (T, Q)
    return support_xy, query_xy, predictions


def class_means(embeddings: np.ndarray, labels: Sequence[int], n_classes: int) -> np.ndarray:
    """(S, D) embeddings and (S,) class indices -> (N, D), row k the mean of class k."""
    labels = np.asarray(labels)
    return np.stack([embeddings[labels == k].mean(0) for k in range(n_classes)])


def centre_distances(queries: np.ndarray, centres: np.ndarray, distance: str) -> np.ndarray:
    """(Q, D) queries and (N, D) centres -> (Q, N) exact distances (core.protonet's)."""
    if not len(queries):
        return np.zeros((0, len(centres)))
    return protonet.distances(
        torch.from_numpy(queries), torch.from_numpy(centres), distance
    ).numpy()


def softmax_over_distances(
    x: np.ndarray, centres: np.ndarray, distance: str
) -> tuple[np.ndarray, np.ndarray, int]:
    """ProtoNet's last step for one embedding: distances, softmax(-d) and the nearest centre.

    Args:
        x: (D,) an embedding; centres: (N, D), row k the centre of class k.
        distance: one of core.protonet.DISTANCES.

    Returns:
        (N,) distances, (N,) probabilities exp(-d_k) / sum_k' exp(-d_k') (the logits of
        core.protonet.logits with scale 1), and the index of the nearest centre.
    """
    x_t = torch.as_tensor(np.asarray(x, dtype=np.float64))[None]  # (1, D)
    logits = protonet.logits(x_t, torch.as_tensor(np.asarray(centres, dtype=np.float64)), distance)
    probabilities = torch.softmax(logits, dim=-1)[0]
    return (-logits[0]).numpy(), probabilities.numpy(), int(logits[0].argmax())


def positive_multiple(a: np.ndarray, b: np.ndarray, rtol: float = 1e-9) -> float | None:
    """k > 0 with b = k * a (the same direction, so the same cosine distance to anything),
    or None when b is no such multiple of a (or a is zero)."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    norm = float(a @ a)
    if norm == 0.0:
        return None
    k = float(a @ b) / norm
    if k <= 0 or not np.allclose(b, k * a, rtol=rtol, atol=rtol * np.abs(b).max()):
        return None
    return k


@dataclass(frozen=True)
class ClassSpace:
    """A classifier's view of a support set and queries, in its embedding space.

    support: (S, D); centres: (N, D), row k the centre of class k; queries: (Q, D);
    labels: (S,) class indices; distances: (Q, N) from each query to each centre, measured
    with `distance`; predictions: (Q,) the classifier's predicted class indices.
    """

    support: np.ndarray
    centres: np.ndarray
    queries: np.ndarray
    labels: list[int]
    distance: str
    distances: np.ndarray
    predictions: list[int]


def class_space(
    classifier: Any,
    support_images: Sequence[Image.Image],
    support_labels: Sequence[Any],
    query_images: Sequence[Image.Image],
) -> ClassSpace:
    """Embed the support images and queries with an AdaptedClassifier, with class centres.

    ProtoNet's centres are its prototypes, measured with its own distance. MAML has no
    prototypes (it classifies with its adapted head): its centres are the class means of
    the adapted embeddings, measured with the squared Euclidean distance, for orientation.

    Args:
        classifier: an AdaptedClassifier (core.learner).
        support_labels: (S,) labels among classifier.classes.
    """
    labels = [classifier.classes.index(label) for label in support_labels]
    support = classifier.embed(support_images)  # (S, D)
    dim = support.shape[1]
    queries = classifier.embed(query_images) if query_images else np.zeros((0, dim))  # (Q, D)
    if classifier.model.algorithm == "protonet":
        centres = classifier.trace.prototypes.numpy()
        distance = classifier.settings["distance"]
    else:
        centres = class_means(support, labels, len(classifier.classes))
        distance = "sq_euclidean"
    predictions = classifier.predict_proba(query_images).argmax(1).tolist() if query_images else []
    exact = centre_distances(queries, centres, distance)
    return ClassSpace(support, centres, queries, labels, distance, exact, predictions)
