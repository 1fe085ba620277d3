"""The one-shot game (lab.game): trials, the models' picks, the tallies, the stored scores."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from core.data import TensorDataset
from lab import game
from lab.oneshot import trial_tensors


def tiny_dataset(alphabets: int = 2, characters: int = 20, drawers: int = 4) -> TensorDataset:
    """Random 28-pixel 'drawings': `characters` unrotated characters per alphabet, plus a
    rotated copy of each that a trial must never use."""
    names = [
        f"Alphabet{a}/character{c:02d}/{rotation}"
        for a in range(alphabets)
        for c in range(characters)
        for rotation in ("rot000", "rot090")
    ]
    generator = torch.Generator().manual_seed(0)
    data = torch.randint(0, 256, (len(names), drawers, 28, 28), generator=generator)
    return TensorDataset("tiny", names, data.to(torch.uint8))


class ScriptedModel:
    """Answers every question with candidate `answer` (-1: the right one), 90% sure."""

    algorithm = "scripted"

    def __init__(self, name: str, answer: int) -> None:
        self.name, self.answer, self.target = name, answer, None

    def adapt_tensors(self, support, labels, classes):
        model = self

        class Classifier:
            def predict_proba_tensors(self, question):
                pick = model.target if model.answer < 0 else model.answer
                row = np.full(len(classes), 0.1 / (len(classes) - 1), dtype=np.float32)
                row[pick] = 0.9
                return row[None]

        return Classifier()


def test_a_trial_is_seeded_and_its_candidates_share_one_alphabet():
    data = tiny_dataset()
    drawn = [game.draw_trial(data, seed) for seed in range(12)]
    assert drawn == [game.draw_trial(data, seed) for seed in range(12)]
    assert len({d.trial.classes for d in drawn}) > 1
    assert len({d.target for d in drawn}) > 1  # the twin is not always in the same place
    for d in drawn:
        names = [data.classes[c] for c in d.trial.classes]
        assert len(set(names)) == game.WAYS == 20
        assert {name.split("/")[0] for name in names} == {d.trial.alphabet}
        assert all(name.endswith("/rot000") for name in names)
        assert 0 <= d.target < 20 and d.trial.support_drawer != d.trial.query_drawer


def test_the_pictures_are_the_question_and_the_candidates_drawings():
    data = tiny_dataset()
    d = game.draw_trial(data, 3)
    query, candidates = game.trial_images(data, d, size=28)
    target = d.trial.classes[d.target]
    assert np.array_equal(np.asarray(query), 255 - data.data[target, d.trial.query_drawer].numpy())
    assert len(candidates) == 20
    for character, image in zip(d.trial.classes, candidates, strict=True):
        expected = 255 - data.data[character, d.trial.support_drawer].numpy()
        assert np.array_equal(np.asarray(image), expected)
    assert game.trial_images(data, d)[0].size == (96, 96)


def test_the_tally_counts_who_was_right():
    d = game.draw_trial(tiny_dataset(), 0)
    wrong = (d.target + 1) % 20
    answers = (
        game.ModelAnswer("omniglot-protonet", d.target, (0.0,) * 20, None),
        game.ModelAnswer("omniglot-maml", wrong, (0.0,) * 20, None),
    )
    first = game.Outcome(d, d.target, answers)
    second = game.Outcome(d, wrong, answers)
    assert first.right() == {"you": True, "omniglot-protonet": True, "omniglot-maml": False}
    tally = game.Tally().add(first).add(second).add(second)
    assert tally.played == 3
    assert dict(tally.right) == {"you": 1, "omniglot-protonet": 3, "omniglot-maml": 0}
    assert tally.percent("you") == pytest.approx(100 / 3)
    assert game.Tally().percent("you") is None


def test_a_round_is_twenty_fixed_trials_then_free_play_goes_on():
    data = tiny_dataset()
    right, wrong = ScriptedModel("omniglot-protonet", -1), ScriptedModel("omniglot-maml", 0)
    state = game.start_round(game.new_game(seed=77))
    seeds = []
    for n in range(20):
        seeds.append(state.seed)
        right.target = game.draw_trial(data, state.seed).target
        state = game.pick(state, data, [right, wrong], choice=right.target if n < 15 else 19)
        assert len(state.round) == n + 1 and state.outcome is not None
        assert game.pick(state, data, [right, wrong], 0) == state  # one pick per trial
        if n < 19:
            assert not state.round_over
            state = game.next_trial(state)
    assert seeds == list(range(game.ROUND_SEED, game.ROUND_SEED + 20))
    assert state.round_over
    summary = state.round_tally
    assert summary.played == 20 and summary.right["you"] >= 15
    assert summary.right["you"] == 15 + sum(
        game.draw_trial(data, s).target == 19 for s in seeds[15:]
    )
    assert summary.right["omniglot-protonet"] == 20
    assert summary.right["omniglot-maml"] == sum(
        game.draw_trial(data, s).target == 0 for s in seeds
    )
    after = game.next_trial(state)
    assert after.round is None and after.seed == 77 + 1 and after.outcome is None
    assert after.tally == state.tally  # the session's tally goes on
    with pytest.raises(ValueError, match="between 1 and 20"):
        game.pick(after, data, [right, wrong], 20)


def test_the_models_picks_are_what_their_classifiers_say(omniglot_test, protonet_model, maml_model):
    before = {name: t.clone() for name, t in maml_model.net.state_dict().items()}
    for seed in (1, 2):
        d = game.draw_trial(omniglot_test, seed)
        support, query = trial_tensors(omniglot_test, d.trial)
        for model in (protonet_model, maml_model):
            answer = game.model_answer(model, omniglot_test, d)
            # every question of the whole trial at once, as lab.oneshot.score asks them
            classifier = model.adapt_tensors(support, torch.arange(20), list(range(20)))
            expected = classifier.predict_proba_tensors(query)[d.target]
            assert answer.model == model.name and answer.pick == int(expected.argmax())
            np.testing.assert_allclose(answer.probabilities, expected, rtol=1e-4, atol=1e-6)
            assert answer.top(3)[0] == answer.pick
            if model.algorithm == "protonet":
                distances = np.asarray(answer.distances)
                assert int(distances.argmin()) == answer.pick
            else:
                assert answer.distances is None
    after = maml_model.net.state_dict()
    assert all(torch.equal(before[name], after[name]) for name in before)  # never mutated


def test_the_stored_scores_are_the_measured_ones_beside_people(tmp_path):
    scores = {row["who"]: row for row in game.stored_scores()}
    # protonet v2's and maml v5's lines (docs/results/maml-v5/) replace v1's 84.72 (maml-v3/)
    # and v4's 84.62 (maml-v4/): the newer file wins
    assert scores["omniglot-protonet"]["accuracy"] == 84.75
    assert scores["omniglot-protonet"]["ci95"] == 1.19
    assert scores["omniglot-maml"]["accuracy"] == 84.67 and scores["omniglot-maml"]["trials"] == 400
    assert list(scores) == ["omniglot-protonet", "omniglot-maml", "people"]
    assert scores["people"]["accuracy"] == 95.5 and "Lake" in scores["people"]["source"]
    assert "scripts.within_alphabet" in scores["omniglot-maml"]["source"]
    # where each line is, for the page's caption: both of today's lines in maml-v5's file
    assert scores["omniglot-maml"]["file"] == "docs/results/maml-v5/within-alphabet-test.jsonl"
    assert scores["omniglot-protonet"]["file"] == scores["omniglot-maml"]["file"]
    assert scores["people"]["file"] is None
    missing = tmp_path / "none.jsonl"
    with pytest.raises(FileNotFoundError, match="none.jsonl"):
        game.stored_scores(missing)
    broken = tmp_path / "broken.jsonl"
    broken.write_text(json.dumps({"model": "x", "accuracy": 1}) + "\n")
    with pytest.raises(ValueError, match="broken.jsonl line 1"):
        game.stored_scores(broken)
