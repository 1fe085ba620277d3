"""Probe (issue 28): classifier-only inner loops on a model's fixed val features.

    python -m scripts.probe_head_variants --model omniglot-maml --episodes 600 [--out F]
        [--variants 10,0.02,none 20,0.02,none ...] [--check 50]

Every val image is encoded once (eval-mode batch norm: an image's features do not depend
on its batch), then each variant's inner loop (`steps,lr,features`: steps from a zero head,
the classifier's step size per class, x N, and `none` or `l2:S`, features scaled to length S)
runs on the same episodes, batched over episodes. `proto` is Prototypical Networks'
squared-distance classifier on the same features. --check runs core.evaluate's own loop on
the first episodes of each setting and stops if the variant `steps,lr,none` of the card
disagrees (the probe measures the shipped computation). Test is never read.
"""

from __future__ import annotations

import argparse
import time

import torch
import torch.nn.functional as F

from core import maml_head
from core.cli import report_line
from core.data import load_dataset
from core.episodes import episodes
from core.evaluate import EvalConfig, evaluate
from core.learner import load_model
from core.stats import mean_ci95

SETTINGS = ["5w1s", "5w5s", "20w1s", "20w5s"]


@torch.no_grad()
def dataset_features(net, data, batch: int = 1000) -> torch.Tensor:
    """(C, M, D) features of every image of a TensorDataset."""
    c, m = data.data.shape[:2]
    flat = data.data.flatten(0, 1).unsqueeze(1).float().div_(255.0)
    out = torch.cat([net(flat[i : i + batch]) for i in range(0, len(flat), batch)])
    return out.unflatten(0, (c, m))


def episode_features(feats, ways, shots, queries, count, seed):
    """(E, N*K, D) support, (E, N*Q, D) query features; labels are class-major."""
    sup, qry = [], []
    for ep in episodes([feats.shape[1]] * feats.shape[0], ways, shots, queries, count, seed):
        picked = feats[ep.classes[:, None], torch.cat([ep.support, ep.query], 1)]
        sup.append(picked[:, :shots].flatten(0, 1))
        qry.append(picked[:, shots:].flatten(0, 1))
    return torch.stack(sup), torch.stack(qry)


def run_variant(variant: str, sup, qry, ways, shots, queries) -> list[float]:
    s_lab = torch.arange(ways).repeat_interleave(shots)
    q_lab = torch.arange(ways).repeat_interleave(queries)
    if variant == "proto":
        protos = sup.unflatten(1, (ways, shots)).mean(2)
        logits = -(torch.cdist(qry, protos) ** 2)
    else:
        steps, lr, norm = variant.split(",")
        if norm.startswith("l2:"):
            scale = float(norm[3:])
            sup, qry = scale * F.normalize(sup, dim=-1), scale * F.normalize(qry, dim=-1)
        one_hot = F.one_hot(s_lab, ways).float().expand(len(sup), -1, -1)
        head = maml_head.init_head(sup[0], one_hot[0], "zero")
        head = {k: v.expand(len(sup), *v.shape) for k, v in head.items()}
        rate = float(lr) * ways
        rates = {maml_head.HEAD_WEIGHT: rate, maml_head.HEAD_BIAS: rate}
        with torch.enable_grad():
            head = maml_head.head_steps(sup, one_hot, head, rates, int(steps), first_order=True)
        logits = qry @ head[maml_head.HEAD_WEIGHT].transpose(-1, -2)
        logits = logits + head[maml_head.HEAD_BIAS].unsqueeze(-2)
    return (logits.argmax(-1) == q_lab).float().mean(-1).tolist()


def main(argv=None) -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--model", default="omniglot-maml")
    p.add_argument("--weights", help="a core.train state.pt whose best weights replace the model's")
    p.add_argument("--episodes", type=int, default=600)
    p.add_argument("--seed", type=int, default=3)
    p.add_argument("--settings", nargs="+", default=SETTINGS)
    p.add_argument("--variants", nargs="+", default=["proto", "10,0.02,none", "20,0.02,none"])
    p.add_argument("--check", type=int, default=0)
    p.add_argument("--out")
    a = p.parse_args(argv)
    model = load_model(a.model)
    if a.weights:
        state = torch.load(a.weights, map_location="cpu", weights_only=False)
        model.net.load_state_dict(state["best_state"])
    data = load_dataset("omniglot", "val")
    feats = dataset_features(model.net, data)
    for setting in a.settings:
        ways, shots = (int(x) for x in setting[:-1].split("w"))
        sup, qry = episode_features(feats, ways, shots, 15, a.episodes, a.seed)
        if a.check and model.algorithm == "maml":
            loop = model.default_inner_loop
            lr = loop.lr[maml_head.HEAD_WEIGHT] if isinstance(loop.lr, dict) else loop.lr
            mine = run_variant(
                f"{loop.steps},{lr},none", sup[: a.check], qry[: a.check], ways, shots, 15
            )
            cfg = EvalConfig("x", "omniglot", "val", ways, shots, 15, a.check, seed=a.seed)
            theirs = evaluate(cfg, model, data=data)["accuracy"]
            if abs(100 * sum(mine) / len(mine) - theirs) > 0.01:
                raise SystemExit(f"probe {100 * sum(mine) / len(mine):.2f} != evaluate {theirs}")
            print(f"check {setting}: probe = evaluate = {theirs}", flush=True)
        for variant in a.variants:
            t = time.perf_counter()
            mean, ci = mean_ci95(run_variant(variant, sup, qry, ways, shots, 15))
            line = {
                "model": a.model,
                "weights": a.weights,
                "variant": variant,
                "setting": setting,
                "episodes": a.episodes,
                "seed": a.seed,
                "accuracy": round(100 * mean, 2),
                "ci95": round(100 * ci, 2),
                "s": round(time.perf_counter() - t, 1),
            }
            report_line(line, a.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
