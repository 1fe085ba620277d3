"""'None of these' (core.open_set): scores, AUROC, the val threshold, when it applies."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from core import evaluate_open_set, open_set
from core.images import decode_image
from tests.app.conftest import character_png


def test_auroc_counts_pairs_and_half_ties():
    known, unknown = np.array([0.1, 0.4, 0.4, 0.9]), np.array([0.4, 0.8, 1.2])
    pairs = [1.0 if u > k else 0.5 if u == k else 0.0 for k, u in itertools.product(known, unknown)]
    assert open_set.auroc(known, unknown) == pytest.approx(sum(pairs) / len(pairs))
    assert open_set.auroc([0, 1], [2, 3]) == 1.0 and open_set.auroc([2, 3], [0, 1]) == 0.0
    with pytest.raises(ValueError):
        open_set.auroc([], [1.0])


def test_youden_threshold_keeps_the_most_known_and_the_fewest_unknown():
    known, unknown = np.array([1.0, 2.0, 3.0, 10.0]), np.array([4.0, 5.0, 6.0])
    # Kept at most t: t = 3 keeps 3/4 known and no unknown (J = 0.75); t = 10 keeps all
    # known and all unknown (J = 0).
    assert open_set.youden_threshold(known, unknown) == 3.0


@pytest.fixture
def circle_cross(protonet_model):
    images = [decode_image(character_png(s, v), "s.png") for s in (0, 1) for v in range(2)]
    return protonet_model.adapt(images, ["circle", "circle", "cross", "cross"])


def test_protonet_novelty_is_the_distance_to_the_nearest_centre(circle_cross):
    queries = [decode_image(character_png(s, 4), "q.png") for s in range(4)]
    inputs = circle_cross.model.encode(queries)
    scores = open_set.novelty(circle_cross, inputs)
    np.testing.assert_allclose(scores, circle_cross.distances(queries).min(1), rtol=1e-6)
    # The shipped threshold (chosen on Omniglot val) keeps the taught shapes and refuses a
    # square and a triangle that belong to neither class.
    assert open_set.threshold_for(circle_cross) == open_set.threshold_of(circle_cross.model)
    assert open_set.none_of_these(circle_cross, inputs).tolist() == [False, False, True, True]


def test_the_threshold_applies_only_with_the_models_own_settings(protonet_model, circle_cross):
    images = [decode_image(character_png(s, v), "s.png") for s in (0, 1) for v in range(2)]
    cosine = protonet_model.adapt(images, [0, 0, 1, 1], distance="cosine")
    assert open_set.threshold_for(cosine) is None
    assert open_set.none_of_these(cosine, protonet_model.encode(images)) is None
    assert open_set.threshold_for(circle_cross) is not None


def test_measure_on_real_val_episodes(omniglot_root, protonet_model):
    """A few real val episodes: known queries score lower than unknown ones (AUROC near the
    card's val figure), and the card's threshold keeps most known queries."""
    config = evaluate_open_set.OpenSetConfig("omniglot-protonet", episodes=10)
    result = evaluate_open_set.measure(config, protonet_model)
    card = protonet_model.card["open_set"]
    assert card["chosen_on"]["split"] == "val" and card["threshold"] == result["threshold"]
    assert result["auroc"] > 0.97
    assert result["known_accuracy_at_threshold"] > 90
    assert result["unknown_refused_at_threshold"] > 90
