"""Choose a MAML model's test-time inner steps on the VALIDATION split, then evaluate the
test split once with that choice (the test split never influences the choice).

    python -m scripts.choose_maml_steps --device cuda                      # omniglot-maml
    python -m scripts.choose_maml_steps --model photo-maml --dataset miniimagenet \\
        --settings 5w1s 5w5s --candidates 1 3 5 10

Prints one JSON line per validation setting and candidate, then the chosen steps, then one
core.evaluate-style JSON line (with its command) per test setting.
"""

import argparse
import json
import shlex
import sys
import time

from core.checkpoints import models_dir, read_card, write_card
from core.evaluate import EvalConfig, evaluate
from core.learner import load_model
from core.training.config import parse_setting

parser = argparse.ArgumentParser()
parser.add_argument("--model", default="omniglot-maml")
parser.add_argument("--dataset", default="omniglot")
parser.add_argument("--settings", nargs="+", default=["5w1s", "5w5s", "20w1s", "20w5s"])
parser.add_argument("--device", default="cpu")
parser.add_argument("--candidates", type=int, nargs="+", default=[2, 5, 10])
parser.add_argument("--val-episodes", type=int, default=300)
parser.add_argument("--test-episodes", type=int, default=600)
parser.add_argument("--no-test", action="store_true", help="stop after choosing on val")
parser.add_argument(
    "--first", type=int, default=0, help="val: only each class's first N images (0: all)"
)
parser.add_argument(
    "--record", action="store_true", help="write the choice into the card (maml.inner_steps)"
)
args = parser.parse_args()
settings = [parse_setting(s) for s in args.settings]
model = load_model(args.model).to(args.device)


def run(split: str, ways: int, shots: int, episodes: int, steps: int) -> dict:
    config = EvalConfig(
        args.model,
        args.dataset,
        split,
        ways=ways,
        shots=shots,
        queries=15,
        episodes=episodes,
        seed=0,
        inner_steps=steps,
        device=args.device,
        first=args.first if split == "val" else 0,
    )
    return evaluate(config, model)


scores = {}
for steps in args.candidates:
    accs = []
    for ways, shots in settings:
        r = run("val", ways, shots, args.val_episodes, steps)
        accs.append(r["accuracy"])
        line = {"split": "val", "steps": steps, "ways": ways, "shots": shots}
        print(json.dumps(line | {"accuracy": r["accuracy"], "ci95": r["ci95"]}), flush=True)
    scores[steps] = sum(accs) / len(accs)
best = max(scores, key=lambda s: (scores[s], -s))  # ties: fewer steps
print(json.dumps({"val_mean_by_steps": scores, "chosen_steps": best}), flush=True)
if args.record:  # the app and core.evaluate then use it by default
    card_path = models_dir() / f"{args.model}.json"
    card = read_card(card_path)
    card["maml"]["inner_steps"] = best
    card["maml"]["test_steps_chosen_on"] = {
        "split": "val",
        "settings": args.settings,
        "episodes": args.val_episodes,
        "val_mean_by_steps": scores,
        "command": "python -m scripts.choose_maml_steps " + shlex.join(sys.argv[1:]),
    }
    write_card(card_path, card)
if not args.no_test:
    for ways, shots in settings:
        t = time.time()
        r = run("test", ways, shots, args.test_episodes, best)
        r["command"] = (
            f"python -m core.evaluate --model {args.model} --dataset {args.dataset} --split "
            f"test --ways {ways} --shots {shots} --queries 15 --episodes {args.test_episodes} "
            f"--seed 0 --inner-steps {best} --device {args.device} --json"
        )
        r["wall_time_s"] = round(time.time() - t, 1)
        print(json.dumps(r), flush=True)
