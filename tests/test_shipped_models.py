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
from dataclasses import replace

import pytest

from core.evaluate import EvalConfig, evaluate

# README (docs/results/test_log.jsonl), then the episodes run here (about 2 min in all).
README_FIGURES = [
    # model, ways, shots, inner_steps, README episodes, mean, ci95, episodes here
    ("omniglot-protonet", 5, 1, None, 1000, 98.87, 0.17, 50),
    ("omniglot-protonet", 5, 5, None, 1000, 99.71, 0.06, 50),
    ("omniglot-protonet", 20, 1, None, 1000, 96.39, 0.15, 50),
    ("omniglot-protonet", 20, 5, None, 1000, 99.06, 0.05, 50),
    # The zero-head omniglot-maml at its card's 20 steps (docs/results/eval-maml-zero.jsonl):
    # its inner loop diverges on some episodes, so its per-episode accuracy is far from
    # normal and a few episodes say little about the mean; the first 200 of the README's 600
    # episodes of 5-way 1-shot are run (about a minute; they gave 96.57 against the floor
    # 96.45 when this was written: a real drop of the model fails it).
    ("omniglot-maml", 5, 1, None, 600, 97.35, 0.52, 200),
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


@pytest.mark.parametrize("ways, shots", [(5, 1), (20, 5)])
def test_maml_before_its_inner_loop_is_at_chance_and_its_steps_do_the_learning(
    omniglot_root, ways, shots
):
    """omniglot-maml's classifier starts at zero: before any inner step every class is
    equally likely, so the answer is the first class and accuracy is exactly chance on
    balanced queries; the card's steps take it far above chance (issue 13)."""
    config = EvalConfig("omniglot-maml", "omniglot", "test", ways, shots, 15, 10, seed=0)
    before = evaluate(replace(config, inner_steps=0))
    after = evaluate(config)
    print(
        f"omniglot-maml {ways}w{shots}s, 10 episodes: 0 steps {before['accuracy']}, "
        f"{after['inner_steps']} steps {after['accuracy']}"
    )
    assert before["accuracy"] == pytest.approx(100 / ways)
    assert after["accuracy"] > 60  # far above chance (20% and 5%)
