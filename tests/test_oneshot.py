"""Lake et al.'s within-alphabet one-shot task (lab.oneshot) on Omniglot's test alphabets."""

import pytest
import torch

from lab import oneshot


def test_trials_take_every_character_from_one_alphabet_and_two_drawers(omniglot_test):
    found = list(oneshot.trials(omniglot_test, 20, 30, seed=3))
    assert found == list(oneshot.trials(omniglot_test, 20, 30, seed=3))  # seeded
    assert found != list(oneshot.trials(omniglot_test, 20, 30, seed=4))
    for trial in found:
        names = [omniglot_test.classes[c] for c in trial.classes]
        assert len(set(names)) == 20
        assert {name.split("/")[0] for name in names} == {trial.alphabet}
        assert all(name.endswith("/rot000") for name in names)
        assert trial.support_drawer != trial.query_drawer
    support, query = oneshot.trial_tensors(omniglot_test, found[0])
    assert support.shape == query.shape == (20, 1, 28, 28)
    first = found[0]
    expected = omniglot_test.data[first.classes[0], first.query_drawer].float() / 255
    torch.testing.assert_close(query[0, 0], expected)
    with pytest.raises(ValueError, match="no alphabet"):
        next(oneshot.trials(omniglot_test, 60, 1))


def test_protonet_matches_most_drawings_to_their_twin(omniglot_test, protonet_model):
    result = oneshot.score(protonet_model, omniglot_test, 20, 5, seed=0)
    assert result["humans"] == 95.5 and result["trials"] == 5
    assert result["accuracy"] > 70, result
