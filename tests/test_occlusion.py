"""lab.occlusion with the shipped models: the map is exactly zero where covering changes
nothing, nonzero where the ink is, and the nearest examples are the brute-force nearest."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image, ImageDraw

from core import load_model, protonet
from lab import occlusion
from lab.examples import textures_lesson
from lab.viz.occlusion import HURTS_WORDS, occlusion_figure


def _stroke_images(count: int, seed: int) -> list[Image.Image]:
    """Drawings of a few random strokes (characters of a made-up class)."""
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(count):
        image = Image.new("L", (105, 105), 255)
        draw = ImageDraw.Draw(image)
        points = rng.integers(15, 90, size=(4, 2))
        for a, b in zip(points[:-1], points[1:], strict=True):
            draw.line([tuple(a), tuple(b)], fill=0, width=6)
        out.append(image)
    return out


@pytest.fixture(scope="module", params=["omniglot-protonet", "omniglot-maml"])
def character_task(request):
    model = load_model(request.param)
    support = _stroke_images(4, 1) + _stroke_images(4, 2) + _stroke_images(4, 3)
    labels = ["a"] * 4 + ["b"] * 4 + ["c"] * 4
    return model.adapt(support, labels), support, labels


def _corner_input() -> torch.Tensor:
    """A 28x28 input whose only ink is a blob in the top-left corner."""
    inputs = torch.zeros(1, 1, 28, 28)
    inputs[0, 0, 2:8, 3:9] = 1.0
    return inputs


def test_positions_reach_every_edge():
    assert occlusion.positions(28, 6, 2) == list(range(0, 23, 2))
    assert occlusion.positions(224, 75, 50) == [0, 50, 100, 149]
    with pytest.raises(ValueError, match="patch must be 1 to 28"):
        occlusion.positions(28, 30, 2)


def test_covering_blank_paper_changes_nothing(character_task):
    classifier, _, _ = character_task
    result = occlusion.occlude_inputs(classifier, torch.zeros(1, 1, 28, 28), 6, 2)
    assert result.copies == 144
    np.testing.assert_array_equal(result.effect, np.zeros((28, 28), np.float32))


def test_map_is_zero_away_from_the_ink_and_nonzero_on_it(character_task):
    classifier, _, _ = character_task
    inputs = _corner_input()
    result = occlusion.occlude_inputs(classifier, inputs, 6, 2)
    # Every pixel of patches that all miss the ink: patches reach 5 px from their corner,
    # so a pixel at row or column >= 14 is covered only by patches starting at >= 9.
    np.testing.assert_allclose(result.effect[14:, :], 0.0, atol=1e-6)
    np.testing.assert_allclose(result.effect[:, 14:], 0.0, atol=1e-6)
    ink = result.effect[2:8, 3:9]
    assert np.abs(ink).min() > 1e-4  # every inked pixel: covering it moved the verdict
    assert result.picture.shape == (28, 28) and result.picture[2, 3] == 1.0


def test_the_sign_follows_the_measure(character_task):
    """Covering the whole ink of a 1-blob image: the effect equals the score change the
    classifier itself gives, in the direction 'covering hurts' = positive."""
    classifier, _, _ = character_task
    inputs = _corner_input()
    result = occlusion.occlude_inputs(classifier, inputs, 28, 1)  # one patch: everything
    blank = torch.zeros_like(inputs)
    winner = result.winner
    if classifier.model.algorithm == "protonet":
        expected = classifier.distances_tensors(blank)[0, winner] - result.base
        assert result.base == pytest.approx(classifier.distances_tensors(inputs)[0, winner])
    else:
        expected = result.base - classifier.predict_proba_tensors(blank)[0, winner]
    np.testing.assert_allclose(result.effect, expected, rtol=1e-5, atol=1e-6)
    probabilities = classifier.predict_proba_tensors(inputs)[0]
    assert winner == int(probabilities.argmax())
    assert result.runner_up == int(np.argsort(-probabilities)[1])


def test_nearest_examples_are_the_brute_force_nearest(character_task):
    classifier, support, labels = character_task
    query = _stroke_images(1, 2)[0].rotate(10, fillcolor=255)
    found = occlusion.nearest_examples(classifier, query, support, labels, (0, 1, 2), k=3)
    embedded = torch.from_numpy(classifier.embed([query, *support]))
    distance = (
        classifier.settings["distance"] if classifier.model.algorithm == "protonet" else "euclidean"
    )
    brute = protonet.distances(embedded[:1], embedded[1:], distance)[0].numpy()
    for index, label in enumerate(classifier.classes):
        mine = [i for i, lab in enumerate(labels) if lab == label]
        expected = sorted(mine, key=lambda i: brute[i])[:3]
        assert [n.index for n in found[index]] == expected
        np.testing.assert_allclose([n.distance for n in found[index]], brute[expected], rtol=1e-5)
        assert all(labels[n.index] == label for n in found[index])
    assert "distance" in occlusion.distance_name(classifier)


def test_nearest_examples_rejects_mismatched_labels(character_task):
    classifier, support, labels = character_task
    with pytest.raises(ValueError, match="examples but"):
        occlusion.nearest_examples(classifier, support[0], support, labels[:-1], (0,))


@pytest.fixture(scope="module", params=["photo-protonet", "photo-maml"])
def photo_task(request):
    lesson = textures_lesson()
    support = [e.image for examples in lesson.support for e in examples]
    labels = [i for i, examples in enumerate(lesson.support) for _ in examples]
    return load_model(request.param).adapt(support, labels), lesson


def test_photo_grey_everywhere_changes_nothing(photo_task):
    classifier, _ = photo_task
    grey = Image.new("RGB", (300, 200), (occlusion.PHOTO_GREY,) * 3)
    result = occlusion.occlusion_map(classifier, grey)
    assert result.copies == 16 and result.picture.shape == (224, 224, 3)
    np.testing.assert_allclose(result.effect, 0.0, atol=1e-5)


def test_photo_map_matches_the_classifier(photo_task):
    classifier, lesson = photo_task
    image, truth = lesson.checks[0]
    result = occlusion.occlusion_map(classifier, image.image)
    assert result.winner == truth  # the example's first check image is answered right
    probabilities = classifier.predict_proba([Image.fromarray(result.picture)])[0]
    assert result.winner == int(probabilities.argmax())
    if classifier.model.algorithm == "maml":
        assert result.base == pytest.approx(float(probabilities[truth]), abs=1e-5)
    assert np.abs(result.effect).max() > 1e-4
    figure = occlusion_figure(result, "brick")
    assert figure.data[-1].zmid == 0.0
    assert HURTS_WORDS.endswith("hurts the verdict")
    assert figure.data[-1].colorbar.ticktext[-1] == "hurts the verdict"
