"""Does it rely on the wrong cue? (lab.robustness) with the shipped ProtoNet: the identity
moves nothing, mirroring moves a symmetric drawing not at all and turns a "\\" into a "/"."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image, ImageDraw

from benchmarks.load import drawing
from lab.robustness import (
    TRANSFORMS,
    class_centres,
    identity,
    median_centre_gap,
    mirrored,
    robustness,
)


def stroke(kind: str, variant: int = 0, size: int = 64) -> Image.Image:
    """A drawing: "\\" or "/" (mirror images of each other), or "+" (left-right symmetric)."""
    image = Image.new("L", (size, size), 255)
    draw = ImageDraw.Draw(image)
    v = 2 * variant
    if kind == "\\":
        draw.line((12 + v, 10, 52 - v, 54), fill=0, width=5)
    elif kind == "/":
        draw.line((52 - v, 10, 12 + v, 54), fill=0, width=5)
    else:  # "+": centred, so the mirror image is the same pixels
        draw.rectangle((30, 10, 33, 53), fill=0)
        draw.rectangle((10 + v, 30, 53 - v, 33), fill=0)
    return image


@pytest.fixture(scope="module")
def slashes(protonet_model):
    images = [stroke(k, v) for k in ("\\", "/") for v in range(3)]
    labels = [0, 0, 0, 1, 1, 1]
    return (
        protonet_model.adapt(images, ["back", "back", "back", "fwd", "fwd", "fwd"]),
        images,
        labels,
    )


def test_identity_moves_nothing_and_flips_nothing(slashes):
    classifier, images, labels = slashes
    checks = [stroke("\\", 4), stroke("/", 4)]
    result = robustness(classifier, images, labels, checks, {"same": identity})
    assert result.flips().tolist() == [[False, False]]
    np.testing.assert_allclose(result.movement, 0.0, atol=1e-4 * result.centre_gap)
    np.testing.assert_allclose(result.after[0], result.before, atol=1e-6)


def test_mirroring_a_symmetric_and_an_asymmetric_drawing(slashes):
    classifier, images, labels = slashes
    plus = stroke("+")
    assert np.array_equal(np.asarray(mirrored(plus)), np.asarray(plus))
    result = robustness(classifier, images, labels, [stroke("\\", 4), plus], {"m": mirrored})
    moved = result.relative_movement()[0]
    assert moved[1] < 1e-4  # the same pixels: it stays where it was
    assert moved[0] > 0.5  # "\" mirrored is a "/": it moves by a class gap's worth
    assert result.flips()[0].tolist() == [True, False]
    assert result.before[0].argmax() == 0 and result.after[0, 0].argmax() == 1


def test_every_transform_runs_and_the_centres_are_protonets_prototypes(slashes, protonet_model):
    classifier, images, labels = slashes
    checks = [Image.open(io.BytesIO(drawing(1, 3))), stroke("/", 5)]
    result = robustness(classifier, images, labels, checks)
    assert result.transforms == tuple(TRANSFORMS)
    assert result.after.shape == (len(TRANSFORMS), 2, 2)
    # pure black on white: brighter keeps black black and white white, so nothing moves;
    # every other transform changes the pixels, and the image moves
    assert result.transforms[0] == "brighter"
    np.testing.assert_allclose(result.movement[0], 0.0, atol=1e-4)
    assert (result.movement[1:] > 0.01 * result.centre_gap).all()
    centres = class_centres(classifier.embed(images), labels, 2)
    np.testing.assert_allclose(centres, classifier.trace.prototypes.numpy(), atol=1e-5)
    gap = float(np.linalg.norm(centres[0] - centres[1]))
    assert result.centre_gap == pytest.approx(gap, rel=1e-6)


def test_median_gap_by_hand_and_bad_input(slashes):
    centres = np.array([[0.0, 0.0], [3.0, 4.0], [6.0, 8.0]])  # gaps 5, 10, 5
    assert median_centre_gap(centres) == 5.0
    classifier, images, labels = slashes
    with pytest.raises(ValueError, match="no check images"):
        robustness(classifier, images, labels, [])
