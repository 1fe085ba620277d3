"""Write omniglot-maml v2's card (issue 28): the same weights, the inner loop chosen on val.

    python -m scripts.make_maml_v2_card --steps K --scale S

The weights (assets/models/omniglot-maml.safetensors) are not changed: two attempts to
continue meta-training them on this CPU lowered val at every setting and were not kept
(docs/results/maml-v2/attempt*). What changes is the card's inner loop: per-class classifier
steps (InnerLoop.head_lr_per_class, so 2 and 20 classes take the same head step), the step
sizes of v1 (the classifier's divided by 5, the N it was meta-trained on) times S, and K
steps, chosen on val by scripts.choose_maml_v2. The v1 inner loop and its test metrics are
kept under "previous", labelled. Test metrics of v2 are added by scripts.model_report from
core.evaluate's output.
"""

from __future__ import annotations

import json
from pathlib import Path

from core.checkpoints import models_dir, read_card, write_card
from core.cli import command_line, command_parser
from scripts.choose_maml_v2 import variant

CHOICE = Path("docs/results/maml-v2/choose-val.jsonl")


def main(argv: list[str] | None = None) -> int:
    parser = command_parser("scripts.make_maml_v2_card", __doc__)
    parser.add_argument("--steps", type=int, required=True)
    parser.add_argument("--scale", type=float, required=True)
    args = parser.parse_args(argv)
    path = models_dir() / "omniglot-maml.json"
    card = read_card(path)
    if card["maml"].get("head_lr_per_class"):
        raise SystemExit(f"{path} is already v2 (per-class classifier steps); nothing to do")
    from core.learner import load_model

    v2 = variant(load_model("omniglot-maml"), args.steps, args.scale).card["maml"]
    summary = json.loads(CHOICE.read_text().splitlines()[-1])
    previous = {"maml": card["maml"], "metrics": card.get("metrics", {})}
    if "open_set" in card:  # chosen for v1's loop: v2's thresholds are chosen anew on val
        previous["open_set"] = card.pop("open_set")
    previous["note"] = (
        "v1's inner loop (20 plain steps, one step size for every N), its test metrics and its "
        "'none of these' threshold: no longer what the app uses"
    )
    card["maml"] = {
        **{k: v for k, v in card["maml"].items() if k != "test_loop_chosen_on"},
        "lr": v2["lr"],
        "inner_steps": args.steps,
        "head_lr_per_class": True,
        "test_loop_chosen_on": {
            "split": "val",
            "settings": ["5w1s", "5w5s", "20w1s", "20w5s"],
            "episodes": 100,
            "val_means": summary["val_means"],
            "output": str(CHOICE),
            "command": "python -m scripts.choose_maml_v2 --episodes 100 --out " + str(CHOICE),
        },
    }
    card["metrics"] = {}
    card["previous"] = previous
    card["v2"] = {
        "command": command_line("scripts.make_maml_v2_card", argv),
        "weights": "unchanged from v1 (meta-trained by core.train; training record above)",
        "continuation_attempts": [
            "docs/results/maml-v2/attempt1-learned-rates.json: 150 meta-steps, step sizes "
            "learned; val fell",
            "docs/results/maml-v2/attempt2-frozen-rates.json: 100 meta-steps, step sizes fixed; "
            "val fell",
        ],
        "start_probe": "docs/results/maml-v2/start-probe.txt",
    }
    write_card(path, card)
    print(f"wrote {path}: {args.steps} steps, step sizes x{args.scale}, per-class head steps")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
