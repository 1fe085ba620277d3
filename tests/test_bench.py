"""core.bench: what it times is the computation it claims (checked against references written
here), its JSON has the documented fields, and it works without the peer libraries. Only the
comparison with the peers themselves needs them installed. No wall-clock assertions."""

import json

import pytest
import torch
import torch.nn.functional as F

from core import bench, maml
from core.backbones import Conv4

HIDDEN, LR = 8, 0.4


def small_config(**overrides) -> bench.BenchConfig:
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
    return bench.BenchConfig(**{**settings, **overrides})


def reference_maml_gradient(net, batch, steps, first_order):
    """MAML by hand on the textbook Conv-4: autograd.grad inner steps, zero head per task."""
    params = [p.detach().clone().requires_grad_() for p in net.parameters()]
    names = [n for n, _ in net.named_parameters()]
    tasks = batch.support.shape[0]
    total = 0.0
    for t in range(tasks):
        fast = list(params)
        head_w = torch.zeros(batch.ways, HIDDEN, requires_grad=True)
        head_b = torch.zeros(batch.ways, requires_grad=True)
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
    ours = bench.seeded_conv4(HIDDEN, seed=0)
    reference_net = bench.textbook_copy(ours, HIDDEN).eval()
    batch = bench.maml_batch(config, torch.Generator().manual_seed(1))
    loop = maml.InnerLoop(steps, LR, first_order, head_init="zero")
    optimizer = torch.optim.SGD(ours.parameters(), lr=0.0)
    _, grads = bench.ours_maml_step(ours, optimizer, batch, loop)
    reference = reference_maml_gradient(reference_net, batch, steps, first_order)
    assert bench.relative_errors(grads, reference) < 1e-4
    assert all(float(g.abs().sum()) > 0 for g in grads.values())


def test_our_protonet_step_equals_hand_written_reference():
    config = small_config()
    ours = bench.seeded_conv4(HIDDEN, seed=0)
    reference_net = bench.textbook_copy(ours, HIDDEN).eval()
    episode = bench.proto_episode(config, torch.Generator().manual_seed(2))
    _, grads = bench.ours_proto_step(
        ours, torch.optim.SGD(ours.parameters(), lr=0.0), episode, "sq_euclidean", train=False
    )
    support = reference_net(episode.support).view(config.proto_ways, config.proto_shots, -1)
    prototypes = support.mean(1)  # (N, D); labels are grouped by class
    queries = reference_net(episode.query)
    logits = -((queries[:, None] - prototypes[None]) ** 2).sum(-1)
    F.cross_entropy(logits, episode.query_labels).backward()
    reference = {n: p.grad for n, p in reference_net.named_parameters()}
    assert bench.relative_errors(grads, reference) < 1e-4


@pytest.mark.parametrize("mode", ["train", "eval"])
def test_conv4_equals_the_textbook_layout(mode):
    """Folded batch norm, channels-last and pool-before-ReLU change speed, not results."""
    ours = bench.seeded_conv4(HIDDEN, seed=4)
    textbook = bench.textbook_copy(ours, HIDDEN)
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
    assert bench.relative_errors(grads, reference) < 1e-4
    assert isinstance(ours, Conv4) and ours.state_dict().keys() == textbook.state_dict().keys()


def test_json_has_the_fields_without_peers(monkeypatch, capsys):
    monkeypatch.setattr(bench, "peers_available", lambda: False)
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
    assert bench.main(argv) == 0
    captured = capsys.readouterr()
    assert "install-peers.sh" in captured.err
    result = json.loads(captured.out)
    assert {"machine", "config", "load_average_before", "load_average_after"} <= result.keys()
    assert result["peers"] is None and result["checks_passed"] is None
    assert [(e["inner_steps"], e["first_order"]) for e in result["maml"]] == [
        (1, False),
        (5, False),
        (1, True),
    ]
    for entry in [*result["maml"], result["protonet"]]:
        assert entry["ours_s"] > 0 and entry["peer_s"] is None and entry["speedup"] is None
        assert len(entry["ours_runs_s"]) == 1
    shipped = {e["model"]: e for e in result["latency"]}
    assert shipped.keys() == {"omniglot-protonet", "omniglot-maml"}
    assert shipped["omniglot-maml"]["inner_steps"] == 1
    assert all(e["ours_s"] > 0 for e in result["latency"])


def test_equal_to_the_peers_when_installed():
    pytest.importorskip("learn2learn")
    pytest.importorskip("easyfsl")
    config = small_config()
    entries = [*bench.bench_maml(config, peers=True), bench.bench_protonet(config, peers=True)]
    for entry in entries:
        assert entry["check"]["equal"], entry["check"]
        assert entry["speedup"] > 0 and len(entry["peer_runs_s"]) == 1


def test_peers_reported_missing_when_not_importable(monkeypatch):
    import builtins

    real_import = builtins.__import__

    def no_peers(name, *args, **kwargs):
        if name.startswith(("learn2learn", "easyfsl")):
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_peers)
    assert bench.peers_available() is False


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
    point = bench.measure_point(spec)
    assert point["seconds"] > 0 and point["peak_mib"] >= 0 and point["ways"] == 3
    rows = [
        {**point, "axis": axis, "algorithm": algorithm}
        for axis in ("inner_steps", "ways", "shots")
        for algorithm in ("maml", "protonet")
    ]
    bench.plot_scaling(rows, tmp_path / "scaling.png", bench.ScalingConfig())
    assert (tmp_path / "scaling.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    points = bench.scaling_points(bench.ScalingConfig())
    assert {p["axis"] for p in points} == {"inner_steps", "ways", "shots"}
