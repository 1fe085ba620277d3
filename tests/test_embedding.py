"""lab.embedding: projections of several blocks, class means and exact distances."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
import torch

from lab.embedding import (
    centre_distances,
    class_means,
    class_space,
    project_2d,
    project_together,
    steps_in_2d,
)


def test_project_together_equals_one_projection_of_the_concatenation():
    rng = np.random.default_rng(0)
    support, centres, queries = rng.normal(size=(6, 5)), rng.normal(size=(2, 5)), np.zeros((0, 5))
    parts = project_together([support, centres, queries])
    whole = project_2d(np.concatenate([support, centres, queries]))
    assert [p.shape for p in parts] == [(6, 2), (2, 2), (0, 2)]
    np.testing.assert_array_equal(np.concatenate(parts), whole)


def test_project_together_keeps_leading_axes():
    steps = np.random.default_rng(1).normal(size=(3, 4, 5))  # (T, S, D)
    (xy,) = project_together([steps])
    assert xy.shape == (3, 4, 2)
    np.testing.assert_array_equal(xy.reshape(-1, 2), project_2d(steps.reshape(-1, 5)))


def test_class_means_and_distances_by_hand():
    embeddings = np.array([[0.0, 0.0], [2.0, 0.0], [4.0, 4.0]])
    means = class_means(embeddings, [0, 0, 1], 2)
    np.testing.assert_array_equal(means, [[1.0, 0.0], [4.0, 4.0]])
    queries = np.array([[1.0, 1.0]])
    np.testing.assert_allclose(centre_distances(queries, means, "sq_euclidean"), [[1.0, 18.0]])
    np.testing.assert_allclose(centre_distances(queries, means, "euclidean"), [[1.0, 18**0.5]])
    assert centre_distances(np.zeros((0, 2)), means, "cosine").shape == (0, 2)


def _record(step: int, support: np.ndarray, queries: np.ndarray | None):
    return SimpleNamespace(
        step=step,
        support_features=torch.from_numpy(support),
        query_features=None if queries is None else torch.from_numpy(queries),
        query_probabilities=None if queries is None else torch.tensor([[0.2, 0.8]] * len(queries)),
    )


def test_steps_in_2d_projects_every_step_together():
    rng = np.random.default_rng(2)
    support, queries = rng.normal(size=(3, 4, 6)), rng.normal(size=(3, 2, 6))
    trace = [_record(t, support[t], queries[t]) for t in range(3)]
    support_xy, query_xy, predictions = steps_in_2d(trace)
    whole = project_2d(np.concatenate([support.reshape(-1, 6), queries.reshape(-1, 6)]))
    np.testing.assert_array_equal(support_xy.reshape(-1, 2), whole[:12])
    np.testing.assert_array_equal(query_xy.reshape(-1, 2), whole[12:])
    assert predictions.tolist() == [[1, 1]] * 3
    alone = steps_in_2d([_record(t, support[t], None) for t in range(3)])
    assert alone[1] is None and alone[2] is None and alone[0].shape == (3, 4, 2)


@pytest.mark.parametrize("algorithm", ["protonet", "maml"])
def test_class_space_uses_prototypes_or_class_means(algorithm):
    support = np.array([[0.0, 0.0], [2.0, 0.0], [4.0, 4.0]], dtype=np.float32)
    prototypes = torch.tensor([[0.0, 1.0], [5.0, 5.0]])
    images = {"a": support[0], "b": support[1], "c": support[2], "q": np.ones(2, np.float32)}
    classifier = SimpleNamespace(
        classes=(7, 9),
        model=SimpleNamespace(algorithm=algorithm),
        settings={"distance": "euclidean"},
        trace=SimpleNamespace(prototypes=prototypes),
        embed=lambda names: np.stack([images[n] for n in names]),
        predict_proba=lambda names: np.array([[0.9, 0.1]] * len(names)),
    )
    space = class_space(classifier, ["a", "b", "c"], [7, 7, 9], ["q"])
    assert space.labels == [0, 0, 1] and space.predictions == [0]
    if algorithm == "protonet":
        np.testing.assert_array_equal(space.centres, prototypes.numpy())
        assert space.distance == "euclidean"
        np.testing.assert_allclose(space.distances, [[1.0, 32**0.5]], rtol=1e-6)
    else:
        np.testing.assert_array_equal(space.centres, [[1.0, 0.0], [4.0, 4.0]])
        assert space.distance == "sq_euclidean"
        np.testing.assert_allclose(space.distances, [[1.0, 18.0]])
    empty = class_space(classifier, ["a", "b", "c"], [7, 7, 9], [])
    assert empty.queries.shape == (0, 2) and empty.distances.shape == (0, 2)


def test_the_distance_calculator_computes_cosine_stably_and_refuses_overflow():
    """At 1e308 the cosine was wrong and the probabilities blank (issue 31)."""
    import math

    from lab.embedding import softmax_over_distances

    x, centres = np.array([1e308, 2.0, 3.0]), np.array([[1e308, 2.0, 2.0], [4.0, 4.0, 4.0]])
    d, p, nearest = softmax_over_distances(x, centres, "cosine")
    assert d == pytest.approx([0.0, 1 - 1 / math.sqrt(3)], abs=1e-12) and nearest == 0
    assert np.isfinite(p).all() and p.sum() == pytest.approx(1.0)
    # the same direction at any scale: the textbook example's 0.0742 for both centres
    tiny = np.array([1e-300, 2e-300, 3e-300])
    d_small, _, _ = softmax_over_distances(tiny, np.array([[2.0, 2, 2], [4.0, 4, 4]]), "cosine")
    assert d_small == pytest.approx([0.0742, 0.0742], abs=1e-4)
    with pytest.raises(ValueError, match="beyond what a 64-bit number holds"):
        softmax_over_distances(x, np.array([[2.0, 2.0, 2.0], [4.0, 4.0, 4.0]]), "sq_euclidean")
