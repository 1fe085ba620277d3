import math

import pytest
import torch

from core import protonet

X = torch.tensor([[1.0, 2.0, 3.0]])
P = torch.tensor([[2.0, 2.0, 2.0], [4.0, 4.0, 4.0]])


def test_distances_on_hand_computed_values():
    assert protonet.euclidean(X, P)[0].tolist() == pytest.approx([math.sqrt(2), math.sqrt(14)])
    assert protonet.squared_euclidean(X, P)[0].tolist() == pytest.approx([2.0, 14.0])
    # cos(x, p) = 12 / sqrt(14 * 12) for both prototypes: cosine ignores scale.
    expected = 1 - 12 / math.sqrt(168)
    assert expected == pytest.approx(0.0742, abs=1e-4)
    assert protonet.cosine_distance(X, P)[0].tolist() == pytest.approx(
        [expected, expected], rel=1e-5
    )


def test_squared_euclidean_is_exact_and_never_negative():
    x = torch.full((1, 64), 1e3) + torch.randn(1, 64, generator=torch.Generator().manual_seed(0))
    assert float(protonet.squared_euclidean(x, x)[0, 0]) == 0.0


def test_prototypes_are_class_means_with_uneven_shots():
    embeddings = torch.tensor([[0.0, 0.0], [2.0, 0.0], [4.0, 4.0], [1.0, 1.0], [3.0, 1.0]])
    labels = torch.tensor([0, 0, 1, 2, 2])
    protos = protonet.prototypes(embeddings, labels, 3)
    assert protos.tolist() == [[1.0, 0.0], [4.0, 4.0], [2.0, 1.0]]


def test_prototypes_reject_an_empty_class():
    with pytest.raises(ValueError, match=r"classes \[1\] have no support example"):
        protonet.prototypes(torch.zeros(2, 3), torch.tensor([0, 2]), 3)


def test_logits_and_loss_follow_the_paper():
    # Query at the origin, prototypes at distance^2 1 and 4: p = softmax([-1, -4]).
    support = torch.tensor([[1.0, 0.0], [0.0, 2.0]])
    labels = torch.tensor([0, 1])
    query = torch.zeros(1, 2)
    logits = protonet.logits(query, protonet.prototypes(support, labels, 2))
    assert logits.tolist() == [[-1.0, -4.0]]
    loss, accuracy = protonet.episode_loss(support, labels, query, torch.tensor([0]), 2)
    assert float(loss) == pytest.approx(math.log(1 + math.exp(-3)))
    assert float(accuracy) == 1.0


def test_unknown_distance_is_named():
    with pytest.raises(ValueError, match="manhattan"):
        protonet.distances(X, P, "manhattan")
