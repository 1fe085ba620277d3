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
    assert open_set.threshold_for(circle_cross) == open_set.threshold_of(circle_cross.model, 2)
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
    entry = protonet_model.card["open_set"]
    card = entry["by_ways"]["5"] if "by_ways" in entry else entry  # chosen per N since issue 31
    assert card["chosen_on"]["split"] == "val" and card["threshold"] == result["threshold"]
    assert result["auroc"] > 0.97
    assert result["known_accuracy_at_threshold"] > 90
    assert result["unknown_refused_at_threshold"] > 90


def test_each_number_of_classes_gets_the_threshold_chosen_nearest_to_it():
    """Scores move with N, so thresholds are chosen per N; a task of n classes takes the
    nearest N chosen on a log scale, and an older card's one threshold serves every N."""
    from types import SimpleNamespace

    def chosen(ways):
        return {"threshold": ways / 100, "chosen_on": {"ways": ways, "shots": 5}}

    card = {"open_set": {"by_ways": {str(n): chosen(n) for n in (2, 5, 10, 20)}}}
    model = SimpleNamespace(card=card)
    assert open_set.thresholds_of(model) == {2: 0.02, 5: 0.05, 10: 0.1, 20: 0.2}
    picked = {n: open_set.chosen_ways(model, n) for n in range(2, 21)}
    expected = {2: 2, 3: 2, 4: 5, 5: 5, 6: 5, 7: 5, 8: 10, 9: 10, 10: 10, 11: 10}
    assert picked == expected | {n: 10 for n in range(12, 15)} | {n: 20 for n in range(15, 21)}
    assert open_set.threshold_of(model, 3) == 0.02 and open_set.threshold_of(model, 17) == 0.2
    old = SimpleNamespace(card={"open_set": {"threshold": 0.3, "chosen_on": {"ways": 5}}})
    assert [open_set.threshold_of(old, n) for n in (2, 5, 20)] == [0.3, 0.3, 0.3]
    assert open_set.threshold_of(SimpleNamespace(card={}), 5) is None


def test_record_keeps_the_thresholds_of_other_numbers_of_classes(tmp_path, monkeypatch):
    import json

    from core.checkpoints import models_dir

    card = json.loads((models_dir() / "omniglot-protonet.json").read_text())
    card |= {"name": "m", "open_set": {"score": "s", "threshold": 0.5, "chosen_on": {"ways": 5}}}
    monkeypatch.setenv("FEWSHOT_MODELS", str(tmp_path))
    (tmp_path / "m.json").write_text(json.dumps(card))
    result = {"score": "s", "youden_threshold": 0.25, "dataset": "omniglot", "split": "val"}
    result |= {"ways": 20, "shots": 5, "queries": 15, "unknown_ways": 5, "episodes": 3}
    result |= {"seed": 0, "first": 0, "auroc": 0.9, "command": "c"}
    config = evaluate_open_set.OpenSetConfig("m", ways=20)
    evaluate_open_set._record(config, result)
    written = json.loads((tmp_path / "m.json").read_text())["open_set"]
    assert list(written["by_ways"]) == ["5", "20"]
    assert written["by_ways"]["5"]["threshold"] == 0.5
    assert written["by_ways"]["20"]["threshold"] == 0.25
    assert written["by_ways"]["20"]["chosen_on"]["ways"] == 20
