"""Probe (issue 28): MAML's inner loop from a zero head on omniglot-protonet's backbone, on val.

    python -m scripts.probe_maml_from_protonet --episodes 40 [--out F]

Before any meta-training: how far does the zero-head inner loop (per-class classifier step
sizes, backbone step sizes B) get on the ProtoNet features, against ProtoNet on the same val
episodes? Decides where the next omniglot-maml run starts. Test is never read.
"""

from __future__ import annotations

import argparse
import copy

from core.cli import report_line
from core.evaluate import EvalConfig, evaluate
from core.learner import FewShotModel, load_model

SETTINGS = [(5, 1), (5, 5), (20, 1), (20, 5)]


def as_maml(proto: FewShotModel, steps: int, head_lr: float, backbone_lr: float) -> FewShotModel:
    card = copy.deepcopy(proto.card)
    names = [n for n, _ in proto.net.named_parameters()] + ["head.weight", "head.bias"]
    lr = {n: (head_lr if n.startswith("head.") else backbone_lr) for n in names}
    card["algorithm"] = "maml"
    card["maml"] = {"inner_steps": steps, "lr": lr, "head_init": "zero", "head_lr_per_class": True}
    return FewShotModel(proto.net, card, proto.encode)


def main(argv=None) -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--episodes", type=int, default=40)
    p.add_argument("--candidates", nargs="+", default=["1,0.1,0", "5,0.1,0", "10,0.1,0"])
    p.add_argument("--settings", nargs="+", default=["5w1s", "5w5s", "20w1s", "20w5s"])
    p.add_argument("--proto", action="store_true")
    p.add_argument("--out")
    a = p.parse_args(argv)
    proto = load_model("omniglot-protonet")
    settings = [tuple(int(x) for x in s[:-1].split("w")) for s in a.settings]
    runs = [("protonet", proto)] if a.proto else []
    for c in a.candidates:
        steps, head_lr, backbone_lr = c.split(",")
        runs.append((c, as_maml(proto, int(steps), float(head_lr), float(backbone_lr))))
    for label, model in runs:
        for ways, shots in settings:
            cfg = EvalConfig("x", "omniglot", "val", ways, shots, 15, a.episodes, seed=3)
            r = evaluate(cfg, model)
            line = {
                "candidate": label,
                "setting": f"{ways}w{shots}s",
                "accuracy": r["accuracy"],
                "ci95": r["ci95"],
                "s": r["wall_time_s"],
            }
            report_line(line, a.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
