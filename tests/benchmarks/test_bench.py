"""benchmarks: what it times is the computation it claims (checked against references written
here), its JSON has the documented fields, and it works without the peer libraries. Only the
comparison with the peers themselves needs them installed. No wall-clock assertions."""

import json
import os

import pytest
import torch
import torch.nn.functional as F

from benchmarks import common, compare, latency, peers, reference, rows, scaling, tasks
from benchmarks import maml as maml_bench
from benchmarks import protonet as protonet_bench
from core import maml
from core.networks import Conv4

HIDDEN, LR = 8, 0.4


def require_peers() -> None:
    """Skip without learn2learn and easyfsl; in CI (CI=true) their absence is a failure."""
    if peers.peers_available():
        return
    message = "peers not installed: bash benchmarks/install-peers.sh .venv/bin/python"
    if os.environ.get("CI") == "true":
        pytest.fail(message)
    pytest.skip(message)


def small_config(**overrides) -> common.BenchConfig:
    settings = dict(
        repeats=1,
        hidden=HIDDEN,
        meta_batch=2,
        maml_queries=3,
        proto_ways=5,
        proto_shots=2,
        proto_queries=2,
        latency_maml_steps=1,
        maml_settings=((1, False), (2, True)),
    )
    return common.BenchConfig(**{**settings, **overrides})


def reference_maml_gradient(net, batch, steps, first_order):
    """MAML by hand on the textbook Conv-4: autograd.grad inner steps, zero head per task."""
    params = [p.detach().clone().requires_grad_() for p in net.parameters()]
    names = [n for n, _ in net.named_parameters()]
    tasks = batch.support.shape[0]
    total = 0.0
    for t in range(tasks):
        fast = list(params)
        head_w = torch.zeros(batch.ways, HIDDEN, dtype=batch.support.dtype, requires_grad=True)
        head_b = torch.zeros(batch.ways, dtype=batch.support.dtype, requires_grad=True)
        for _ in range(steps):
            feats = torch.func.functional_call(net, dict(zip(names, fast)), (batch.support[t],))
            loss = F.cross_entropy(feats @ head_w.T + head_b, batch.support_labels[t])
            grads = torch.autograd.grad(loss, [*fast, head_w, head_b], create_graph=not first_order)
            fast = [p - LR * g for p, g in zip(fast, grads[:-2])]
            head_w, head_b = head_w - LR * grads[-2], head_b - LR * grads[-1]
        feats = torch.func.functional_call(net, dict(zip(names, fast)), (batch.query[t],))
        total = total + F.cross_entropy(feats @ head_w.T + head_b, batch.query_labels[t])
    (total / tasks).backward()
    return {n: p.grad for n, p in zip(names, params)}


@pytest.mark.parametrize("steps, first_order", [(1, False), (2, False), (2, True)])
def test_our_maml_step_equals_hand_written_reference(steps, first_order):
    config = small_config()
    ours = common.seeded_conv4(HIDDEN, seed=0)
    reference_net = peers.textbook_copy(ours, HIDDEN).eval()
    batch = tasks.maml_batch(config, torch.Generator().manual_seed(1))
    loop = maml.InnerLoop(steps, LR, first_order, head_init="zero")
    optimizer = torch.optim.SGD(ours.parameters(), lr=0.0)
    _, grads = maml_bench.ours_maml_step(ours, optimizer, batch, loop)
    reference = reference_maml_gradient(reference_net, batch, steps, first_order)
    assert common.relative_errors(grads, reference) < 1e-4
    assert all(float(g.abs().sum()) > 0 for g in grads.values())


def test_our_protonet_training_step_equals_hand_written_reference():
    """The training formulation (one pass, patch-moment batch norm, squared distance) against
    the textbook written out here, in float64."""
    config = small_config()
    ours = common.seeded_conv4(HIDDEN, seed=0).double()
    reference_net = peers.textbook_copy(ours, HIDDEN).double().train()
    episode = tasks.proto_episode(config, torch.Generator().manual_seed(2)).float64()
    _, grads = protonet_bench.ours_training_step(
        ours, torch.optim.SGD(ours.parameters(), lr=0.0), episode
    )
    embedded = reference_net(torch.cat([episode.support, episode.query]))
    split = len(episode.support)
    support = embedded[:split].view(config.proto_ways, config.proto_shots, -1)
    prototypes = support.mean(1)  # (N, D); labels are grouped by class
    logits = -((embedded[split:, None] - prototypes[None]) ** 2).sum(-1)
    F.cross_entropy(logits, episode.query_labels).backward()
    reference = {n: p.grad for n, p in reference_net.named_parameters()}
    assert common.relative_errors(grads, reference) < 1e-10


@pytest.mark.parametrize("head_init", ["zero", "proto"])
def test_bench_maml_reference_is_the_hand_written_one(head_init):
    """benchmarks.reference (the other side of the shipped row's check) against the
    reference of this file, for the zero head; ours against it for both head starts."""
    config = small_config()
    net = common.seeded_conv4(HIDDEN, seed=0)
    batch = tasks.maml_batch(config, torch.Generator().manual_seed(1)).float64()
    loop = maml.InnerLoop(2, LR, False, head_init=head_init)
    bench_reference = reference.reference_step(
        lambda model, optimizer, inputs: reference.maml_meta_step(model, optimizer, inputs, loop)
    )
    ours = lambda n, o, b: maml_bench.ours_maml_step(n, o, b, loop)  # noqa: E731
    check = peers.float64_check(config, net, batch, ours, bench_reference)
    assert check["equal"] and check["max_relative_grad_error"] < 1e-10, check
    if head_init == "zero":
        textbook = peers.textbook_copy(net, HIDDEN).double()
        _, grads = bench_reference.step(textbook, torch.optim.SGD(textbook.parameters(), 0), batch)
        by_hand = reference_maml_gradient(
            peers.textbook_copy(net, HIDDEN).double().eval(), batch, 2, False
        )
        assert common.relative_errors(grads, by_hand) < 1e-10


def test_shipped_row_uses_the_cards_inner_loop():
    from core.learner import load_model

    card = load_model(maml_bench.SHIPPED_MODEL).card["maml"]
    loop = maml_bench.shipped_inner_loop()
    assert (loop.head_init, loop.steps, loop.first_order) == (
        card["head_init"],
        card["steps"],
        False,
    )
    assert loop.lr == card["lr"]
    # Per-tensor rates (or a class-centre start) are not learn2learn's computation: the row
    # is checked against the hand-written reference and timed alone.
    row = maml_bench.maml_row(small_config(), loop, peers=True)
    assert not row.is_peer and row.against_name == "hand-written reference"
    assert "ours only, not compared" in row.computation
    assert "one inner rate only" in row.computation or "class-centre" in row.computation


def test_measure_checks_and_times_the_same_callable():
    """row.ours runs once in float64 (the check), then warm-up + repeats in float32 (the
    timing); a peer's step likewise; a reference's step only in the check."""
    config = small_config(repeats=2)
    calls = {"ours": [], "other": []}

    def recording(side, step):
        def run(model, optimizer, inputs):
            calls[side].append(inputs.support.dtype)
            return step(model, optimizer, inputs)

        return run

    ours = recording("ours", protonet_bench.ours_training_step)
    net = common.seeded_conv4(HIDDEN, seed=0)
    episode = tasks.proto_episode(config, torch.Generator().manual_seed(2))
    timed = [torch.float64] + [torch.float32] * 3
    for is_peer in (True, False):
        calls["ours"].clear(), calls["other"].clear()
        other = reference.reference_step(recording("other", reference.protonet_single_pass))
        row = rows.Row("r", ours, other, "x", is_peer, "c")
        entry = rows.measure(config, row, net, episode, episode.float64())
        assert calls["ours"] == timed
        assert calls["other"] == (timed if is_peer else [torch.float64])
        assert entry["check"]["equal"] and (entry["speedup"] is not None) == is_peer


def test_the_bench_rows_time_the_steps_the_docs_name():
    config = small_config()
    proto_rows = protonet_bench.protonet_rows(config, peers=False)
    assert [r.ours for r in proto_rows] == [
        protonet_bench.ours_easyfsl_step,
        protonet_bench.ours_training_step,
    ]
    assert [r.is_peer for r in proto_rows] == [True, False]
    assert proto_rows[1].against.step is reference.protonet_single_pass
    loop = maml_bench.shipped_inner_loop()
    assert maml_bench.maml_row(config, loop, peers=False).ours.keywords == {"loop": loop}


def test_easyfsl_step_equals_ours_in_float64():
    """The timed easyfsl row: two training-mode passes, Euclidean distance, both sides."""
    require_peers()
    config = small_config()
    net = common.seeded_conv4(HIDDEN, seed=0)
    episode = tasks.proto_episode(config, torch.Generator().manual_seed(2)).float64()
    check = peers.float64_check(
        config, net, episode, protonet_bench.ours_easyfsl_step, protonet_bench.easyfsl_step()
    )
    assert abs(check["ours_loss"] - check["peer_loss"]) < 1e-10 * abs(check["peer_loss"])
    assert check["max_relative_grad_error"] < 1e-10, check
    # the single-pass training step is a different computation: the check must see it
    other = peers.float64_check(
        config, net, episode, protonet_bench.ours_training_step, protonet_bench.easyfsl_step()
    )
    assert not other["equal"]


def test_fresh_latency_inputs_are_new_at_every_call():
    new_images = latency.fresh_inputs(latency.photo_images, 2, seed=0, calls=3)
    seen = [img.tobytes() for _ in range(3) for img in new_images()]
    assert len(set(seen)) == 6
    assert not {img.tobytes() for img in latency.photo_images(2, 0)} & set(seen)


@pytest.mark.parametrize("mode", ["train", "eval"])
def test_conv4_equals_the_textbook_layout(mode):
    """Folded batch norm, channels-last and pool-before-ReLU change speed, not results."""
    ours = common.seeded_conv4(HIDDEN, seed=4)
    textbook = peers.textbook_copy(ours, HIDDEN)
    ours.train(mode == "train")
    textbook.train(mode == "train")
    x = torch.rand(6, 1, 28, 28, generator=torch.Generator().manual_seed(5))
    a, b = ours(x), textbook(x)
    torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-5)
    (a**2).sum().backward()
    (b**2).sum().backward()
    grads = {n: p.grad for n, p in ours.named_parameters()}
    reference = {n: p.grad for n, p in textbook.named_parameters()}
    if mode == "train":
        # Batch statistics subtract the batch mean: a conv bias has zero gradient in exact
        # arithmetic, so both sides hold rounding noise there; compare the other tensors.
        scale = max(float(g.norm()) for g in reference.values())
        biases = [n for n in reference if n.endswith(".0.bias")]
        assert all(float(grads[n].norm()) < 1e-4 * scale for n in biases)
        reference = {n: g for n, g in reference.items() if n not in biases}
    assert common.relative_errors(grads, reference) < 1e-4
    assert isinstance(ours, Conv4) and ours.state_dict().keys() == textbook.state_dict().keys()


def test_json_has_the_fields_without_peers(monkeypatch, capsys):
    monkeypatch.setattr(peers, "peers_available", lambda: False)
    argv = [
        "--repeats",
        "1",
        "--hidden",
        "8",
        "--meta-batch",
        "2",
        "--maml-queries",
        "2",
        "--proto-ways",
        "5",
        "--latency-maml-steps",
        "1",
        "--threads",
        "1",
        "--models",
        "omniglot-protonet",
        "omniglot-maml",
        "--json",
    ]
    assert compare.main(argv) == 0
    shipped_loop = maml_bench.shipped_inner_loop()
    captured = capsys.readouterr()
    assert "install-peers.sh" in captured.err
    result = json.loads(captured.out)
    assert {"machine", "config", "load_average_before", "load_average_after"} <= result.keys()
    assert result["peers"] is None and result["checks_passed"] is None
    assert result["reference_checks_passed"] is True
    assert [(e["inner_steps"], e["first_order"], e["head_init"]) for e in result["maml"]] == [
        (1, False, "zero"),
        (5, False, "zero"),
        (1, True, "zero"),
        (shipped_loop.steps, False, shipped_loop.head_init),  # the shipped card's
    ]
    for entry in [*result["maml"], *result["protonet"]]:
        assert entry["ours_s"] > 0 and entry["peer_s"] is None and entry["speedup"] is None
        assert len(entry["ours_runs_s"]) == 1
        against_peer = entry["compared_with"] != "hand-written reference"
        assert (entry["check"] is None) == against_peer
    shipped = {e["model"]: e for e in result["latency"]}
    assert shipped.keys() == {"omniglot-protonet", "omniglot-maml"}
    assert shipped["omniglot-maml"]["inner_steps"] == 1
    assert all(e["ours_s"] > 0 and e["uncached_s"] > 0 for e in result["latency"])
    assert all(len(e["uncached_runs_s"]) == 1 for e in result["latency"])


def test_equal_to_the_peers_when_installed():
    require_peers()
    config = small_config()
    entries = [
        *maml_bench.bench_maml(config, peers=True),
        *protonet_bench.bench_protonet(config, peers=True),
    ]
    for entry in entries:
        assert entry["check"]["equal"], entry["check"]
        if entry["check"]["against_peer"]:
            assert entry["speedup"] > 0 and len(entry["peer_runs_s"]) == 1
        else:  # ours only: never presented as a speed-up
            assert entry["speedup"] is None and entry["peer_runs_s"] == []
    training = entries[-1]
    assert training["ratio_to_easyfsl_different_computation"] > 0
    assert "not the peer's computation" in compare.row_summary(training)


def test_peers_reported_missing_when_not_importable(monkeypatch):
    import builtins

    real_import = builtins.__import__

    def no_peers(name, *args, **kwargs):
        if name.startswith(("learn2learn", "easyfsl")):
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_peers)
    assert peers.peers_available() is False


def test_scaling_point_and_plot(tmp_path):
    spec = {
        "repeats": 1,
        "threads": 1,
        "seed": 0,
        "meta_batch": 1,
        "queries": 2,
        "axis": "ways",
        "algorithm": "maml",
        "inner_steps": 1,
        "ways": 3,
        "shots": 1,
    }
    point = scaling.measure_point(spec)
    assert point["seconds"] > 0 and point["peak_mib"] >= 0 and point["ways"] == 3
    rows = [
        {**point, "axis": axis, "algorithm": algorithm}
        for axis in ("inner_steps", "ways", "shots")
        for algorithm in ("maml", "protonet")
    ]
    scaling.plot_scaling(rows, tmp_path / "scaling.png", scaling.ScalingConfig())
    assert (tmp_path / "scaling.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    points = scaling.scaling_points(scaling.ScalingConfig())
    assert {p["axis"] for p in points} == {"inner_steps", "ways", "shots"}
