"""The embedding explorer's data: images in one model's embedding space, with their class
centres, nearest neighbours and regions, from this session's images or a benchmark slice.

Every distance here is measured in the model's real embedding space (core.protonet's
distances), never in a 2-D or 3-D picture of it: the picture (lab.embedding.project) only
says where to draw. Pure (no Streamlit); ui.explorer and ui.embedding draw it. The
benchmark slices themselves are read by lab.slices.

    ExplorerData          images, their roles (support / query), classes, embeddings, centres
    from_classifier       a taught classifier's support set and queries (the session's images)
    from_slice            a slice (lab.slices) taught with its first `shots` images per class
    nearest_images        the k nearest images of one image, in the model's distance
    region_rows           a table (and CSV) of a set of images with their distances
    centres_growing       ProtoNet's class centres as the images arrive one at a time
    maml_steps            MAML's embeddings at every inner step
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from PIL import Image

from core import protonet
from lab.embedding import class_means, class_space

SUPPORT, QUERY = "support", "query"


@dataclass(frozen=True)
class ExplorerData:
    """M images in one model's embedding space, support images first, then queries.

    labels: (M,) true class index, -1 where unknown (a query nobody labelled);
    predictions: (M,) the classifier's class for each query, -1 for support images;
    embeddings: (M, D) in the space the classifier decides in; centres: (N, D), row k the
    centre of class k (ProtoNet: its prototypes; MAML: class means of the adapted
    embeddings, for orientation); distance: how `centres` and neighbours are measured.
    """

    title: str
    model_name: str
    class_names: list[str]
    images: list[Image.Image]
    names: list[str]
    roles: list[str]
    labels: np.ndarray
    predictions: np.ndarray
    embeddings: np.ndarray
    centres: np.ndarray
    distance: str
    centre_name: str  # "prototype" or "class mean"
    note: str = ""  # where the images come from, and anything left out

    @property
    def n_support(self) -> int:
        return self.roles.count(SUPPORT)

    @property
    def queries(self) -> np.ndarray:
        return np.arange(self.n_support, len(self.roles))

    def colour_class(self, i: int) -> int:
        """The class whose colour image i is drawn in: its own (support), else its prediction."""
        return int(self.labels[i] if self.roles[i] == SUPPORT else self.predictions[i])

    def misclassified(self) -> np.ndarray:
        """Indices of the queries of known class that the classifier got wrong."""
        q = self.queries
        known = self.labels[q] >= 0
        return q[known & (self.predictions[q] != self.labels[q])]

    def only_classes(self, n: int) -> ExplorerData:
        """The same data for its first n classes only (images of known class among them,
        queries of unknown class predicted among them), class indices kept."""
        keep = [
            i
            for i in range(len(self.images))
            if (self.labels[i] if self.labels[i] >= 0 else self.predictions[i]) < n
        ]
        return ExplorerData(
            title=f"{self.title} (first {n} classes)",
            model_name=self.model_name,
            class_names=self.class_names[:n],
            images=[self.images[i] for i in keep],
            names=[self.names[i] for i in keep],
            roles=[self.roles[i] for i in keep],
            labels=self.labels[keep],
            predictions=np.where(self.predictions[keep] < n, self.predictions[keep], -1),
            embeddings=self.embeddings[keep],
            centres=self.centres[:n],
            distance=self.distance,
            centre_name=self.centre_name,
            note=self.note,
        )

    def centre_distances(self, rows: Sequence[int] | None = None) -> np.ndarray:
        """(R, N) distances from images `rows` (default all) to each class centre."""
        points = self.embeddings if rows is None else self.embeddings[np.asarray(rows, int)]
        return pairwise_distances(points, self.centres, self.distance)


def pairwise_distances(a: np.ndarray, b: np.ndarray, distance: str) -> np.ndarray:
    """(A, D) and (B, D) -> (A, B) distances, exactly as core.protonet measures them."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if not len(a) or not len(b):
        return np.zeros((len(a), len(b)))
    return protonet.distances(torch.from_numpy(a), torch.from_numpy(b), distance).numpy()


def nearest_images(data: ExplorerData, index: int, k: int = 5) -> list[tuple[int, float]]:
    """The k images nearest to image `index` (itself left out) as (index, distance), nearest
    first, measured in the model's embedding space with data.distance; ties by index."""
    if not 0 <= index < len(data.images):
        raise IndexError(f"no image {index}: there are {len(data.images)}")
    row = pairwise_distances(data.embeddings[index : index + 1], data.embeddings, data.distance)[0]
    order = [int(j) for j in np.lexsort((np.arange(len(row)), row)) if j != index]
    return [(j, float(row[j])) for j in order[:k]]


def region_rows(data: ExplorerData, indices: Sequence[int]) -> list[dict[str, Any]]:
    """One row per image in `indices` (in that order): name, role, true and predicted class,
    the nearest class centre and the distance to every centre, for a table or a CSV."""
    indices = [int(i) for i in indices]
    distances = data.centre_distances(indices)
    rows = []
    for i, row in zip(indices, distances, strict=True):
        known = data.labels[i] >= 0
        rows.append(
            {
                "image": data.names[i],
                "role": "example (support)" if data.roles[i] == SUPPORT else "to check (query)",
                "class": data.class_names[data.labels[i]] if known else "",
                "predicted": (
                    data.class_names[data.predictions[i]] if data.roles[i] == QUERY else ""
                ),
                "nearest centre": data.class_names[int(row.argmin())],
                **{
                    f"distance to {name}": float(d)
                    for name, d in zip(data.class_names, row, strict=True)
                },
            }
        )
    return rows


def selected_indices(points: Sequence[dict[str, Any]], n_support: int) -> list[int]:
    """Image indices from a plotly selection's points (customdata [kind, index] as drawn by
    lab.viz.embedding): support images keep their index, queries follow them; centres and
    anything else are ignored. Sorted, without repeats."""
    found = set()
    for point in points:
        kind, index = (list(point.get("customdata") or []) + [None, None])[:2]
        if kind == SUPPORT:
            found.add(int(index))
        elif kind == QUERY:
            found.add(n_support + int(index))
    return sorted(found)


def from_classifier(
    classifier: Any,
    support_images: Sequence[Image.Image],
    support_labels: Sequence[Hashable],
    query_images: Sequence[Image.Image],
    *,
    class_names: Sequence[str],
    support_names: Sequence[str],
    query_names: Sequence[str],
    query_labels: Sequence[int] | None = None,
    title: str = "",
    note: str = "",
) -> ExplorerData:
    """A taught classifier's support set and queries as ExplorerData.

    Args:
        classifier: an AdaptedClassifier (core.learner); support_labels among its classes.
        query_labels: each query's true class index, -1 (or None for all) where unknown.
    """
    space = class_space(classifier, support_images, support_labels, query_images)
    n_query = len(query_images)
    truth = [-1] * n_query if query_labels is None else [int(k) for k in query_labels]
    return ExplorerData(
        title=title,
        model_name=classifier.model.name,
        class_names=list(class_names),
        images=list(support_images) + list(query_images),
        names=list(support_names) + list(query_names),
        roles=[SUPPORT] * len(support_images) + [QUERY] * n_query,
        labels=np.array(space.labels + truth, dtype=int),
        predictions=np.array([-1] * len(support_images) + space.predictions, dtype=int),
        embeddings=np.concatenate([space.support, space.queries]),
        centres=space.centres,
        distance=space.distance,
        centre_name="prototype" if classifier.model.algorithm == "protonet" else "class mean",
        note=note,
    )


def from_slice(
    model: Any,
    class_names: Sequence[str],
    images: Sequence[Sequence[Image.Image]],
    shots: int,
    *,
    title: str,
    note: str = "",
) -> ExplorerData:
    """Teach `model` with the first `shots` images of each class; the rest are queries of
    known class (so mistakes can be marked).

    Args:
        images: one list per class, each longer than `shots`.
    """
    if shots < 1 or any(len(per_class) <= shots for per_class in images):
        fewest = min(len(per_class) for per_class in images)
        raise ValueError(f"shots must be 1 to {fewest - 1} (each class has {fewest} images)")
    support, labels, support_names, queries, truth, query_names = [], [], [], [], [], []
    for k, (name, per_class) in enumerate(zip(class_names, images, strict=True)):
        for j, image in enumerate(per_class):
            if j < shots:
                support.append(image)
                labels.append(k)
                support_names.append(f"{name} #{j + 1}")
            else:
                queries.append(image)
                truth.append(k)
                query_names.append(f"{name} #{j + 1}")
    classifier = model.adapt(support, labels)
    return from_classifier(
        classifier,
        support,
        labels,
        queries,
        class_names=class_names,
        support_names=support_names,
        query_names=query_names,
        query_labels=truth,
        title=title,
        note=note,
    )


# --- learning you can watch ------------------------------------------------------------------


def centres_growing(data: ExplorerData) -> np.ndarray:
    """ProtoNet's class centres as the support images arrive one at a time per class:
    (T, N, D), where step t (0-based) is the mean of each class's first t + 1 support images
    (a class with fewer images keeps its full mean). The last step is data's own centres
    when these are the class means (ProtoNet's prototypes)."""
    support = np.arange(data.n_support)
    per_class = [support[data.labels[support] == k] for k in range(len(data.class_names))]
    steps = max(len(rows) for rows in per_class)
    return np.stack(
        [
            np.stack([data.embeddings[rows[: t + 1]].mean(0) for rows in per_class])
            for t in range(steps)
        ]
    )


@dataclass(frozen=True)
class MamlSteps:
    """MAML's inner loop on a support set: embeddings (T, M, D) of every image (support
    first, then queries) after each of T - 1 steps (step 0: before any), class means
    (T, N, D) of the support embeddings, predicted class per query (T, Q) and support loss
    and accuracy per step."""

    embeddings: np.ndarray
    centres: np.ndarray
    predictions: np.ndarray
    loss: list[float]
    accuracy: list[float]


def maml_steps(model: Any, data: ExplorerData, **settings: Any) -> MamlSteps:
    """Re-run MAML's inner loop on data's support set, keeping every step's embeddings.

    Args:
        model: a MAML FewShotModel; settings: as FewShotModel.adapt (inner_steps, ...).
    """
    if model.algorithm != "maml":
        raise ValueError(f"{model.name} is {model.algorithm}: only MAML has inner steps")
    support = list(range(data.n_support))
    query = data.queries.tolist()
    classifier = model.adapt(
        [data.images[i] for i in support],
        [int(data.labels[i]) for i in support],
        query_images=[data.images[i] for i in query] or None,
        keep_features=True,
        **settings,
    )
    trace = classifier.trace
    n_classes = len(data.class_names)
    labels = data.labels[: data.n_support]
    embeddings, centres, predictions = [], [], []
    for record in trace:
        s = record.support_features.numpy()
        q = record.query_features.numpy() if query else np.zeros((0, s.shape[1]))
        embeddings.append(np.concatenate([s, q]))
        centres.append(class_means(s, labels, n_classes))
        predictions.append(
            record.query_probabilities.numpy().argmax(1) if query else np.zeros(0, int)
        )
    return MamlSteps(
        np.stack(embeddings),
        np.stack(centres),
        np.stack(predictions),
        [r.support_loss for r in trace],
        [r.support_accuracy for r in trace],
    )


def movement(before: np.ndarray, after: np.ndarray, centres: np.ndarray) -> float:
    """How far points moved, relative to the space they live in: the median distance each
    point moved (Euclidean, in the model's space) over the median distance between class
    centres. 0.05 means the points moved 5% of the typical gap between classes."""
    moved = np.linalg.norm(np.asarray(after) - np.asarray(before), axis=-1)
    gaps = pairwise_distances(centres, centres, "euclidean")[np.triu_indices(len(centres), 1)]
    scale = float(np.median(gaps)) if gaps.size else 0.0
    return float(np.median(moved)) / scale if scale > 0 else 0.0
