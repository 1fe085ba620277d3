"""Which examples matter (lab.influence) with the shipped models: ProtoNet's closed-form
leave-one-out against re-adapting, planted mislabels, helpfulness by hand."""

from __future__ import annotations

import io

import numpy as np
import pytest
import torch
from PIL import Image

from benchmarks.load import drawing
from lab.influence import LeaveOneOut, leave_one_out, maml_leave_one_out, protonet_leave_one_out
from lab.workspace import Item, Workspace

CIRCLE, CROSS, SQUARE = 0, 1, 2


def shape(kind: int, variant: int) -> Image.Image:
    return Image.open(io.BytesIO(drawing(kind, variant)))


def lesson(shots: int = 4, shapes=(CIRCLE, CROSS, SQUARE)):
    images = [shape(s, v) for s in shapes for v in range(shots)]
    labels = [f"shape{s}" for s in shapes for _ in range(shots)]
    return images, labels


def test_protonet_closed_form_equals_readapting(protonet_model):
    images, labels = lesson(3)
    images.append(shape(3, 0))  # a triangle alone in its class: leaving it out drops the class
    labels.append("triangle")
    checks = [shape(s, 5) for s in (CIRCLE, CROSS, SQUARE, 3)]
    closed = leave_one_out(protonet_model, images, labels, checks)
    inputs = protonet_model.encode(images)
    classes = tuple(dict.fromkeys(labels))
    index = torch.tensor([classes.index(label) for label in labels])
    truth = np.full(len(checks), -1)
    again = maml_leave_one_out(  # the reference: adapt_tensors once per left-out example
        protonet_model, inputs, index, classes, protonet_model.encode(checks), truth, {}
    )
    np.testing.assert_allclose(np.exp(closed.alone), np.exp(again.alone), atol=1e-5)
    np.testing.assert_allclose(
        np.exp(closed.checks_without), np.exp(again.checks_without), atol=1e-5
    )
    np.testing.assert_allclose(np.exp(closed.checks_all), np.exp(again.checks_all), atol=1e-5)
    assert np.exp(closed.alone[-1, 3]) == 0.0  # the triangle's class is gone without it
    # leaving two out (i, and j classified by the rest): adapt without both, ask about j;
    # i and j of two classes, then of one
    for i, j in ((1, 4), (0, 2)):
        keep = [k for k in range(len(images)) if k not in (i, j)]
        direct = protonet_model.adapt([images[k] for k in keep], [labels[k] for k in keep])
        expected = direct.predict_proba([images[j]])[0]
        got = np.exp(closed.others_without[i, j, [classes.index(c) for c in direct.classes]])
        np.testing.assert_allclose(got, expected, atol=1e-5)
    assert np.isnan(closed.others_without[i, i]).all()


def test_planted_mislabel_is_flagged_and_a_clean_lesson_flags_nothing(protonet_model):
    images, labels = lesson(4)
    assert leave_one_out(protonet_model, images, labels).suspects() == []
    images.append(shape(CROSS, 5))  # a real cross drawing labelled circle
    labels.append(f"shape{CIRCLE}")
    found = leave_one_out(protonet_model, images, labels).suspects()
    assert [(s.index, s.looks_like) for s in found] == [(len(images) - 1, CROSS)]
    assert found[0].probability > 0.99


def test_mislabel_is_the_least_helpful_of_its_class(protonet_model):
    images, labels = lesson(4)
    images.append(shape(CROSS, 5))
    labels.append(f"shape{CIRCLE}")
    result = leave_one_out(protonet_model, images, labels)
    assert result.measure == "others"
    helpful = result.helpfulness()
    assert helpful[-1] < 0  # the circles are surer of themselves without it
    assert result.extremes()[CIRCLE][1] == len(images) - 1
    assert result.others_move().shape == (len(images),)


def test_with_check_images_helpfulness_uses_them(protonet_model):
    images, labels = lesson(3)
    checks = [shape(s, 5) for s in (CIRCLE, CROSS, SQUARE)]
    result = leave_one_out(protonet_model, images, labels, checks, labels[::3])
    assert result.measure == "checks"
    assert result.verdict_changes().tolist() == [0] * len(images)  # clean drawings: stable
    assert np.isfinite(result.helpfulness()).all()


def test_helpfulness_by_hand():
    """Two classes, one check image of class 0: its margin is log p0 - log p1."""
    log = np.log
    result = LeaveOneOut(
        "protonet",
        labels=np.array([0, 0, 1]),
        alone=log(np.array([[0.9, 0.1], [0.2, 0.8], [0.3, 0.7]])),
        checks_all=log(np.array([[0.8, 0.2]])),
        checks_without=log(np.array([[[0.4, 0.6]], [[0.9, 0.1]], [[0.6, 0.4]]])),
        check_truth=np.array([0]),
        others_all=log(np.array([[0.9, 0.1], [0.2, 0.8], [0.3, 0.7]])),
        others_without=np.full((3, 3, 2), np.nan),
    )
    before = log(0.8 / 0.2)
    np.testing.assert_allclose(
        result.helpfulness(), [before - log(0.4 / 0.6), before - log(9), before - log(1.5)]
    )
    assert result.verdict_changes().tolist() == [1, 0, 0]
    assert result.extremes() == [(0, 1), None]
    suspects = result.suspects(threshold=0.75)
    assert [(s.index, s.looks_like) for s in suspects] == [(1, 1)]


def test_maml_readapts_per_example_with_progress(maml_model):
    images, labels = lesson(2, shapes=(CIRCLE, CROSS))
    seen = []
    result = leave_one_out(
        maml_model,
        images,
        labels,
        [shape(CROSS, 5)],
        [f"shape{CROSS}"],
        {"inner_steps": 1},
        on_progress=lambda done, total: seen.append((done, total)),
    )
    assert seen == [(k, 4) for k in range(1, 5)]
    direct = maml_model.adapt(images[1:], labels[1:], inner_steps=1)
    np.testing.assert_allclose(
        np.exp(result.alone[0]), direct.predict_proba([images[0]])[0], atol=1e-5
    )
    assert result.algorithm == "maml"


def test_protonet_closed_form_needs_a_protonet(maml_model):
    classifier = maml_model.adapt([shape(0, 0), shape(1, 0)], [0, 1], inner_steps=1)
    with pytest.raises(TypeError, match="ProtoNet"):
        protonet_leave_one_out(classifier, torch.zeros(0, 64), np.zeros(0, dtype=int))


def test_move_example_keeps_the_image_whole():
    ws = Workspace()
    circle, cross = ws.add_class("circle"), ws.add_class("cross")
    item = Item(ws.new_id(), "x.png", b"bytes", shape(CROSS, 0))
    circle.items.append(item)
    ws.move_example(item.id, cross.id)
    assert circle.items == [] and cross.items == [item]
    with pytest.raises(ValueError, match="no class"):
        ws.move_example(item.id, 999)
    with pytest.raises(ValueError, match="no support image"):
        ws.move_example(12345, circle.id)


def test_example_lesson_is_clean_and_a_real_drawing_planted_in_it_is_flagged(
    omniglot_root, protonet_model
):
    from lab.examples import HANDWRITING_CHARACTERS, _drawings, _evaluation_source, lesson

    found = lesson("character")
    images = [e.image for examples in found.support for e in examples]
    labels = [c for c, examples in enumerate(found.support) for _ in examples]
    assert leave_one_out(protonet_model, images, labels).suspects() == []
    # a drawing of the second character that the lesson does not hold, labelled as the first
    name, data = _drawings(_evaluation_source(omniglot_root), HANDWRITING_CHARACTERS[1])[12]
    images.append(Image.open(io.BytesIO(data)))
    labels.append(0)
    flagged = leave_one_out(protonet_model, images, labels).suspects()
    assert [(s.index, s.looks_like) for s in flagged] == [(len(images) - 1, 1)], name
