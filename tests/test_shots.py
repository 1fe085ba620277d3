"""lab.shots: the splits at each shot count, the curve's points against a direct recount, the
interval against core.stats.mean_ci95, and ProtoNet embedded once against adapt_tensors."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from core.stats import mean_ci95
from lab.compare import Learner
from lab.shots import (
    ShotSettings,
    protonet_learner,
    shortage,
    shot_counts,
    shot_curve,
    shot_curves,
    shot_splits,
)

# Unbalanced: class "a" has 6 images, "b" 4, "c" 5 (interleaved, not sorted by class).
LABELS = ["a", "b", "c", "a", "a", "b", "c", "a", "c", "b", "a", "c", "b", "a", "c"]


class _Always:
    """A predictor that answers class `index` for every input."""

    def __init__(self, index: int, n: int) -> None:
        self.index, self.n = index, n

    def predict_proba_tensors(self, inputs: torch.Tensor) -> np.ndarray:
        p = np.zeros((inputs.shape[0], self.n), dtype=np.float32)
        p[:, self.index] = 1.0
        return p


def _always_first() -> Learner:
    inputs = torch.arange(len(LABELS), dtype=torch.float32)[:, None]
    return Learner("always a", inputs, lambda x, y, classes, seed: _Always(0, len(classes)))


def _nearest_support() -> Learner:
    """1-nearest-neighbour on a 1-D feature that is noisy: its answers depend on the split."""
    generator = torch.Generator().manual_seed(3)
    centre = torch.tensor([{"a": 0.0, "b": 1.0, "c": 2.0}[label] for label in LABELS])
    inputs = (centre + 0.6 * torch.randn(len(LABELS), generator=generator))[:, None]

    class Nearest:
        def __init__(self, x, y, n):
            self.x, self.y, self.n = x, y, n

        def predict_proba_tensors(self, q: torch.Tensor) -> np.ndarray:
            nearest = self.y[(q - self.x.T).abs().argmin(1)]
            return np.eye(self.n, dtype=np.float32)[nearest.numpy()]

    return Learner("1-NN", inputs, lambda x, y, classes, seed: Nearest(x, y, len(classes)))


def test_shot_counts_stop_one_short_of_the_smallest_class():
    assert shot_counts(LABELS) == [1, 2, 3]  # "b" has 4 images: 3 shots leave 1 query
    assert shot_counts(LABELS, max_shots=2) == [1, 2]
    assert shot_counts(["a", "b", "b"]) == []


@pytest.mark.parametrize("shots", [1, 2, 3])
def test_splits_have_exactly_k_per_class_and_never_a_query_in_the_support(shots):
    labels = np.array(LABELS)
    splits = shot_splits(LABELS, shots, splits=12, seed=5)
    assert len(splits) == 12
    for split in splits:
        assert not set(split.support) & set(split.held_out)
        assert sorted([*split.support, *split.held_out]) == list(range(len(LABELS)))
        for c in "abc":
            assert (labels[split.support] == c).sum() == shots
            assert (labels[split.held_out] == c).sum() == LABELS.count(c) - shots
    assert len({tuple(s.support) for s in splits}) > 1  # random, not one split repeated


def test_seeds_reproduce_and_differ():
    first = shot_splits(LABELS, 2, splits=6, seed=1)
    again = shot_splits(LABELS, 2, splits=6, seed=1)
    other = shot_splits(LABELS, 2, splits=6, seed=2)
    assert [tuple(s.support) for s in first] == [tuple(s.support) for s in again]
    assert [tuple(s.support) for s in first] != [tuple(s.support) for s in other]


def test_too_few_images_are_named():
    with pytest.raises(
        ValueError, match="4 shots need at least 5 images in every class.*too few in: b$"
    ):
        shot_splits(LABELS, 4, splits=2)
    assert "Too few in: b" in shortage(["a", "a", "b"])
    assert "at least 2 classes" in shortage(["a", "a"])
    assert shortage(LABELS) is None
    with pytest.raises(ValueError, match="between 2 and 200"):
        ShotSettings(splits=1)


def test_always_class_zero_scores_that_class_share_of_the_queries():
    """Queries at k shots: a 6 - k, b 4 - k, c 5 - k. Answering "a" always is right on
    exactly the a's: (6 - k) / (15 - 3k) at every split, not 1/3."""
    curve = shot_curve(_always_first(), LABELS, ShotSettings(splits=4, seed=9))
    assert [p.shots for p in curve.points] == [1, 2, 3]
    for point in curve.points:
        k = point.shots
        assert point.queries == 15 - 3 * k
        assert point.accuracies == pytest.approx([(6 - k) / (15 - 3 * k)] * 4)
    assert curve.points[2].mean == pytest.approx(3 / 6)  # not 1/3


def test_each_point_equals_a_recount_and_its_interval_mean_ci95():
    learner = _nearest_support()
    settings = ShotSettings(splits=7, seed=4)
    curve = shot_curve(learner, LABELS, settings)
    classes = ("a", "b", "c")
    targets = torch.tensor([classes.index(label) for label in LABELS])
    for point in curve.points:
        recount = []
        for r, split in enumerate(shot_splits(LABELS, point.shots, 7, seed=4)):
            predictor = learner.fit(
                learner.inputs[split.support], targets[split.support], classes, r
            )
            answers = predictor.predict_proba_tensors(learner.inputs[split.held_out]).argmax(1)
            right = sum(int(a == targets[i]) for a, i in zip(answers, split.held_out, strict=True))
            recount.append(right / len(split.held_out))
        assert point.accuracies == pytest.approx(recount)
        assert (point.mean, point.ci95) == pytest.approx(mean_ci95(recount))
    # The noisy 1-NN is neither always right nor always wrong: the recount checks something.
    assert 0 < curve.points[0].mean < 1
    assert len(set(curve.points[0].accuracies)) > 1


def test_a_failing_learner_leaves_the_others_and_progress_reaches_one():
    def broken():
        raise RuntimeError("no encoder")

    seen = []
    results = shot_curves(
        [("bad", broken), ("always a", _always_first)],
        LABELS,
        ShotSettings(splits=3),
        lambda name, shots, done: seen.append((name, shots, done)),
    )
    assert isinstance(results[0][1], RuntimeError)
    assert results[1][1].name == "always a" and len(results[1][1].points) == 3
    assert len(seen) == 9 and seen[-1] == ("always a", 3, 1.0)
    assert [s[2] for s in seen] == sorted(s[2] for s in seen)


def test_protonet_embedded_once_answers_as_adapt_tensors(omniglot_root):
    """The fast ProtoNet learner gives the same probabilities as the model's own adaptation
    on the same split (the curve's ProtoNet points are the model's)."""
    from core.learner import load_model
    from lab.examples import handwriting_lesson

    lesson = handwriting_lesson(omniglot_root)
    images = [item.image for items in lesson.support for item in items]
    labels = [c for c, items in enumerate(lesson.support) for _ in items]
    model = load_model("omniglot-protonet")
    fast = protonet_learner("ProtoNet", model, images, {"distance": "sq_euclidean"})
    inputs = model.encode(images)
    targets = torch.tensor(labels)
    classes = (0, 1, 2)
    for split in shot_splits(labels, 2, splits=3, seed=0):
        s, q = torch.from_numpy(split.support), torch.from_numpy(split.held_out)
        mine = fast.fit(fast.inputs[s], targets[s], classes, 0).predict_proba_tensors(
            fast.inputs[q]
        )
        theirs = model.adapt_tensors(
            inputs[s], targets[s], classes, distance="sq_euclidean"
        ).predict_proba_tensors(inputs[q])
        np.testing.assert_allclose(mine, theirs, atol=1e-5)
    with pytest.raises(ValueError, match="needs a ProtoNet model"):
        protonet_learner("MAML", load_model("omniglot-maml"), images, {})
