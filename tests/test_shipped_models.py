"""The shipped Omniglot checkpoints on real test episodes, against floors one 95% CI under
the README figures.

The README protocol itself (Omniglot test, 15 queries, seed 0; ProtoNet 1000 episodes, MAML
600 at its card's steps) takes over an hour on a shared 2-core CPU (0.4 to 2.3 s per
episode), so each test runs the FIRST n of the README's episodes (the same seed draws the
same sequence) and its floor is the README mean minus one 95% CI for n episodes: the
README's interval scaled by sqrt(README episodes / n). A model that fell by more than what
n episodes can resolve fails; a full re-check is the README command.
"""

import math

import numpy as np
import pytest
import torch

from core.evaluate import EvalConfig, evaluate

# README (docs/results/test_log.jsonl), then the episodes run here (about 4 min in all).
README_FIGURES = [
    # model, ways, shots, inner_steps, README episodes, mean, ci95, episodes here
    # omniglot-protonet v2 (docs/results/maml-v5/protonet-v2-eval-test.jsonl)
    ("omniglot-protonet", 5, 1, None, 1000, 98.91, 0.17, 50),
    ("omniglot-protonet", 5, 5, None, 1000, 99.74, 0.05, 50),
    ("omniglot-protonet", 20, 1, None, 1000, 96.53, 0.14, 50),
    ("omniglot-protonet", 20, 5, None, 1000, 99.11, 0.05, 50),
    # omniglot-maml v5 at its card's 20 steps (docs/results/maml-v5/eval-test.jsonl), all
    # four settings: the first 100 / 100 / 60 / 30 of the README's 600 episodes (its
    # classifier-only inner loop takes about 15 to 70 s for all 600 on this CPU).
    ("omniglot-maml", 5, 1, None, 600, 98.92, 0.22, 100),
    ("omniglot-maml", 5, 5, None, 600, 99.71, 0.08, 100),
    ("omniglot-maml", 20, 1, None, 600, 96.48, 0.19, 60),
    ("omniglot-maml", 20, 5, None, 600, 99.08, 0.07, 30),
]


@pytest.mark.parametrize(
    "model, ways, shots, inner_steps, readme_episodes, mean, ci95, episodes", README_FIGURES
)
def test_accuracy_on_the_test_split_near_the_readme(
    omniglot_root, model, ways, shots, inner_steps, readme_episodes, mean, ci95, episodes
):
    config = EvalConfig(
        model, "omniglot", "test", ways, shots, 15, episodes, seed=0, inner_steps=inner_steps
    )
    result = evaluate(config)
    floor = round(mean - ci95 * math.sqrt(readme_episodes / episodes), 2)
    print(f"{model} {ways}w{shots}s {episodes} episodes: {result['accuracy']} (floor {floor})")
    assert result["accuracy"] >= floor, result


def test_user_style_images_keep_accuracy(omniglot_test, protonet_model):
    """Through the app's path (PIL images, cropped to the ink) accuracy stays high."""
    import torch

    from core.episodes import episodes

    correct = total = 0
    for episode in episodes(omniglot_test.class_sizes(), 5, 1, 5, 30, seed=1):
        support, query, labels, query_labels = [], [], [], []
        for k, c in enumerate(episode.classes.tolist()):
            support += omniglot_test.images(c, episode.support[k].tolist())
            query += omniglot_test.images(c, episode.query[k].tolist())
            labels += [k]
            query_labels += [k] * 5
        predicted = protonet_model.adapt(support, labels).predict(query)
        correct += sum(int(p == t) for p, t in zip(predicted, query_labels))
        total += len(query)
    assert correct / total >= 0.93, correct / total
    assert torch.is_tensor(omniglot_test.data)


def _tensors(model, data, episode):
    from core.evaluate import episode_inputs

    return episode_inputs(model, data, episode, "cpu")


@pytest.mark.parametrize("ways, shots", [(5, 1), (20, 5)])
def test_maml_before_its_inner_loop_gives_every_query_exactly_1_over_n(
    omniglot_test, maml_model, ways, shots
):
    """omniglot-maml's classifier starts at zero: before any inner step every probability of
    every query is 1/N (accuracy at chance would prove nothing: any constant answer scores
    chance on balanced queries); after the card's steps the same episodes are classified."""
    from core.episodes import episodes

    labels = torch.arange(ways).repeat_interleave(shots)
    right = total = 0
    for episode in episodes(omniglot_test.class_sizes(), ways, shots, 5, 3, seed=0):
        support, query = _tensors(maml_model, omniglot_test, episode)
        before = maml_model.adapt_tensors(support, labels, range(ways), inner_steps=0)
        np.testing.assert_allclose(before.predict_proba_tensors(query), 1 / ways, atol=1e-7)
        after = maml_model.adapt_tensors(support, labels, range(ways))
        predicted = after.predict_proba_tensors(query).argmax(1)
        right += int((predicted == np.repeat(np.arange(ways), 5)).sum())
        total += len(predicted)
    assert right / total > 0.8, right / total


@pytest.mark.parametrize("ways, shots", [(5, 1), (5, 5), (20, 1), (20, 5)])
def test_maml_support_loss_falls_at_every_step_on_every_val_episode(
    omniglot_val, maml_model, ways, shots
):
    """No divergence with the card's settings: on 10 val episodes of each setting the support
    loss falls at every inner step (so the last step's is below the first's)."""
    from core.episodes import episodes

    val = omniglot_val
    labels = torch.arange(ways).repeat_interleave(shots)
    for n, episode in enumerate(episodes(val.class_sizes(), ways, shots, 1, 10, seed=0)):
        support, _ = _tensors(maml_model, val, episode)
        trace = maml_model.adapt_tensors(support, labels, range(ways)).trace
        losses = [r.support_loss for r in trace]
        assert all(b < a for a, b in zip(losses, losses[1:])), (n, losses)


def test_maml_serves_2_to_20_classes_of_real_characters(omniglot_test, maml_model):
    """Through the public API (PIL images of Omniglot test drawings): 2 and 20 classes, with
    uneven shots (1 or 2 drawings a class), classify other drawings of the same characters."""
    for n in (2, 20):
        images, labels, queries, truth = [], [], [], []
        for c in range(n):
            drawings = omniglot_test.images(7 * c, range(4))
            shots = 1 + c % 2
            images += drawings[:shots]
            labels += [f"character {c}"] * shots
            queries.append(drawings[3])
            truth.append(f"character {c}")
        classifier = maml_model.adapt(images, labels)
        assert classifier.predict_proba(queries).shape == (n, n)
        right = sum(p == t for p, t in zip(classifier.predict(queries), truth))
        assert right >= 0.8 * n, (n, right)
