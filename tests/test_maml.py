"""MAML: the meta-gradient against a hand-written second-order reference, first order,
vmap against the loop, and the trace."""

from dataclasses import replace

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from core import maml

TASKS, SHOTS, QUERIES, WAYS, LR, STEPS = 2, 6, 4, 3, 0.5, 2


def tiny():
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(3, 4), nn.Tanh()).eval()
    g = torch.Generator().manual_seed(1)
    sx, qx = torch.randn(TASKS, SHOTS, 3, generator=g), torch.randn(TASKS, QUERIES, 3, generator=g)
    sy = F.one_hot(torch.arange(SHOTS) % WAYS, WAYS).float().expand(TASKS, -1, -1)
    qy = F.one_hot(torch.arange(QUERIES) % WAYS, WAYS).float().expand(TASKS, -1, -1)
    return net, sx, sy, qx, qy


def reference_meta_gradient(net, sx, sy, qx, qy, first_order):
    """MAML written out by hand with torch.autograd.grad: zero head, tanh(Wx + b) features."""
    w0, b0 = (p.detach().clone().requires_grad_() for p in net[0].parameters())
    total = 0.0
    for t in range(TASKS):
        w, b = w0, b0
        head_w, head_b = torch.zeros(WAYS, 4), torch.zeros(WAYS)
        head_w.requires_grad_()
        head_b.requires_grad_()
        for _ in range(STEPS):
            logits = torch.tanh(sx[t] @ w.T + b) @ head_w.T + head_b
            loss = -(sy[t] * F.log_softmax(logits, -1)).sum(-1).mean()
            grads = torch.autograd.grad(
                loss, (w, b, head_w, head_b), create_graph=not first_order, retain_graph=True
            )
            w, b, head_w, head_b = (v - LR * g for v, g in zip((w, b, head_w, head_b), grads))
        logits = torch.tanh(qx[t] @ w.T + b) @ head_w.T + head_b
        total = total + -(qy[t] * F.log_softmax(logits, -1)).sum(-1).mean()
    (total / TASKS).backward()
    return {"0.weight": w0.grad, "0.bias": b0.grad}


def our_meta_gradient(net, sx, sy, qx, qy, first_order, vectorize):
    features = maml.make_features_fn(net)
    params, buffers = maml.split_state(net)
    params = {k: v.clone().requires_grad_() for k, v in params.items()}
    config = maml.InnerLoop(STEPS, LR, first_order, head_init="zero")
    loss, _ = maml.meta_loss(features, params, buffers, sx, sy, qx, qy, config, vectorize)
    loss.backward()
    return {k: v.grad for k, v in params.items()}


@pytest.mark.parametrize("vectorize", [False, True], ids=["loop", "vmap"])
def test_second_order_meta_gradient_equals_hand_written_reference(vectorize):
    net, *batch = tiny()
    ours = our_meta_gradient(net, *batch, first_order=False, vectorize=vectorize)
    reference = reference_meta_gradient(net, *batch, first_order=False)
    for name, grad in ours.items():
        assert grad is not None and float(grad.abs().sum()) > 0, f"no gradient reaches {name}"
        torch.testing.assert_close(grad, reference[name], rtol=1e-5, atol=1e-6)


def test_first_order_matches_its_reference_and_differs_from_second_order():
    net, *batch = tiny()
    first = our_meta_gradient(net, *batch, first_order=True, vectorize=False)
    torch.testing.assert_close(first, reference_meta_gradient(net, *batch, first_order=True))
    second = our_meta_gradient(net, *batch, first_order=False, vectorize=False)
    assert float((first["0.weight"] - second["0.weight"]).abs().max()) > 1e-3


def test_meta_gradient_reaches_every_conv4_parameter_with_proto_head():
    from core.networks import Conv4

    torch.manual_seed(0)
    net = Conv4(hidden=8).eval()
    features = maml.make_features_fn(net)
    params, buffers = maml.split_state(net)
    params = {k: v.clone().requires_grad_() for k, v in params.items()}
    g = torch.Generator().manual_seed(0)
    sx, qx = torch.rand(2, 6, 1, 28, 28, generator=g), torch.rand(2, 6, 1, 28, 28, generator=g)
    y = F.one_hot(torch.arange(6) % 3, 3).float().expand(2, -1, -1)
    loss, _ = maml.meta_loss(features, params, buffers, sx, y, qx, y, maml.InnerLoop(1, 0.01))
    loss.backward()
    for name, value in params.items():
        assert value.grad is not None and float(value.grad.abs().sum()) > 0, name


def test_trace_records_every_step_and_loss_falls():
    net, sx, sy, qx, _ = tiny()
    features = maml.make_features_fn(net)
    params, buffers = maml.split_state(net)
    adapted = maml.adapt_with_trace(
        features,
        params,
        buffers,
        sx[0],
        sy[0],
        maml.InnerLoop(5, 0.5, head_init="zero"),
        query_x=qx[0],
        keep_features=True,
    )
    assert [r.step for r in adapted.trace] == [0, 1, 2, 3, 4, 5]
    assert adapted.trace[0].support_loss == pytest.approx(torch.log(torch.tensor(3.0)).item())
    assert adapted.trace[-1].support_loss < adapted.trace[0].support_loss
    assert adapted.trace[2].query_probabilities.shape == (QUERIES, WAYS)
    assert adapted.trace[2].support_features.shape == (SHOTS, 4)


def test_inner_loop_config_is_validated():
    with pytest.raises(ValueError, match="inner steps"):
        maml.InnerLoop(steps=-1)
    with pytest.raises(ValueError, match="head_init"):
        maml.InnerLoop(head_init="random")


def test_vmap_and_loop_give_the_same_conv4_meta_gradient():
    """The GPU path (vmap over tasks) and the CPU path (a loop) compute the same thing."""
    from core.networks import Conv4

    torch.manual_seed(0)
    net = Conv4(hidden=8).eval()
    features = maml.make_features_fn(net)
    params, buffers = maml.split_state(net)
    g = torch.Generator().manual_seed(0)
    sx, qx = torch.rand(2, 6, 1, 28, 28, generator=g), torch.rand(2, 6, 1, 28, 28, generator=g)
    y = F.one_hot(torch.arange(6) % 3, 3).float().expand(2, -1, -1)
    grads = []
    for vectorize in (False, True):
        leaves = {k: v.clone().requires_grad_() for k, v in params.items()}
        loss, _ = maml.meta_loss(
            features, leaves, buffers, sx, y, qx, y, maml.InnerLoop(1, 0.01), vectorize
        )
        loss.backward()
        grads.append({k: v.grad for k, v in leaves.items()})
    torch.testing.assert_close(grads[0], grads[1], rtol=1e-4, atol=1e-6)


def test_per_class_head_steps_move_the_head_as_far_for_any_number_of_classes():
    """head_lr_per_class multiplies the classifier's step sizes by N. From a zero head one
    step sets row k to lr_head * (class k's mean feature - the mean feature): the same
    for 2 and 20 classes, where plain steps give that divided by N. With head rates / N it
    equals the plain loop exactly, so a model meta-trained on N-way tasks can switch."""
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(3, 4), nn.Tanh()).eval()
    features = maml.make_features_fn(net)
    params, buffers = maml.split_state(net)
    names = [*params, maml.HEAD_WEIGHT, maml.HEAD_BIAS]
    rates = dict.fromkeys(names, 0.3)
    for ways in (2, 5, 20):
        x = torch.randn(ways * 3, 3, generator=torch.Generator().manual_seed(ways))
        one_hot = F.one_hot(torch.arange(ways * 3) % ways, ways).float()
        f = features(params, buffers, x)
        expected = 0.3 * ((one_hot.T @ f) / one_hot.sum(0)[:, None] - f.mean(0))
        per_class = maml.InnerLoop(1, rates, head_init="zero", head_lr_per_class=True)
        plain = maml.InnerLoop(1, rates, head_init="zero")
        moved = maml.inner_loop(features, params, buffers, x, one_hot, per_class)
        torch.testing.assert_close(moved[maml.HEAD_WEIGHT], expected)
        still = maml.inner_loop(features, params, buffers, x, one_hot, plain)
        torch.testing.assert_close(still[maml.HEAD_WEIGHT], expected / ways)
        # Head rates / N with per-class steps == the plain loop, every step, trace included.
        scaled = {**rates, maml.HEAD_WEIGHT: 0.3 / ways, maml.HEAD_BIAS: 0.3 / ways}
        same = maml.InnerLoop(3, scaled, head_init="zero", head_lr_per_class=True)
        a = maml.adapt_with_trace(features, params, buffers, x, one_hot, same)
        b = maml.adapt_with_trace(features, params, buffers, x, one_hot, replace(plain, steps=3))
        for key in a.params:
            torch.testing.assert_close(a.params[key], b.params[key])
        assert [r.support_loss for r in a.trace] == pytest.approx([r.support_loss for r in b.trace])


def test_zero_head_step_is_the_first_gradient_step_and_leaves_the_backbone():
    """From the zero head the first step's head is the closed form, and the backbone's
    gradient is exactly zero, so θ is the backbone after it."""
    net, sx, sy, _, _ = tiny()
    features = maml.make_features_fn(net)
    params, buffers = maml.split_state(net)
    rates = {"0.weight": 0.3, "0.bias": 0.2, maml.HEAD_WEIGHT: 0.5, maml.HEAD_BIAS: 0.7}
    config = maml.InnerLoop(1, rates, head_init="zero")
    start = {**params, maml.HEAD_WEIGHT: torch.zeros(WAYS, 4), maml.HEAD_BIAS: torch.zeros(WAYS)}
    for labels in (sy[0], F.one_hot(torch.tensor([0, 0, 0, 1, 2, 2]), WAYS).float()):  # uneven

        def loss(p, labels=labels):
            return maml._summed_support_loss(features, p, buffers, sx[0], labels)

        grads = torch.func.grad(loss)(start)
        assert all(float(grads[k].abs().max()) == 0.0 for k in params)
        head = maml.zero_head_step(features(params, buffers, sx[0]), labels, config)
        assert float(grads[maml.HEAD_WEIGHT].abs().max()) > 0
        for name in (maml.HEAD_WEIGHT, maml.HEAD_BIAS):
            torch.testing.assert_close(head[name], -rates[name] * grads[name])
        # every class weighs the same in the support loss: the bias does not move
        torch.testing.assert_close(head[maml.HEAD_BIAS], torch.zeros(WAYS))


def test_the_support_loss_weighs_every_class_the_same_and_the_query_loss_every_image():
    """With 3, 1 and 2 examples, each class's examples share one third of the support loss;
    with even shots it is the plain mean. The query loss stays the mean over images."""
    logits = torch.randn(6, 3, generator=torch.Generator().manual_seed(0))
    labels = torch.tensor([0, 0, 0, 1, 2, 2])
    one_hot = F.one_hot(labels, 3).float()
    per_image = F.cross_entropy(logits, labels, reduction="none")
    by_class = torch.stack([per_image[labels == c].mean() for c in range(3)]).mean()
    torch.testing.assert_close(maml.support_loss(logits, one_hot), by_class)
    assert abs(float(by_class - per_image.mean())) > 1e-3  # the two differ here
    torch.testing.assert_close(maml.soft_cross_entropy(logits, one_hot), per_image.mean())
    even = F.one_hot(torch.tensor([0, 1, 2, 0, 1, 2]), 3).float()
    torch.testing.assert_close(
        maml.support_loss(logits, even), maml.soft_cross_entropy(logits, even)
    )


@pytest.mark.parametrize("group", [8, 2], ids=["one-group", "groups-of-2"])
@pytest.mark.parametrize("first_order", [False, True], ids=["second", "first"])
def test_conv4_meta_gradient_is_the_same_grouped_vectorized_and_task_by_task(
    first_order, group, monkeypatch
):
    """The CPU path (closed-form first step for all tasks, the remaining steps as grouped
    convolutions over TASKS_PER_GROUP tasks: here all 3, or 2 then 1), the vmap path and
    task_loss one task at a time agree in float64, with the shipped kind of inner loop:
    per-tensor rates, per-class head steps, 3 steps."""
    from core.networks import Conv4

    monkeypatch.setattr(maml, "TASKS_PER_GROUP", group)

    torch.manual_seed(0)
    net = Conv4(hidden=8).double().eval()
    features = maml.make_features_fn(net)
    assert hasattr(features, "over_tasks")
    params, buffers = maml.split_state(net)
    names = [*params, maml.HEAD_WEIGHT, maml.HEAD_BIAS]
    rates = {k: 0.05 + 0.01 * i for i, k in enumerate(names)}
    config = maml.InnerLoop(3, rates, first_order, "zero", head_lr_per_class=True)
    g = torch.Generator().manual_seed(0)
    sx = torch.rand(3, 6, 1, 28, 28, generator=g, dtype=torch.float64)
    qx = torch.rand(3, 9, 1, 28, 28, generator=g, dtype=torch.float64)
    sy = F.one_hot(torch.arange(6) % 3, 3).double().expand(3, -1, -1)
    qy = F.one_hot(torch.arange(9) % 3, 3).double().expand(3, -1, -1)

    def meta_gradient(loss_of):
        leaves = {k: v.clone().requires_grad_() for k, v in params.items()}
        loss_of(leaves).backward()
        return {k: v.grad for k, v in leaves.items()}

    grouped, vectorized = (
        meta_gradient(
            lambda p, v=v: maml.meta_loss(features, p, buffers, sx, sy, qx, qy, config, v)[0]
        )
        for v in (False, True)
    )
    one_by_one = meta_gradient(
        lambda p: torch.stack(
            [maml.task_loss(features, p, buffers, *task, config)[0] for task in zip(sx, sy, qx, qy)]
        ).mean()
    )
    assert all(float(v.abs().sum()) > 0 for v in grouped.values())
    torch.testing.assert_close(grouped, vectorized)
    torch.testing.assert_close(grouped, one_by_one)


def test_head_rates_of_a_plain_source_are_converted_to_per_class_at_its_training_ways():
    from core.training.trainer import source_inner_rates

    names = ["a", maml.HEAD_WEIGHT, maml.HEAD_BIAS]
    card = {
        "algorithm": "maml",
        "maml": {"lr": {"a": 0.2, maml.HEAD_WEIGHT: 0.5, maml.HEAD_BIAS: 0.1}},
        "training": {"config": {"ways": [5]}},
    }
    assert source_inner_rates(card, names) == card["maml"]["lr"]
    # per-class head rates: the source's head rates / its training N, the backbone's as they are
    assert source_inner_rates(card, names, per_class=True) == pytest.approx(
        {"a": 0.2, maml.HEAD_WEIGHT: 0.1, maml.HEAD_BIAS: 0.02}
    )
    card["maml"]["head_lr_per_class"] = True  # per class already: taken as they are
    assert source_inner_rates(card, names, per_class=True) == card["maml"]["lr"]


def test_divergence_names_the_first_step_that_is_not_a_number():
    def record(step, loss, probability=0.5):
        return maml.StepRecord(step, loss, 1.0, torch.tensor([[probability, 1 - probability]]))

    steady = [record(0, 0.69), record(1, 0.2), record(2, 0.1)]
    assert maml.divergence(steady) is None
    blown = [record(0, 0.69), record(1, 0.3), record(2, 5e6), record(3, float("nan"))]
    found = maml.divergence(blown)
    assert found == maml.Divergence(step=3, lowest_step=1, lowest=0.3, last=5e6)
    assert found.sentence().startswith("The inner steps diverged at step 3: the loss grew from")
    assert "0.3 (step 1) to 5e+06 (step 2)" in found.sentence()
    # A finite loss with probabilities that are not numbers diverged too.
    nan_probability = [record(0, 0.69), record(1, 0.4, float("nan"))]
    assert maml.divergence(nan_probability).step == 1
    with pytest.raises(ValueError, match="starting point"):
        maml.divergence([record(0, float("inf"))])


@pytest.mark.parametrize("uneven", [False, True], ids=["even", "uneven"])
def test_one_step_from_zero_is_the_class_mean_classifier(uneven):
    """With as many examples per class or not (the support loss weighs every class the
    same), the first step's answers from the zero head equal the class-mean classifier's on
    every query (issue 28: what one step from zero is)."""
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(6, 5), nn.Tanh()).eval()
    features = maml.make_features_fn(net)
    params, buffers = maml.split_state(net)
    names = [*params, maml.HEAD_WEIGHT, maml.HEAD_BIAS]
    for ways in (2, 5, 20):
        labels = torch.arange(ways * 3) % ways
        if uneven:  # class k has 1 + (k % 4) examples
            labels = torch.cat([torch.full((1 + k % 4,), k) for k in range(ways)])
        x = torch.randn(len(labels), 6, generator=torch.Generator().manual_seed(ways))
        queries = torch.randn(40, 6, generator=torch.Generator().manual_seed(100 + ways))
        loop = maml.InnerLoop(1, dict.fromkeys(names, 0.7), head_init="zero")
        adapted = maml.adapt_with_trace(
            features, params, buffers, x, F.one_hot(labels, ways).float(), loop, query_x=queries
        )
        first_step = adapted.trace[1].query_probabilities.argmax(-1)
        expected = maml.class_mean_verdicts(
            features(params, buffers, x), labels, features(params, buffers, queries)
        )
        assert torch.equal(first_step, expected)
        assert len(set(expected.tolist())) > 1  # the queries are not all one class
        # the rows themselves: 0.7 / N (c_k - the mean of the class means), bias 0
        support = features(params, buffers, x)
        means = torch.stack([support[labels == k].mean(0) for k in range(ways)])
        rows = 0.7 / ways * (means - means.mean(0))
        torch.testing.assert_close(adapted.params[maml.HEAD_WEIGHT], rows)
        torch.testing.assert_close(adapted.params[maml.HEAD_BIAS], torch.zeros(ways))
