"""Tests of core.networks: the fused conv + batch-norm forms equal the plain modules."""

from __future__ import annotations

import copy

import pytest
import torch
from torch import nn

from core import networks
from core.networks import Conv4, conv_bn_batch_stats, conv_bn_eval


def layer_pair(momentum: float | None, bias: bool = True) -> tuple[nn.Conv2d, nn.BatchNorm2d]:
    torch.manual_seed(0)
    conv = nn.Conv2d(1, 8, kernel_size=3, padding=1, bias=bias).double()
    bn = nn.BatchNorm2d(8, momentum=momentum).double()
    with torch.no_grad():  # not the identity defaults, so every term is exercised
        bn.weight.uniform_(0.5, 1.5)
        bn.bias.uniform_(-0.5, 0.5)
        bn.running_mean.uniform_(-1, 1)
        bn.running_var.uniform_(0.5, 2)
    return conv, bn


@pytest.mark.parametrize("momentum, bias", [(0.1, True), (None, True), (0.1, False)])
def test_patch_moment_batch_norm_equals_conv_then_batch_norm(momentum, bias):
    conv, bn = layer_pair(momentum, bias)
    ref_conv, ref_bn = copy.deepcopy(conv), copy.deepcopy(bn)
    x = torch.rand(6, 1, 11, 9, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    target = torch.randn(6, 8, 11, 9, dtype=torch.float64)
    for _ in range(2):  # twice: the running statistics' update is checked after each step
        ours = conv_bn_batch_stats(x, conv, bn)
        reference = ref_bn(ref_conv(x))
        torch.testing.assert_close(ours, reference, rtol=1e-10, atol=1e-10)
        (ours * target).sum().backward()
        (reference * target).sum().backward()
        for mine, theirs in [(conv, ref_conv), (bn, ref_bn)]:
            for (name, p), q in zip(mine.named_parameters(), theirs.parameters()):
                torch.testing.assert_close(p.grad, q.grad, rtol=1e-8, atol=1e-10, msg=name)
        for name in ("running_mean", "running_var", "num_batches_tracked"):
            torch.testing.assert_close(getattr(bn, name), getattr(ref_bn, name), msg=name)
    assert bn.num_batches_tracked.item() == 2


def test_conv4_training_forward_uses_patch_moments_and_matches_plain_modules(monkeypatch):
    torch.manual_seed(0)
    net = Conv4().double().train()
    plain = copy.deepcopy(net)
    x = torch.rand(20, 1, 28, 28, dtype=torch.float64)
    called = []
    real = networks.conv_bn_batch_stats
    monkeypatch.setattr(networks, "conv_bn_batch_stats", lambda *a: called.append(1) or real(*a))
    ours = net(x)
    assert called == [1]  # the 1-channel first layer only: 64 x 9 taps is too many
    monkeypatch.setattr(networks, "_MAX_TAPS_FOR_PATCH_MOMENTS", 0)
    reference = plain(x)
    torch.testing.assert_close(ours, reference, rtol=1e-9, atol=1e-9)
    ours.square().sum().backward()
    reference.square().sum().backward()
    largest = max(float(q.grad.norm()) for q in plain.parameters())
    for (name, p), q in zip(net.named_parameters(), plain.parameters()):
        # A conv bias before batch norm has zero gradient, up to rounding in the plain form.
        scale = max(float(q.grad.norm()), 1e-3 * largest)
        assert float((p.grad - q.grad).norm()) / scale < 1e-8, name


def test_eval_mode_folding_equals_conv_then_stored_batch_norm():
    conv, bn = layer_pair(0.1)
    bn.eval()
    x = torch.rand(3, 1, 8, 8, dtype=torch.float64)
    torch.testing.assert_close(conv_bn_eval(x, conv, bn), bn(conv(x)), rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize(
    "net, x",
    [
        (Conv4(hidden=8), torch.rand(3, 1, 28, 28)),
        (
            networks.FeatureHead(6, 4, center=True, normalize_output=True, power=0.5),
            torch.rand(3, 6),
        ),
        (networks.FeatureHead(6, 4, hidden=5, normalize=True), torch.randn(3, 6)),
    ],
    ids=["conv4", "linear-head", "mlp-head"],
)
def test_functional_forward_equals_the_module_with_swapped_weights(net, x):
    torch.manual_seed(0)
    net.eval()
    for name, buffer in net.named_buffers():
        if name.endswith("running_mean"):
            buffer.normal_(0.0, 0.1)
        elif buffer.is_floating_point():
            buffer.uniform_(0.5, 1.5)
    params = {k: v.detach() + 0.1 * torch.randn_like(v) for k, v in net.named_parameters()}
    buffers = dict(net.named_buffers())
    with torch.no_grad():
        own = net.functional_forward(dict(net.named_parameters()), buffers, x)
        torch.testing.assert_close(own, net(x), rtol=1e-5, atol=1e-5)
        swapped = torch.func.functional_call(net, (params, buffers), (x,))
        torch.testing.assert_close(net.functional_forward(params, buffers, x), swapped)
        assert not torch.allclose(swapped, own)  # the given weights were used, not the module's


def test_maml_features_of_a_backbone_network_do_not_wait_for_the_module_lock():
    import threading

    from core import maml

    net = Conv4(hidden=8).eval()
    features = maml.make_features_fn(net)
    params, buffers = maml.split_state(net)
    done = threading.Event()
    with maml.module_lock(net):  # held by "another session" for as long as this test runs
        worker = threading.Thread(
            target=lambda: (features(params, buffers, torch.rand(2, 1, 28, 28)), done.set())
        )
        worker.start()
        assert done.wait(timeout=30), "the features call waited for the module lock"
    worker.join()


@pytest.mark.parametrize("channels, size", [(1, 28), (3, 84)])
def test_functional_forward_over_tasks_equals_each_task_alone(channels, size):
    """One grouped pass over T tasks, each with its own weights, gives each task's own
    features: the layout (B, T*C, H, W) keeps the tasks' channels apart at every layer."""
    torch.manual_seed(0)
    net = Conv4(channels, hidden=8).double().eval()
    for name, buffer in net.named_buffers():
        if name.endswith("running_mean"):
            buffer.normal_(0.0, 0.1)
        elif buffer.is_floating_point():
            buffer.uniform_(0.5, 1.5)
    buffers = dict(net.named_buffers())
    tasks = 3
    params = {
        k: v.detach() + 0.1 * torch.randn(tasks, *v.shape, dtype=v.dtype)
        for k, v in net.named_parameters()
    }
    x = torch.rand(tasks, 4, channels, size, size, dtype=torch.float64)
    together = net.functional_forward_tasks(params, buffers, x)
    assert together.shape == (tasks, 4, 8 * (size // 16) ** 2)
    for t in range(tasks):
        alone = net.functional_forward({k: v[t] for k, v in params.items()}, buffers, x[t])
        torch.testing.assert_close(together[t], alone)
    assert not torch.allclose(together[0], together[1])
