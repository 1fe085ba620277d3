"""Tests of lab.toy: the toy tasks, the vectorised MAML and, above all, that it learns.

The learning tests train once per module (fixed seed, default settings) and compare the
post-adaptation query loss of three starting points on 100 new tasks (Finn et al. 2017,
figure 2: MAML adapts, a network pretrained on all tasks does not).
"""

from __future__ import annotations

import math

import pytest
import torch

from lab import toy
from lab.toy import figures

EVAL_SEED = 2024  # new tasks, a stream no training run draws from


# ----------------------------------------------------------------------------------------------
# Tasks


def test_sine_tasks_follow_finn_et_al():
    tasks = toy.sample_sine_tasks(500, 10, 7, toy.make_generator(0))
    assert tasks.support_inputs.shape == (500, 10, 1)
    assert tasks.query_targets.shape == (500, 7, 1)
    amplitude, phase = tasks.task_params["amplitude"], tasks.task_params["phase"]
    assert 0.1 <= amplitude.min() and amplitude.max() <= 5.0
    assert 0.0 <= phase.min() and phase.max() <= math.pi
    assert tasks.support_inputs.abs().max() <= 5.0
    expected = amplitude[:, None, None] * torch.sin(tasks.query_inputs - phase[:, None, None])
    torch.testing.assert_close(tasks.query_targets, expected)


def test_same_seed_same_tasks_other_seed_other_tasks():
    first = toy.sample_sine_tasks(3, 5, 5, toy.make_generator(7))
    again = toy.sample_sine_tasks(3, 5, 5, toy.make_generator(7))
    other = toy.sample_sine_tasks(3, 5, 5, toy.make_generator(8))
    torch.testing.assert_close(first.support_inputs, again.support_inputs)
    assert not torch.equal(first.support_inputs, other.support_inputs)


@pytest.mark.parametrize("family", ["blobs", "linear"])
def test_plane_tasks_are_balanced_and_separable(family):
    tasks = toy.sample_plane_tasks(family, 50, 5, 8, toy.make_generator(1))
    assert tasks.support_inputs.shape == (50, 10, 2)
    assert tasks.query_inputs.shape == (50, 16, 2)
    assert tasks.support_targets.sum().item() == 50 * 5  # half of every support set is class 1
    centre, normal = tasks.task_params["centre"], tasks.task_params["normal"]
    torch.testing.assert_close(normal.norm(dim=-1), torch.ones(50))
    side = ((tasks.query_inputs - centre[:, None]) * normal[:, None]).sum(-1) > 0  # (T, Q)
    agreement = (side.float() == tasks.query_targets[..., 0]).float().mean().item()
    # Linear tasks lie on their side of the boundary by construction; blobs almost always.
    assert agreement == 1.0 if family == "linear" else agreement > 0.97


def test_true_plane_labels_match_the_sampled_labels_of_linear_tasks():
    tasks = toy.sample_plane_tasks("linear", 1, 10, 10, toy.make_generator(3))
    labels = toy.true_plane_labels(tasks, tasks.query_inputs[0])
    assert torch.equal(labels, tasks.query_targets[0, :, 0].long())


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"family": "spiral"}, "spiral"),
        ({"shots": 0}, "shots must be at least 1, got 0"),
        ({"inner_lr": -0.1}, "inner_lr must be positive, got -0.1"),
        ({"meta_steps": -5}, "meta_steps must be at least 0, got -5"),
    ],
)
def test_bad_config_values_are_named(kwargs, message):
    with pytest.raises(ValueError, match=message):
        toy.ToyConfig(**kwargs)


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="num_tasks must be at least 1, got 0"):
        toy.sample_sine_tasks(0, 5, 5, toy.make_generator(0))
    with pytest.raises(ValueError, match="'sine'"):
        toy.sample_plane_tasks("sine", 1, 5, 5, toy.make_generator(0))
    with pytest.raises(ValueError, match="resolution must be at least 2, got 1"):
        toy.plane_grid(1)


# ----------------------------------------------------------------------------------------------
# The functional MLP and the inner loop


def test_mlp_matches_torch_nn_with_the_same_weights():
    params = toy.init_mlp_params(1, 40, toy.make_generator(0))
    reference = torch.nn.Sequential(
        torch.nn.Linear(1, 40),
        torch.nn.ReLU(),
        torch.nn.Linear(40, 40),
        torch.nn.ReLU(),
        torch.nn.Linear(40, 1),
    )
    with torch.no_grad():
        for index, layer in zip((0, 2, 4), ("1", "2", "3")):
            reference[index].weight.copy_(params[f"w{layer}"])
            reference[index].bias.copy_(params[f"b{layer}"])
    inputs = torch.linspace(-5, 5, 11).unsqueeze(-1)
    torch.testing.assert_close(toy.mlp_forward(params, inputs), reference(inputs))


def test_batched_inner_loop_equals_one_task_at_a_time():
    config = toy.default_config("sine", inner_lr=0.05)
    params = toy.init_mlp_params(1, 40, toy.make_generator(0))
    tasks = toy.sample_sine_tasks(4, 10, 10, toy.make_generator(1))
    adapted, losses = toy.adapt_tasks(
        config, params, tasks.support_inputs, tasks.support_targets, 3, create_graph=False
    )
    assert len(losses) == 4 and losses[0].shape == (4,)
    for index in range(4):
        trace = toy.adapt(
            config, params, tasks.support_inputs[index], tasks.support_targets[index], 3
        )
        for name, value in trace.params[-1].items():
            torch.testing.assert_close(adapted[name][index], value, atol=1e-5, rtol=1e-5)
        assert trace.support_losses[-1] == pytest.approx(losses[-1][index].item(), rel=1e-4)


def test_adapt_one_step_is_one_hand_computed_gradient_step():
    config = toy.default_config("sine", inner_lr=0.1)
    params = toy.init_mlp_params(1, 8, toy.make_generator(0))
    inputs, targets = torch.tensor([[0.5], [-1.0]]), torch.tensor([[1.0], [0.0]])
    leaves = {n: v.detach().requires_grad_() for n, v in params.items()}
    loss = ((toy.mlp_forward(leaves, inputs) - targets) ** 2).mean()
    grads = torch.autograd.grad(loss, list(leaves.values()))
    trace = toy.adapt(config, params, inputs, targets, 1)
    for (name, value), grad in zip(params.items(), grads):
        torch.testing.assert_close(trace.params[1][name], value.detach() - 0.1 * grad)
    assert trace.support_losses[0] == pytest.approx(loss.item())
    assert trace.support_losses[1] < trace.support_losses[0]


def test_adapt_leaves_the_starting_point_unchanged():
    config = toy.default_config("blobs")
    params = toy.random_init(config)
    before = {name: value.clone() for name, value in params.items()}
    task = toy.sample_tasks(config, 1, toy.make_generator(5))
    trace = toy.adapt(
        config,
        params,
        task.support_inputs[0],
        task.support_targets[0],
        4,
        task.query_inputs[0],
        task.query_targets[0],
    )
    assert trace.steps == 4
    assert len(trace.support_losses) == len(trace.query_losses) == 5
    assert len(trace.query_accuracies) == 5
    for name, value in params.items():
        assert torch.equal(value, before[name])


def test_second_order_meta_gradient_reaches_the_initialisation_and_differs_from_first_order():
    """The learn2learn check: the meta-gradient flows back through the inner step to theta."""
    config = toy.default_config("sine", inner_lr=0.1)
    tasks = toy.sample_sine_tasks(3, 10, 10, toy.make_generator(1))

    def meta_gradient(create_graph: bool) -> torch.Tensor:
        params = toy.init_mlp_params(1, 40, toy.make_generator(0))
        adapted, _ = toy.adapt_tasks(
            config, params, tasks.support_inputs, tasks.support_targets, 2, create_graph
        )
        loss = toy.per_task_loss(
            config, toy.mlp_forward(adapted, tasks.query_inputs), tasks.query_targets
        ).mean()
        loss.backward()
        return params["w2"].grad

    second, first = meta_gradient(True), meta_gradient(False)
    assert second is not None and second.abs().sum() > 0
    assert not torch.allclose(second, first)


def test_meta_train_reports_every_step_and_can_be_stopped():
    config = toy.default_config("sine", meta_steps=50)
    seen = []
    result = toy.meta_train(
        config,
        callback=lambda step, loss: seen.append((step, loss)),
        should_stop=lambda: len(seen) >= 7,
    )
    assert result.stopped and len(result.losses) == 7
    assert [step for step, _ in seen] == list(range(1, 8))
    assert all(not value.requires_grad for value in result.params.values())


def test_diverging_training_says_which_setting_to_lower():
    config = toy.default_config("sine", inner_lr=1.0, inner_steps=5, meta_steps=20)
    with pytest.raises(ValueError, match="meta-loss became .* lower the learning rates"):
        toy.meta_train(config)


def test_meta_train_is_repeatable_with_a_fixed_seed():
    config = toy.default_config("sine", meta_steps=5, meta_batch_size=4)
    first, again = toy.meta_train(config), toy.meta_train(config)
    assert first.losses == again.losses
    for name in first.params:
        assert torch.equal(first.params[name], again.params[name])


# ----------------------------------------------------------------------------------------------
# ProtoNet on the plane


def test_protonet_prototypes_are_class_means_and_regions_split_at_the_bisector():
    support = torch.tensor([[-2.0, 0.0], [-2.0, 2.0], [2.0, 0.0], [2.0, 2.0]])
    labels = torch.tensor([[0.0], [0.0], [1.0], [1.0]])
    axis, grid = toy.plane_grid(5, (-2.0, 2.0))
    queries = torch.tensor([[-0.5, 9.0], [0.5, -9.0]])
    result = toy.protonet_on_plane(support, labels, grid, queries, torch.tensor([0, 1]))
    torch.testing.assert_close(result.prototypes, torch.tensor([[-2.0, 1.0], [2.0, 1.0]]))
    expected = (grid[:, 0] > 0).long()  # the bisector of the prototypes is x1 = 0
    off_boundary = grid[:, 0] != 0
    assert torch.equal(result.grid_labels[off_boundary], expected[off_boundary])
    assert result.query_accuracy == 1.0
    assert axis.shape == (5,) and grid.shape == (25, 2)


# ----------------------------------------------------------------------------------------------
# Learning: the numbers the playground promises


@pytest.fixture(scope="module")
def sine_lesson():
    """Default sine lesson (fixed seed); a few seconds of training on two cores."""
    config = toy.default_config("sine")
    maml = toy.meta_train(config)
    pretrained = toy.pretrain(config)
    starts = {
        "MAML": maml.params,
        "Pretrained": pretrained.params,
        "Random": toy.random_init(config),
    }
    losses = {
        name: toy.evaluate(config, params, 100, config.eval_inner_steps, EVAL_SEED).losses
        for name, params in starts.items()
    }
    return config, maml, losses


def test_maml_meta_loss_goes_down(sine_lesson):
    _, maml, _ = sine_lesson
    first, last = maml.losses[:100], maml.losses[-100:]
    assert sum(last) / 100 < 0.5 * sum(first) / 100


def test_maml_fits_new_sines_and_the_baselines_do_not(sine_lesson):
    """Post-adaptation MSE on 100 new sine tasks, K = 10 points, 10 inner steps."""
    config, _, losses = sine_lesson
    maml, pretrained, random = (losses[n][-1] for n in ("MAML", "Pretrained", "Random"))
    print(
        f"\nsine post-adaptation MSE on 100 new tasks ({config.eval_inner_steps} steps, "
        f"K={config.shots}): MAML {maml:.3f} / pretrained {pretrained:.3f} / "
        f"random {random:.3f}"
    )
    assert maml < 0.6
    assert maml < 0.4 * pretrained
    assert maml < 0.4 * random
    # MAML's start is useless before adapting (it is not the mean function) but one step
    # fixes most of the error: the point of the method.
    assert losses["MAML"][1] < 0.5 * losses["MAML"][0]


@pytest.mark.parametrize("family", ["blobs", "linear"])
def test_maml_classifies_new_2d_tasks_after_a_few_steps(family):
    config = toy.default_config(family)
    maml = toy.meta_train(config)
    steps = config.eval_inner_steps
    learned = toy.evaluate(config, maml.params, 100, steps, EVAL_SEED)
    scratch = toy.evaluate(config, toy.random_init(config), 100, steps, EVAL_SEED)
    pretrained = toy.evaluate(config, toy.pretrain(config).params, 100, steps, EVAL_SEED)
    print(
        f"\n{family}: query accuracy on 100 new tasks after {steps} steps: "
        f"MAML {learned.accuracies[-1]:.3f} / pretrained {pretrained.accuracies[-1]:.3f} / "
        f"random {scratch.accuracies[-1]:.3f}"
    )
    assert learned.accuracies[-1] >= (0.95 if family == "blobs" else 0.88)
    assert learned.accuracies[1] > scratch.accuracies[1] + 0.2  # one step is already enough
    # The lesson shows: MAML's start beats both baselines after the lesson's steps, and
    # neither baseline solves the tasks in those few steps.
    for baseline in (scratch, pretrained):
        assert learned.accuracies[-1] > baseline.accuracies[-1] + 0.05
        assert baseline.accuracies[-1] < 0.95


def test_protonet_classifies_new_blob_tasks():
    config = toy.default_config("blobs")
    tasks = toy.sample_tasks(config, 100, toy.make_generator(EVAL_SEED))
    _, grid = toy.plane_grid(10)
    accuracies = [
        toy.protonet_on_plane(
            tasks.support_inputs[i],
            tasks.support_targets[i],
            grid,
            tasks.query_inputs[i],
            tasks.query_targets[i],
        ).query_accuracy
        for i in range(100)
    ]
    assert sum(accuracies) / 100 > 0.95


# ----------------------------------------------------------------------------------------------
# Figures hold the data they are given


def test_plane_figure_draws_regions_prototypes_supports_and_queries():
    config = toy.default_config("blobs")
    task = toy.sample_tasks(config, 1, toy.make_generator(0))
    axis, grid = toy.plane_grid(20)
    support, labels = task.support_inputs[0], task.support_targets[0]
    result = toy.protonet_on_plane(support, labels, grid, task.query_inputs[0])
    figure = figures.plane_step_figure(
        axis,
        result.grid_class1_probability,
        support,
        labels,
        task.query_inputs[0],
        task.query_targets[0],
        result.query_predictions,
        "ProtoNet",
        prototypes=result.prototypes,
    )
    symbols = {trace.marker.symbol for trace in figure.data if trace.type == "scatter"}
    assert {"circle", "diamond", "star"} <= symbols
    contour = figure.data[0]
    assert contour.type == "contour" and len(contour.z) == 20 and len(contour.z[0]) == 20
    stars = [t for t in figure.data if t.type == "scatter" and t.marker.symbol == "star"]
    assert stars[0].x[0] == pytest.approx(result.prototypes[0, 0].item())


def test_meta_loss_figure_smooths_and_validates():
    figure = figures.meta_loss_figure([4.0, 2.0, 0.0], total_steps=10, smoothing=2)
    assert list(figure.data[1].y) == [4.0, 3.0, 1.0]
    with pytest.raises(ValueError, match="smoothing must be at least 1, got 0"):
        figures.meta_loss_figure([1.0], smoothing=0)


def test_the_live_meta_loss_curve_is_thinned_but_keeps_the_last_step():
    losses = [float(step) for step in range(1000)]
    figure = figures.meta_loss_figure(losses, max_points=300)
    steps = list(figure.data[0].x)
    assert len(steps) <= 300 and steps[-1] == 1000  # the newest step is always drawn
    assert list(figure.data[1].y)[-1] == sum(losses[-50:]) / 50  # smoothed on every step
    assert len(figures.meta_loss_figure(losses).data[0].x) == 1000
    with pytest.raises(ValueError, match="max_points must be at least 2, got 1"):
        figures.meta_loss_figure(losses, max_points=1)
