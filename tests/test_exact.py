"""The exact picture (lab.exact) with the real models: for every image, the picture's answer
(ProtoNet: the nearest centre on screen; MAML: the largest logit there) is the model's, and
the probabilities read off the picture equal predict_proba within float error, for 2, 3 and 4
classes. A wrong plane (the points' own PCA) fails the same check, and above 4 classes the
picture says it is approximate."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from lab.embedding import pca_basis
from lab.exact import exact_space
from tests.app.conftest import character_png

TOLERANCE = 1e-5


def _image(shape: int, variant: int) -> Image.Image:
    return Image.open(io.BytesIO(character_png(shape, variant))).convert("L")


def _task(n: int):
    """n classes of drawn shapes (the 5th: crosses turned 45 degrees), 3 examples each; to
    check: 3 more drawings a class and blends of two classes at 33 mixes, so that some
    answers are close calls (a saturated softmax would hide a wrong picture)."""
    shapes = list(range(min(n, 4)))
    support = [_image(s, v) for s in shapes for v in range(3)]
    labels = [s for s in shapes for _ in range(3)]
    if n == 5:
        support += [_image(1, v).rotate(45, fillcolor=255) for v in range(3)]
        labels += [4] * 3
    checks = [_image(s, v) for s in shapes for v in range(3, 6)]
    checks += [
        Image.blend(_image(a, 4), _image(b, 5), float(alpha))
        for a in shapes
        for b in shapes
        if a < b
        for alpha in np.linspace(0.1, 0.9, 33)
    ]
    return support, labels, checks


@pytest.fixture(scope="module", params=["protonet", "maml"])
def model(request, protonet_model, maml_model):
    return protonet_model if request.param == "protonet" else maml_model


_PICTURES: dict = {}


def _picture(model, n, **settings):
    """(classifier, embeddings, predict_proba) of the task, computed once per model and n."""
    key = (model.name, n, tuple(sorted(settings.items())))
    if key not in _PICTURES:
        _PICTURES[key] = _adapt(model, n, **settings)
    return _PICTURES[key]


def _adapt(model, n, **settings):
    support, labels, checks = _task(n)
    classifier = model.adapt(support, labels, **settings)
    images = support + checks
    embeddings = classifier.embed(images)
    return classifier, embeddings, classifier.predict_proba(images)


@pytest.mark.parametrize("n", [2, 3, 4])
def test_the_picture_gives_the_models_answers_and_probabilities(model, n):
    classifier, embeddings, truth = _picture(model, n)
    space = exact_space(classifier, embeddings)
    assert space.exact and space.dims == n - 1
    np.testing.assert_allclose(space.basis @ space.basis.T, np.eye(n - 1), atol=1e-9)
    xy = space.place(embeddings)
    assert xy.shape == (len(embeddings), n - 1)
    # Some answers are close calls, so a picture that is only roughly right would show.
    assert (truth.max(1) < 0.99).any()
    read = space.proba_at(xy)
    assert np.abs(read - truth).max() < TOLERANCE
    assert (space.answer_at(xy) == truth.argmax(1)).all()
    if model.algorithm == "protonet":  # the nearest star on screen is the model's answer
        on_screen = np.linalg.norm(xy[:, None, :] - space.centres_xy()[None], axis=-1)
        assert (on_screen.argmin(1) == truth.argmax(1)).all()


@pytest.mark.parametrize("n", [2, 3])
def test_a_pca_plane_of_the_points_is_not_exact(model, n):
    """The test above can fail: the same check with the points' own PCA plane instead of the
    space through the centres reads probabilities far from the model's."""
    classifier, embeddings, truth = _picture(model, n)
    _, components = pca_basis(embeddings, n - 1)
    wrong = exact_space(classifier, embeddings, basis=components)
    read = wrong.proba_at(wrong.place(embeddings))
    assert np.abs(read - truth).max() > 100 * TOLERANCE


def test_cosine_protonet_is_exact_on_unit_vectors(protonet_model):
    classifier, embeddings, truth = _picture(protonet_model, 3, distance="cosine")
    space = exact_space(classifier, embeddings)
    assert space.exact and space.dims == 2
    assert np.abs(space.proba_at(space.place(embeddings)) - truth).max() < TOLERANCE


def test_above_four_classes_a_2d_picture_labelled_approximate(model):
    classifier, embeddings, truth = _picture(model, 5)
    space = exact_space(classifier, embeddings)
    assert not space.exact and space.dims == 2 and space.basis.shape[0] == 4
    xy = space.place(embeddings)
    assert xy.shape == (len(embeddings), 2)
    # The full 4-D space is still exact: the same classifier with its own view.
    full = space.coords(embeddings)
    logits = full @ space.weight.T + space.bias if space.weight is not None else None
    if logits is None:
        logits = -space.factor * ((full[:, None] - space.centres[None]) ** 2).sum(-1)
    assert (logits.argmax(1) == truth.argmax(1)).all()


def test_grid_covers_the_points_with_probabilities(protonet_model):
    classifier, embeddings, _ = _picture(protonet_model, 3)
    space = exact_space(classifier, embeddings)
    xy = space.place(embeddings)
    axes, points, probabilities = space.grid(xy, steps=30)
    assert [len(a) for a in axes] == [30, 30] and points.shape == (900, 2)
    assert axes[0][0] < xy[:, 0].min() and axes[0][-1] > xy[:, 0].max()
    np.testing.assert_allclose(probabilities.sum(1), 1.0, atol=1e-9)
    # x varies fastest: the first two grid points differ in x only
    assert points[1, 0] > points[0, 0] and points[1, 1] == points[0, 1]
