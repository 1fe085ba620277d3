"""Choose a MAML model's test-time inner loop on the VALIDATION split: the number of steps,
and whether the classifier's step sizes are per class (core.maml.InnerLoop.head_lr_per_class).

    python -m scripts.choose_maml_inner_loop --model omniglot-maml --record

A model meta-trained on N-way tasks only can switch to per-class head steps exactly: its head
step sizes divided by N with per-class steps give the same N-way adaptation (tested in
tests/test_maml.py), and other numbers of classes then get the head step of N-way tasks.
Each candidate is scored by its mean val accuracy over --settings (15 queries, seed 0); ties
go to plain steps, then to fewer steps. One JSON line per candidate and setting, then the
choice. --record writes it into the card; the test split is never read here.
"""

import argparse
import json
import shlex
import sys

from core.checkpoints import models_dir, read_card, write_card
from core.evaluate import EvalConfig, evaluate
from core.learner import load_model
from core.maml import HEAD_BIAS, HEAD_WEIGHT
from core.training.config import parse_setting

parser = argparse.ArgumentParser()
parser.add_argument("--model", default="omniglot-maml")
parser.add_argument("--dataset", default="omniglot")
parser.add_argument("--settings", nargs="+", default=["2w5s", "5w1s", "5w5s", "20w1s", "20w5s"])
parser.add_argument("--steps", type=int, nargs="+", default=[3, 10, 20])
parser.add_argument("--per-class-steps", type=int, nargs="+", default=[3, 10])
parser.add_argument("--trained-ways", type=int, default=5, help="the N of its meta-training")
parser.add_argument("--val-episodes", type=int, default=60)
parser.add_argument("--record", action="store_true")
args = parser.parse_args()
settings = [parse_setting(s) for s in args.settings]
model = load_model(args.model)
plain = dict(model.card["maml"])
if plain.get("head_lr_per_class"):
    raise SystemExit("the card already uses per-class head steps")
per_class = dict(plain, head_lr_per_class=True)
for key in ("lr", "lr_start"):  # the head's per-class step = its N-way step / N
    if key in plain:
        per_class[key] = {
            k: v / args.trained_ways if k in (HEAD_WEIGHT, HEAD_BIAS) else v
            for k, v in plain[key].items()
        }
candidates = [("plain", s) for s in args.steps] + [("per_class", s) for s in args.per_class_steps]
scores = {}
for kind, steps in candidates:
    model.card["maml"] = per_class if kind == "per_class" else plain
    accuracies = []
    for ways, shots in settings:
        config = EvalConfig(
            args.model, args.dataset, "val", ways, shots, 15, args.val_episodes, 0, steps
        )
        result = evaluate(config, model)
        accuracies.append(result["accuracy"])
        line = {"split": "val", "head": kind, "steps": steps, "ways": ways, "shots": shots}
        print(
            json.dumps(line | {"accuracy": result["accuracy"], "ci95": result["ci95"]}), flush=True
        )
    scores[f"{kind} {steps}"] = sum(accuracies) / len(accuracies)
best = max(candidates, key=lambda c: (scores[f"{c[0]} {c[1]}"], c[0] == "plain", -c[1]))
print(json.dumps({"val_mean": scores, "chosen": {"head": best[0], "steps": best[1]}}), flush=True)
if args.record:
    path = models_dir() / f"{args.model}.json"
    card = read_card(path)
    card["maml"] = dict(per_class if best[0] == "per_class" else plain, inner_steps=best[1])
    card["maml"]["test_loop_chosen_on"] = {
        "split": "val",
        "settings": args.settings,
        "episodes": args.val_episodes,
        "val_mean": scores,
        "command": "python -m scripts.choose_maml_inner_loop " + shlex.join(sys.argv[1:]),
    }
    write_card(path, card)
