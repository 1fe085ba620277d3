"""The roofline benchmark's counting (benchmarks/roofline.py): FLOPs of known computations and
the operator families its time split reports."""

from __future__ import annotations

from functools import partial

import torch
import torch.nn.functional as F

from benchmarks import roofline


def test_flops_of_a_matrix_product_and_a_convolution_are_counted_exactly():
    a, b = torch.randn(64, 32), torch.randn(32, 16)
    assert roofline.counted_flops(lambda: a @ b) == 2 * 64 * 32 * 16
    x, w = torch.randn(2, 3, 10, 10), torch.randn(4, 3, 3, 3)
    # every output pixel: 3 x 3 x 3 multiply-adds, 2 x 4 x 8 x 8 outputs (no padding)
    assert roofline.counted_flops(lambda: F.conv2d(x, w)) == 2 * (3 * 3 * 3) * (2 * 4 * 8 * 8)


def test_backward_is_counted_too():
    a = torch.randn(64, 32, requires_grad=True)
    b = torch.randn(32, 16)
    forward = roofline.counted_flops(lambda: a @ b)
    both = roofline.counted_flops(lambda: (a @ b).sum().backward())
    assert both == 2 * forward  # the gradient of a: one more product of the same size


def test_operators_fall_in_their_families():
    assert roofline.family("aten::convolution_backward") == roofline.FAMILIES["conv"]
    assert roofline.family("aten::mkldnn_convolution") == roofline.FAMILIES["conv"]
    assert roofline.family("aten::native_batch_norm") == roofline.FAMILIES["batch_norm"]
    assert roofline.family("aten::max_pool2d_with_indices") == roofline.FAMILIES["max_pool"]
    assert roofline.family("aten::addmm") == roofline.FAMILIES["mm"]
    assert roofline.family("aten::add_").startswith("everything else")


def test_maml_flops_are_counted_on_the_same_arithmetic_one_task_at_a_time():
    """The roofline counts the MAML step's FLOPs with its inner steps one task at a time,
    because the counter overcounts a grouped convolution's backward; that form must be the
    same computation as the timed, grouped one, and its count smaller than the grouped count."""
    from benchmarks import maml as maml_bench
    from benchmarks.common import BenchConfig, seeded_conv4
    from benchmarks.tasks import maml_batch
    from core import maml

    config = BenchConfig(hidden=8, meta_batch=3, maml_queries=2)
    batch = maml_batch(config, torch.Generator().manual_seed(1))
    loop = maml.InnerLoop(3, 0.1, False, head_init="zero")
    results, counts = [], []
    for grouped in (True, False):
        net = seeded_conv4(8, seed=0).double()
        optimizer = torch.optim.SGD(net.parameters(), lr=0.0)
        step = partial(maml_bench.ours_maml_step, net, optimizer, batch.float64(3), loop, grouped)
        results.append(step())
        counts.append(roofline.counted_flops(step))
    torch.testing.assert_close(results[0][1], results[1][1])
    assert counts[1] < counts[0]
