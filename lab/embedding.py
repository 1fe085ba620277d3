"""Where images sit in a model's embedding space, and 2-D pictures of it.

Pure numpy (and core.protonet for distances): the pages draw what these functions return.
Several blocks of points (support images, class centres, queries, or every step of MAML's
inner loop) are always projected together, with one projection, so that their positions
can be compared.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from PIL import Image

from core import protonet

PROJECTIONS = ("pca", "tsne", "umap")
# What each projection keeps and what it loses, in one sentence (the page shows it).
PROJECTION_NOTES = {
    "exact": "Exact: the line, plane or 3-D space through the class centres (MAML: through "
    "its class weights) keeps every distance that decides; what it leaves out is the same "
    "for every class, so the answers and probabilities in it are the model's (lab.exact).",
    "pca": "PCA keeps the directions in which the points spread most, so large distances and "
    "straight-line structure survive; it loses whatever lies in the other directions, so "
    "points far apart in the model can overlap here.",
    "tsne": "t-SNE keeps each point's near neighbours near; it loses sizes and distances "
    "between clusters, so a gap or a cluster's size in the picture means little.",
    "umap": "UMAP keeps neighbours near and some of the layout between clusters; like t-SNE, "
    "it stretches and shrinks space, so distances in the picture are not the model's.",
}
TSNE_ITERATIONS = 500
# t-SNE and UMAP above this many points draw an evenly spaced subsample (and say so).
MAX_NONLINEAR_POINTS = 2000


@dataclass(frozen=True)
class Projection:
    """Points projected to 2 or 3 dimensions.

    xy: (K, dims) positions of the points listed in `kept` (indices into the input rows, in
    order; all of them unless the projection had to subsample); method and settings as used.
    """

    xy: np.ndarray
    kept: np.ndarray
    method: str
    settings: dict[str, float]
    total: int

    @property
    def subsampled(self) -> bool:
        return len(self.kept) < self.total

    def note(self) -> str | None:
        """Which points are drawn, in words, when not all of them are; None otherwise."""
        if not self.subsampled:
            return None
        name = {"pca": "PCA", "tsne": "t-SNE", "umap": "UMAP"}[self.method]
        return (
            f"{name} draws {len(self.kept)} of the {self.total} points, evenly spaced in their "
            f"order (about 1 in {self.total / len(self.kept):.1f}, starting with the first); "
            "distances and neighbours still use all of them."
        )


def default_settings(method: str, m: int) -> dict[str, float]:
    """The settings a projection of m points uses when none are given: t-SNE's perplexity
    (about the number of neighbours each point cares about), UMAP's n_neighbors and min_dist.
    Both are capped for few points (they must be below m)."""
    if method == "tsne":
        return {"perplexity": float(min(30.0, max(1.0, (m - 1) / 3)))}
    if method == "umap":
        return {"n_neighbors": float(max(2, min(15, m - 1))), "min_dist": 0.1}
    return {}


def project(
    points: np.ndarray,
    method: str = "pca",
    dims: int = 2,
    seed: int = 0,
    max_points: int = MAX_NONLINEAR_POINTS,
    **settings: float,
) -> Projection:
    """(M, D) -> a Projection to `dims` (2 or 3) dimensions, deterministic for a seed.

    PCA always uses every point. t-SNE and UMAP above `max_points` points project an evenly
    spaced subsample (listed in Projection.kept) instead of silently slowing down. Few points
    are handled: fewer than 4 (t-SNE, UMAP) fall back to PCA's layout; one point goes to the
    origin; missing components are zeros.

    Args:
        settings: t-SNE perplexity; UMAP n_neighbors and min_dist (see default_settings).

    Raises:
        ValueError: an unknown method, dims not 2 or 3, points not (M, D), unknown settings.
    """
    if method not in PROJECTIONS:
        raise ValueError(f"unknown projection {method!r}; expected one of {PROJECTIONS}")
    if dims not in (2, 3):
        raise ValueError(f"a picture has 2 or 3 dimensions, not {dims}")
    points = np.asarray(points, dtype=np.float64)
    if points.ndim != 2:
        raise ValueError(f"expected (M, D) points, got shape {points.shape}")
    total = points.shape[0]
    kept = np.arange(total)
    if method != "pca" and total > max_points:
        kept = np.unique(np.linspace(0, total - 1, max_points).round().astype(int))
        points = points[kept]
    m = points.shape[0]
    used = default_settings(method, m)
    unknown = set(settings) - set(used)
    if unknown:
        raise ValueError(f"{method} has no setting {sorted(unknown)}; it has {sorted(used)}")
    used.update({k: float(v) for k, v in settings.items()})
    if method != "pca" and m >= 4:
        from threadpoolctl import threadpool_limits

        # One thread: with torch's OpenMP runtime loaded beside scikit-learn's, their threads
        # contend and t-SNE of 1,000 points took ~20 s instead of ~2.5 s on 2 cores
        # (benchmarks.projections).
        with threadpool_limits(1):
            xy = _nonlinear(points, method, dims, seed, used)
    else:
        xy = _pca(points, dims)
    return Projection(np.asarray(xy, dtype=np.float64), kept, method, used, total)


def _nonlinear(
    points: np.ndarray, method: str, dims: int, seed: int, used: dict[str, float]
) -> np.ndarray:
    """t-SNE or UMAP of m >= 4 points, with the settings in `used`."""
    m = points.shape[0]
    if method == "tsne":
        from sklearn.manifold import TSNE

        # 500 iterations (250 of them early exaggeration) instead of 1000: the layout of a
        # few hundred points has settled by then, in half the time.
        return TSNE(
            dims,
            perplexity=float(min(used["perplexity"], m - 1)),
            init="pca",
            random_state=seed,
            max_iter=TSNE_ITERATIONS,
        ).fit_transform(points)
    return _umap(points, dims, seed, int(min(used["n_neighbors"], m - 1)), used["min_dist"])


def _umap(points: np.ndarray, dims: int, seed: int, n_neighbors: int, min_dist: float):
    """UMAP (McInnes, Healy & Melville 2018). With a seed it runs single-threaded and gives
    the same picture every time. Its numba code compiles on the first call in a process."""
    import warnings

    import umap

    with warnings.catch_warnings():  # "n_jobs overridden to 1 by setting random_state"
        warnings.simplefilter("ignore", UserWarning)
        reducer = umap.UMAP(
            n_components=dims,
            n_neighbors=max(2, n_neighbors),
            min_dist=min_dist,
            random_state=seed,
            init="spectral" if points.shape[0] > dims + 1 else "random",
        )
        return reducer.fit_transform(points)


@functools.cache
def warm_umap() -> None:
    """Run UMAP once on 60 random points, so that numba compiles its code (about 20 s on a
    2-core CPU, once per process) before a visitor asks for a UMAP picture. Called from a
    background thread when the Embedding space page first loads (ui.explorer)."""
    points = np.random.default_rng(0).normal(size=(60, 8))
    _umap(points, 2, seed=0, n_neighbors=10, min_dist=0.1)


def pca_basis(points: np.ndarray, dims: int = 2) -> tuple[np.ndarray, np.ndarray]:
    """(mean (D,), components (K, D)) of the first K <= dims principal components of (M, D)
    points, each with a fixed sign (largest loading positive) so the picture does not flip
    between reruns. Fitted once, it maps other points into the same picture
    (pca_apply), e.g. every step of a learning run."""
    points = np.asarray(points, dtype=np.float64)
    mean = points.mean(0) if len(points) else np.zeros(points.shape[1])
    if len(points) < 2:
        return mean, np.zeros((0, points.shape[1]))
    _, _, vt = np.linalg.svd(points - mean, full_matrices=False)
    components = vt[:dims]
    signs = np.sign(components[np.arange(len(components)), np.abs(components).argmax(1)])
    return mean, components * np.where(signs == 0, 1.0, signs)[:, None]


def pca_apply(points: np.ndarray, basis: tuple[np.ndarray, np.ndarray], dims: int = 2):
    """(M, D) points in a pca_basis's picture: (M, dims), missing components zero."""
    mean, components = basis
    out = np.zeros((len(points), dims))
    out[:, : len(components)] = (np.asarray(points, dtype=np.float64) - mean) @ components.T
    return out


def _pca(points: np.ndarray, dims: int) -> np.ndarray:
    """The first `dims` principal components of the points (pca_basis)."""
    return pca_apply(points, pca_basis(points, dims), dims)


def project_2d(points: np.ndarray, method: str = "pca", seed: int = 0) -> np.ndarray:
    """(M, D) -> (M, 2) for plotting (project() with its default settings, every point).

    PCA is deterministic and stable between reruns; t-SNE (van der Maaten & Hinton 2008)
    keeps neighbours but distorts distances more; UMAP likewise. Few points are handled:
    one point goes to the origin, and a missing second component is filled with zeros.

    Raises:
        ValueError: an unknown method, or points that are not (M, D).
    """
    points = np.asarray(points)
    return project(points, method, 2, seed, max_points=max(1, len(points))).xy


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
    x, centres = np.asarray(x, dtype=np.float64), np.asarray(centres, dtype=np.float64)
    if distance == "cosine":  # scale-free: each vector by its largest value first, so that
        # 1e308 (whose squared norm overflows) gives the cosine of the numbers typed
        x = _unit_scale(x[None])[0]
        centres = _unit_scale(centres)
    logits = protonet.logits(torch.as_tensor(x)[None], torch.as_tensor(centres), distance)
    probabilities = torch.softmax(logits, dim=-1)[0]
    if not (torch.isfinite(logits).all() and torch.isfinite(probabilities).all()):
        raise ValueError(
            f"the {distance.replace('_', ' ')} distance of these values is beyond what a "
            "64-bit number holds (about 1.8e308); use smaller numbers"
        )
    return (-logits[0]).numpy(), probabilities.numpy(), int(logits[0].argmax())


def _unit_scale(rows: np.ndarray) -> np.ndarray:
    """Each row divided by its largest absolute value (a zero row stays zero)."""
    largest = np.abs(rows).max(axis=1, keepdims=True)
    return rows / np.where(largest > 0, largest, 1.0)


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
