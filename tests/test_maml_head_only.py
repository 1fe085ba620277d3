"""MAML whose inner loop adapts the classifier only (backbone step sizes all 0, as in ANIL):
the shortcut that computes the features once gives the general loop's loss and meta-gradient."""

import pytest
import torch
import torch.nn.functional as F

from core import maml
from core.networks import Conv4


def setup(dtype=torch.float64):
    torch.manual_seed(0)
    net = Conv4(hidden=8).to(dtype).eval()
    features = maml.make_features_fn(net)
    params, buffers = maml.split_state(net)
    g = torch.Generator().manual_seed(0)
    sx = torch.rand(3, 6, 1, 28, 28, generator=g, dtype=dtype)
    qx = torch.rand(3, 9, 1, 28, 28, generator=g, dtype=dtype)
    sy = F.one_hot(torch.arange(6) % 3, 3).to(dtype).expand(3, -1, -1)
    qy = F.one_hot(torch.arange(9) % 3, 3).to(dtype).expand(3, -1, -1)
    return features, params, buffers, sx, sy, qx, qy


def rates_with(backbone_rate, head_rate, params):
    names = [*params, maml.HEAD_WEIGHT, maml.HEAD_BIAS]
    head = (maml.HEAD_WEIGHT, maml.HEAD_BIAS)
    return {k: (head_rate if k in head else backbone_rate) for k in names}


def test_only_constant_zero_backbone_rates_take_the_shortcut():
    params = {"a": torch.zeros(1)}
    assert maml.adapts_head_only(rates_with(0.0, 0.3, params))
    assert maml.adapts_head_only(rates_with(torch.tensor(0.0), 0.3, params))
    assert not maml.adapts_head_only(rates_with(1e-6, 0.3, params))
    # a zero that is being meta-learned still needs its gradient: the general loop
    assert not maml.adapts_head_only(rates_with(torch.zeros((), requires_grad=True), 0.3, params))


@pytest.mark.parametrize("first_order", [False, True], ids=["second", "first"])
def test_head_only_meta_gradient_equals_the_general_loop(first_order):
    """Backbone rates 0.0 (shortcut) against zeros that require grad (the general loop, with
    a backbone pass per step); the head's learned rate gets the same gradient too."""
    features, params, buffers, sx, sy, qx, qy = setup()

    def meta_gradient(backbone_rate):
        leaves = {k: v.clone().requires_grad_() for k, v in params.items()}
        head_rate = torch.tensor(0.2, dtype=torch.float64, requires_grad=True)
        rates = rates_with(backbone_rate, head_rate, leaves)
        config = maml.InnerLoop(4, rates, first_order, "zero", head_lr_per_class=True)
        loss, _ = maml.meta_loss(features, leaves, buffers, sx, sy, qx, qy, config)
        loss.backward()
        return float(loss.detach()), {
            **{k: v.grad for k, v in leaves.items()},
            "rate": head_rate.grad,
        }

    calls = []
    network = features

    def counted(*args):
        calls.append(args[-1].shape[0])
        return network(*args)

    features = counted
    short_loss, short = meta_gradient(0.0)
    # the shortcut: one backbone pass over every task's support images, one over the queries
    assert calls == [3 * 6, 3 * 9], calls
    features = network
    general_loss, general = meta_gradient(torch.zeros((), dtype=torch.float64, requires_grad=True))
    assert short_loss == pytest.approx(general_loss, rel=1e-10)
    assert all(float(v.abs().sum()) > 0 for v in short.values())
    torch.testing.assert_close(short, general)


def test_head_only_inner_loop_leaves_the_backbone_and_matches_the_general_loop():
    features, params, buffers, sx, sy, _, _ = setup()
    zero = torch.zeros((), dtype=torch.float64, requires_grad=True)
    adapted = {}
    for label, backbone_rate in (("short", 0.0), ("general", zero)):
        config = maml.InnerLoop(
            5, rates_with(backbone_rate, 0.3, params), head_init="zero", head_lr_per_class=True
        )
        adapted[label] = maml.inner_loop(features, params, buffers, sx[0], sy[0], config)
    for name in params:
        assert torch.equal(adapted["short"][name], params[name])
    assert float(adapted["short"][maml.HEAD_WEIGHT].abs().sum()) > 0
    torch.testing.assert_close(
        {k: v.detach() for k, v in adapted["short"].items()},
        {k: v.detach() for k, v in adapted["general"].items()},
    )


def test_the_classifier_only_loop_is_convex_so_its_support_loss_never_rises():
    """Fixed features, a linear classifier, cross-entropy: a convex problem, and small enough
    steps lower the loss at every step (the trace that Inside MAML plots)."""
    features, params, buffers, sx, sy, _, _ = setup(torch.float32)
    config = maml.InnerLoop(10, rates_with(0.0, 0.05, params), head_init="zero",
                            head_lr_per_class=True)  # fmt: skip
    trace = maml.adapt_with_trace(features, params, buffers, sx[0], sy[0], config).trace
    losses = [r.support_loss for r in trace]
    assert losses[0] == pytest.approx(torch.log(torch.tensor(3.0)).item(), rel=1e-5)
    assert all(b < a for a, b in zip(losses, losses[1:])), losses


def test_the_trace_of_a_head_only_loop_equals_the_general_loops():
    """adapt_with_trace computes each image's features once when only the classifier moves;
    a backbone step size of 1e-30 (too small to move a float64 weight) takes the general loop,
    with a backbone pass per step: the same losses, probabilities and adapted head."""
    features, params, buffers, sx, sy, qx, _ = setup()
    traces = {}
    for label, backbone_rate in (("short", 0.0), ("general", 1e-30)):
        config = maml.InnerLoop(
            6, rates_with(backbone_rate, 0.3, params), head_init="zero", head_lr_per_class=True
        )
        traces[label] = maml.adapt_with_trace(
            features, params, buffers, sx[0], sy[0], config, query_x=qx[0], keep_features=True
        )
    short, general = traces["short"], traces["general"]
    assert [r.step for r in short.trace] == list(range(7))
    for a, b in zip(short.trace, general.trace):
        assert a.support_loss == pytest.approx(b.support_loss, rel=1e-9)
        torch.testing.assert_close(a.query_probabilities, b.query_probabilities)
        torch.testing.assert_close(a.support_features, b.support_features)
    assert short.trace[-1].support_loss < short.trace[0].support_loss
    torch.testing.assert_close(short.params, general.params)


def test_the_step_size_figure_shows_the_tensors_the_inner_loop_moves():
    """A log axis has no 0: a classifier-only model's figure has the classifier's two rows."""
    from lab.viz.inner_loop import step_sizes_figure

    start = {"encoder.0.0.weight": 0.0, "head.weight": 0.02, "head.bias": 0.02}
    learned = {"encoder.0.0.weight": 0.0, "head.weight": 0.03, "head.bias": 0.01}
    fig = step_sizes_figure(start, learned)
    rows = {y for trace in fig.data for y in trace.y}
    assert len(rows) == 2 and not any("0.0" in str(y) or "encoder" in str(y) for y in rows)
    assert sorted(x for x in fig.data[-1].x) == [0.01, 0.03]
    both = step_sizes_figure(
        {**start, "encoder.0.0.weight": 0.1}, {**learned, "encoder.0.0.weight": 0.2}
    )
    assert len({y for trace in both.data for y in trace.y}) == 3
