"""lab.compare: learners scored over random splits of the user's labelled images."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pytest
import torch

from lab.compare import (
    Learner,
    LearnerScore,
    SplitSettings,
    classes_from_file_names,
    model_learner,
    paired_gap,
    random_splits,
    score_learner,
    score_learners,
    scratch_learner,
    splits_figure,
    too_few_images,
)

LABELS = ["a"] * 4 + ["b"] * 3 + ["c"] * 5  # uneven classes, as users give them


@dataclass
class _Fixed:
    """A fake adapted classifier: (B, N) probabilities from a function of the inputs."""

    answer: object

    def predict_proba_tensors(self, inputs: torch.Tensor) -> np.ndarray:
        return self.answer(inputs)


def _centroid_fit(x, y, classes, seed):
    """Nearest class mean: a tiny stand-in for ProtoNet."""
    centres = torch.stack([x[y == k].mean(0) for k in range(len(classes))])
    return _Fixed(lambda q: (-torch.cdist(q, centres)).softmax(-1).numpy())


def _first_class_fit(x, y, classes, seed):
    """Always answers the first class."""
    return _Fixed(lambda q: np.eye(len(classes))[np.zeros(len(q), dtype=int)])


def _points(labels=LABELS) -> torch.Tensor:
    """(M, 2) well separated clusters, one per class."""
    generator = torch.Generator().manual_seed(1)
    classes = list(dict.fromkeys(labels))
    centres = torch.tensor([[0.0, 0.0], [10.0, 0.0], [0.0, 10.0]])
    index = torch.tensor([classes.index(label) for label in labels])
    return centres[index] + 0.5 * torch.randn(len(labels), 2, generator=generator)


def test_each_split_holds_out_the_same_number_per_class_and_keeps_every_image():
    splits = random_splits(LABELS, SplitSettings(splits=6, held_out=2, seed=3))
    assert len(splits) == 6
    for split in splits:
        held = [LABELS[i] for i in split.held_out]
        assert sorted(held) == ["a", "a", "b", "b", "c", "c"]
        assert sorted([*split.support, *split.held_out]) == list(range(len(LABELS)))
        assert list(split.support) == sorted(split.support)
    assert len({tuple(s.held_out) for s in splits}) > 1  # the splits differ


def test_the_seed_fixes_the_splits():
    def held(seed):
        return [tuple(s.held_out) for s in random_splits(LABELS, SplitSettings(4, 1, seed))]

    assert held(0) == held(0)
    assert held(0) != held(1)


@pytest.mark.parametrize(
    ("labels", "held_out", "message"),
    [
        (["a", "a", "b"], 1, "too few: b"),
        (["a", "a", "b", "b"], 2, "at least 3 labelled images"),
        (["a", "a", "a"], 1, "at least 2 classes"),
    ],
)
def test_too_few_images_are_named(labels, held_out, message):
    with pytest.raises(ValueError, match=message):
        random_splits(labels, SplitSettings(splits=2, held_out=held_out))


def test_too_few_images_lists_the_short_classes_in_order():
    assert too_few_images(["x", "y", "y", "z"], 1) == ["x", "z"]
    assert too_few_images(LABELS, 2) == []
    assert too_few_images(LABELS, 3) == ["b"]


def test_settings_are_checked():
    with pytest.raises(ValueError, match="splits"):
        SplitSettings(splits=1)
    with pytest.raises(ValueError, match="held_out"):
        SplitSettings(held_out=0)


def test_a_perfect_and_a_constant_learner_get_their_exact_accuracies():
    settings = SplitSettings(splits=5, held_out=1, seed=0)
    splits = random_splits(LABELS, settings)
    points = _points()
    good = score_learner(Learner("centroid", points, _centroid_fit), LABELS, splits)
    constant = score_learner(Learner("first", points, _first_class_fit), LABELS, splits)
    assert good.accuracies == (1.0,) * 5
    assert good.mean == 1.0 and good.ci95 == 0.0
    # One image per class is held out, so answering "a" always is right 1 time in 3.
    assert constant.accuracies == pytest.approx((1 / 3,) * 5)
    assert paired_gap(good, constant) == pytest.approx((2 / 3, 0.0))


def test_each_split_gives_its_own_seed_and_reports_progress():
    seen_seeds, seen_supports, progress = [], [], []

    def fit(x, y, classes, seed):
        seen_seeds.append(seed)
        seen_supports.append(len(y))
        assert classes == ("a", "b", "c")
        return _centroid_fit(x, y, classes, seed)

    splits = random_splits(LABELS, SplitSettings(splits=3, held_out=1))
    score_learner(Learner("x", _points(), fit), LABELS, splits, seed=10, on_split=progress.append)
    assert seen_seeds == [10, 11, 12]
    assert seen_supports == [len(LABELS) - 3] * 3
    assert progress == [1, 2, 3]


def test_inputs_must_match_the_labels():
    splits = random_splits(LABELS, SplitSettings(splits=2))
    with pytest.raises(ValueError, match="11 encoded images but 12 labels"):
        score_learner(Learner("x", _points()[:11], _centroid_fit), LABELS, splits)


def test_mean_interval_and_paired_gap_by_hand():
    first = LearnerScore("p", (1.0, 0.5, 0.75))
    second = LearnerScore("s", (0.5, 0.5, 0.5))
    assert first.mean == pytest.approx(0.75)
    assert first.ci95 == pytest.approx(1.96 * 0.25 / math.sqrt(3))
    gap, half = paired_gap(first, second)  # differences 0.5, 0, 0.25
    assert gap == pytest.approx(0.25)
    assert half == pytest.approx(1.96 * 0.25 / math.sqrt(3))
    with pytest.raises(ValueError, match="different numbers of splits"):
        paired_gap(first, LearnerScore("t", (0.5, 0.5)))


def test_the_figure_has_error_bars_and_one_dot_per_split():
    scores = [LearnerScore("ProtoNet", (1.0, 0.5, 0.75)), LearnerScore("From scratch", (0.5,) * 3)]
    figure = splits_figure(scores)
    bars, dots = figure.data
    assert list(bars.x) == ["ProtoNet", "From scratch"]
    assert list(bars.y) == pytest.approx([75.0, 50.0])
    assert bars.error_y.visible and list(bars.error_y.array) == pytest.approx(
        [100 * scores[0].ci95, 0.0]
    )
    assert len(dots.x) == 6 and sorted(dots.y) == pytest.approx([50, 50, 50, 50, 75, 100])


@pytest.mark.parametrize(
    ("file_name", "expected"),
    [
        ("cat_3.jpg", "cat"),
        ("Cat 3.JPG", "cat"),
        ("catfish1.jpg", "catfish"),  # the longest name that fits
        ("class_2-b.png", "class 2"),
        ("class 10 x.png", "class 10"),
        ("photos/cat/IMG_1.jpg", "cat"),  # a folder named after the class
        ("cat/dog_1.jpg", "dog"),  # the file's own name first
        ("IMG_2041.jpg", None),
        ("a_cat.jpg", None),  # the class name must begin it
    ],
)
def test_classes_from_file_names(file_name, expected):
    classes = ["cat", "catfish", "dog", "class 2", "class 1", "class 10"]
    (found,) = classes_from_file_names([file_name], classes)
    assert (None if found is None else classes[found]) == expected


def test_a_failing_learner_leaves_the_others_scored():
    def broken_build():
        raise RuntimeError("no encoder")

    def broken_fit(x, y, classes, seed):
        raise ValueError("expected (S, C, H, W) inputs, got shape (12, 1280)")

    progress = []
    results = score_learners(
        [
            ("centroid", lambda: Learner("centroid", _points(), _centroid_fit)),
            ("no build", broken_build),
            ("no fit", lambda: Learner("no fit", _points(), broken_fit)),
            ("first", lambda: Learner("first", _points(), _first_class_fit)),
        ],
        LABELS,
        SplitSettings(splits=3),
        lambda name, done: progress.append((name, done)),
    )
    assert [name for name, _ in results] == ["centroid", "no build", "no fit", "first"]
    assert results[0][1].accuracies == (1.0,) * 3
    assert isinstance(results[1][1], RuntimeError)
    assert "(12, 1280)" in str(results[2][1])
    assert results[3][1].accuracies == pytest.approx((1 / 3,) * 3)
    assert progress[0] == ("centroid", pytest.approx(1 / 12))
    assert progress[-1] == ("first", pytest.approx(1.0))


def test_the_real_models_on_synthetic_characters():
    """omniglot-protonet and the Conv-4 from scratch on drawn shapes, through the real
    encoder: ProtoNet gets every split right; the same seed gives the same numbers twice."""
    import io

    from PIL import Image

    from core import load_model
    from lab.baseline import BaselineConfig
    from tests.app.conftest import character_png

    model = load_model("omniglot-protonet")
    labels = [shape for shape in range(3) for _ in range(4)]
    images = [Image.open(io.BytesIO(character_png(s, v))) for s in range(3) for v in range(4)]
    settings = SplitSettings(splits=4, held_out=1, seed=0)
    splits = random_splits(labels, settings)
    protonet = model_learner("ProtoNet", model, images, {"distance": "sq_euclidean"})
    assert protonet.inputs.shape == (12, 1, 28, 28)
    assert score_learner(protonet, labels, splits).accuracies == (1.0,) * 4
    scratch = scratch_learner("From scratch", model.encode, images, BaselineConfig(steps=10))
    first = score_learner(scratch, labels, splits)
    assert score_learner(scratch, labels, splits) == first
    assert len(first.accuracies) == 4 and all(0 <= a <= 1 for a in first.accuracies)
