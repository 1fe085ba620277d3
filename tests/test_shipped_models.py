"""The shipped checkpoints on real Omniglot test episodes, against floors near the targets.

The full protocol (1000 / 600 episodes) is in README; here a few episodes keep CI quick, so
the floors sit about two standard errors below the measured accuracy.
"""

import pytest

from core.evaluate import EvalConfig, evaluate


@pytest.mark.parametrize(
    "model, ways, shots, episodes, floor",
    [
        ("omniglot-protonet", 5, 1, 200, 97.8),
        ("omniglot-protonet", 20, 1, 60, 95.0),
        ("omniglot-maml", 5, 1, 60, 97.5),
        ("omniglot-maml", 20, 5, 10, 98.0),
    ],
)
def test_accuracy_on_the_test_split(omniglot_root, model, ways, shots, episodes, floor):
    result = evaluate(EvalConfig(model, "omniglot", "test", ways, shots, 15, episodes, seed=0))
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
