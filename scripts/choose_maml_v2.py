"""Choose omniglot-maml v2's inner loop on val (issue 28): per-class classifier steps, the
shipped step sizes (head's / 5, its training N) times a scale, and a number of steps.

    python -m scripts.choose_maml_v2 --episodes 100 --out docs/results/maml-v2/choose-val.jsonl

Each candidate is the shipped weights with another card "maml" entry, evaluated by
core.evaluate on the val split (15 queries, seed 0) at 5w1s, 5w5s, 20w1s and 20w5s; one JSON
line per candidate and setting, then the candidate with the highest mean. Test is never read.
"""

from __future__ import annotations

import argparse
import copy
import json
from pathlib import Path

from core import maml
from core.evaluate import EvalConfig, evaluate
from core.learner import FewShotModel, load_model

SETTINGS = [(5, 1), (5, 5), (20, 1), (20, 5)]
CANDIDATES = [(5, 0.5), (5, 0.35), (10, 0.35), (10, 0.25)]


def variant(model: FewShotModel, steps: int, scale: float) -> FewShotModel:
    """The model with per-class head steps, step sizes x scale and `steps` steps."""
    card = copy.deepcopy(model.card)
    head = (maml.HEAD_WEIGHT, maml.HEAD_BIAS)
    ways = int(card["training"]["config"]["ways"][0])
    rates = {k: (v / ways if k in head else v) * scale for k, v in card["maml"]["lr"].items()}
    card["maml"] |= {"lr": rates, "inner_steps": steps, "head_lr_per_class": True}
    return FewShotModel(model.net, card, model.encode)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m scripts.choose_maml_v2", description=__doc__)
    parser.add_argument("--episodes", type=int, default=100)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args(argv)
    shipped = load_model("omniglot-maml")
    means = {}
    for steps, scale in CANDIDATES:
        model = variant(shipped, steps, scale)
        scores = []
        for ways, shots in SETTINGS:
            config = EvalConfig("omniglot-maml", "omniglot", "val", ways, shots, 15, args.episodes)
            result = evaluate(config, model)
            line = {"steps": steps, "scale": scale, "setting": f"{ways}w{shots}s"}
            line |= {k: result[k] for k in ("accuracy", "ci95", "episodes", "wall_time_s")}
            print(json.dumps(line), flush=True)
            if args.out:
                with args.out.open("a") as out:
                    out.write(json.dumps(line) + "\n")
            scores.append(result["accuracy"])
        means[(steps, scale)] = sum(scores) / len(scores)
    best = max(means, key=means.get)
    summary = {"chosen": {"steps": best[0], "scale": best[1]}, "val_means": {}}
    summary["val_means"] = {f"{s} steps x{c}": round(m, 3) for (s, c), m in means.items()}
    print(json.dumps(summary), flush=True)
    if args.out:
        with args.out.open("a") as out:
            out.write(json.dumps(summary) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
