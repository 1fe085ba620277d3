"""Choose omniglot-maml's test-time inner steps on the VALIDATION split, then evaluate the
test split with that choice (the test split never influences the choice).

    python -m scripts.choose_maml_steps --device cuda
"""

import argparse
import json
import time

from core.evaluate import EvalConfig, evaluate
from core.learner import load_model

parser = argparse.ArgumentParser()
parser.add_argument("--device", default="cpu")
parser.add_argument("--candidates", type=int, nargs="+", default=[2, 5, 10])
parser.add_argument("--val-episodes", type=int, default=300)
args = parser.parse_args()
model = load_model("omniglot-maml").to(args.device)
scores = {}
for steps in args.candidates:
    accs = []
    for ways, shots in ((5, 1), (5, 5), (20, 1), (20, 5)):
        r = evaluate(
            EvalConfig(
                "omniglot-maml",
                "omniglot",
                "val",
                ways,
                shots,
                15,
                args.val_episodes,
                0,
                steps,
                args.device,
            ),
            model,
        )
        accs.append(r["accuracy"])
        print(
            json.dumps(
                {
                    "split": "val",
                    "steps": steps,
                    "ways": ways,
                    "shots": shots,
                    "accuracy": r["accuracy"],
                    "ci95": r["ci95"],
                }
            ),
            flush=True,
        )
    scores[steps] = sum(accs) / len(accs)
best = max(scores, key=lambda s: (scores[s], -s))
print(json.dumps({"val_mean_by_steps": scores, "chosen_steps": best}), flush=True)
for ways, shots in ((5, 5), (5, 1), (20, 1), (20, 5)):
    t = time.time()
    r = evaluate(
        EvalConfig("omniglot-maml", "omniglot", "test", ways, shots, 15, 600, 0, best, args.device),
        model,
    )
    r["command"] = (
        f"python -m core.evaluate --model omniglot-maml --dataset omniglot --split "
        f"test --ways {ways} --shots {shots} --queries 15 --episodes 600 --seed 0 "
        f"--inner-steps {best} --device {args.device} --json"
    )
    print(json.dumps(r), flush=True)
