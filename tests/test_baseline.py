"""lab.baseline: a randomly initialised Conv-4 trained on the support set only."""

from __future__ import annotations

import pytest
import torch

from lab.baseline import BaselineConfig, fit_baseline, fit_baseline_on_labels


def _support(
    n_classes: int = 3, shots: int = 2, side: int = 28
) -> tuple[torch.Tensor, torch.Tensor]:
    generator = torch.Generator().manual_seed(0)
    inputs = torch.rand(n_classes * shots, 1, side, side, generator=generator) * 0.2
    labels = torch.arange(n_classes).repeat_interleave(shots)
    for i, label in enumerate(labels.tolist()):  # a bright block per class
        inputs[i, 0, 4 * label : 4 * label + 8, 4:20] = 1.0
    return inputs, labels


@pytest.mark.slow  # trains the baseline: about 15 s
def test_it_learns_the_support_set_and_keeps_the_global_rng():
    inputs, labels = _support()
    state = torch.random.get_rng_state()
    clf = fit_baseline(inputs, labels, ["a", "b", "c"], BaselineConfig(steps=40, lr=3e-3))
    assert torch.equal(torch.random.get_rng_state(), state)
    assert clf.classes == ("a", "b", "c")
    assert len(clf.history) == 40
    assert clf.history[-1].loss < clf.history[0].loss
    probabilities = clf.predict_proba_tensors(inputs)
    assert probabilities.shape == (6, 3)
    assert probabilities.sum(1) == pytest.approx([1.0] * 6, abs=1e-5)
    assert (probabilities.argmax(1) == labels.numpy()).all()


def test_same_seed_same_model_and_one_image_equals_a_batch():
    inputs, labels = _support()
    config = BaselineConfig(steps=5)
    first = fit_baseline(inputs, labels, [0, 1, 2], config).predict_proba_tensors(inputs)
    second = fit_baseline(inputs, labels, [0, 1, 2], config)
    assert torch.allclose(
        torch.from_numpy(first), torch.from_numpy(second.predict_proba_tensors(inputs))
    )
    one = second.predict_proba_tensors(inputs[:1])
    assert torch.allclose(torch.from_numpy(one[0]), torch.from_numpy(first[0]), atol=1e-5)


def test_labels_may_be_given_as_class_ids_instead_of_indices():
    inputs, labels = _support()
    ids = (30, 10, 20)  # the app's class ids, in output order
    config = BaselineConfig(steps=5)
    by_index = fit_baseline(inputs, labels, ids, config).predict_proba_tensors(inputs)
    by_id = fit_baseline_on_labels(inputs, [ids[k] for k in labels.tolist()], ids, config)
    assert by_id.classes == ids
    assert (by_id.predict_proba_tensors(inputs) == by_index).all()


def test_photos_are_shrunk_and_on_step_is_called():
    inputs, labels = _support(2, 1, side=100)
    inputs = inputs.repeat(1, 3, 1, 1)
    seen = []
    clf = fit_baseline(inputs, labels, ["x", "y"], BaselineConfig(steps=3), on_step=seen.append)
    assert [s.step for s in seen] == [1, 2, 3]
    assert clf.predict_proba_tensors(inputs[:0]).shape == (0, 2)


@pytest.mark.parametrize(
    ("labels", "classes", "message"),
    [
        (torch.tensor([0, 0]), ["a", "b"], "every class needs"),
        (torch.tensor([0, 1]), ["a"], "at least 2 classes"),
        (torch.tensor([0]), ["a", "b"], "2 inputs but labels"),
    ],
)
def test_bad_support_sets_raise_named_errors(labels, classes, message):
    with pytest.raises(ValueError, match=message):
        fit_baseline(torch.zeros(2, 1, 28, 28), labels, classes, BaselineConfig(steps=1))


def test_config_is_checked():
    with pytest.raises(ValueError, match="steps"):
        BaselineConfig(steps=0)


def test_features_get_a_linear_model_that_learns_them():
    """(S, D) features, e.g. a photo model's (S, 1280): the issue-17 traceback on Compare."""
    inputs, labels = _support()
    features = inputs.flatten(1)  # (6, 784): a bright block of features per class
    state = torch.random.get_rng_state()
    clf = fit_baseline(features, labels, ["a", "b", "c"], BaselineConfig(steps=30, lr=1e-2))
    assert torch.equal(torch.random.get_rng_state(), state)
    assert isinstance(clf.net, torch.nn.Linear) and clf.net.in_features == 784
    assert clf.history[-1].loss < clf.history[0].loss
    probabilities = clf.predict_proba_tensors(features)
    assert (probabilities.argmax(1) == labels.numpy()).all()
    one = clf.predict_proba_tensors(features[2:3])
    assert torch.allclose(torch.from_numpy(one[0]), torch.from_numpy(probabilities[2]), atol=1e-6)


def test_real_photo_features_from_the_photo_model():
    """The photo model's encoder output trains the from-scratch baseline (no shape error)."""
    import io

    from PIL import Image

    from core import load_model
    from tests.app.test_teach import _photo_png

    model = load_model("photo-protonet")
    images = [Image.open(io.BytesIO(_photo_png(k, v))) for k in ("cat", "coffee") for v in (0, 1)]
    inputs = model.encode(images)
    assert inputs.shape == (4, 1280)
    clf = fit_baseline_on_labels(inputs, [7, 7, 9, 9], (7, 9), BaselineConfig(steps=50))
    assert clf.predict_proba_tensors(model.encode(images)).argmax(1).tolist() == [0, 0, 1, 1]


def test_other_shapes_are_refused_with_the_shapes_accepted():
    with pytest.raises(ValueError, match=r"\(S, C, H, W\) images or \(S, D\) features"):
        fit_baseline(torch.zeros(2, 28, 28), torch.tensor([0, 1]), ["a", "b"])
