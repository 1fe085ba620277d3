"""Write photo-maml's new inner loop into its card (issue 28): same weights, the loop chosen
on val.

    python -m scripts.set_photo_maml_loop --steps 20 --scale 0.25

The weights are not changed. The card's step sizes become the meta-learned ones times S
(kept beside as maml.lr_meta_learned) and its steps K, chosen by scripts.probe_photo_maml_loops
on val: on Omniglot drawn through the photo backbone the shipped loop (5 steps, x1) raised
the support loss in 94% of 5-way 5-shot episodes and scored 65.73 against photo-protonet's
92.58, while on mini-ImageNet val every loop scored the same. The old loop, its test metrics
and its "none of these" threshold are kept under "previous", labelled; the new threshold is
chosen on val by core.evaluate_open_set --record, the test metrics added by scripts.model_report.
"""

from __future__ import annotations

from pathlib import Path

from core.checkpoints import models_dir, read_card, write_card
from core.cli import command_line, command_parser

CHOICE = [
    Path("docs/results/photo-maml-v2/probe-loops-val.jsonl"),
    Path("docs/results/photo-maml-v2/probe-loops-monotone-val.jsonl"),
]
WHAT_THE_STEPS_DO = (
    "From the zero head the first step sets each class's row to a multiple of its mean feature "
    "minus the mean of all features: a class-mean classifier. On mini-ImageNet val the later "
    "steps change nothing measurable; on characters (Omniglot val through the photo backbone, "
    "5-way 5-shot) they add about 3 points over the first step "
    "(docs/results/photo-maml-v2/omniglot-val-steps.jsonl, docs/results/photo-maml-v2/). "
    "Inside MAML counts, on your own photos, how often its step-1 answers are the class-mean "
    "classifier's."
)


def main(argv: list[str] | None = None) -> int:
    parser = command_parser("scripts.set_photo_maml_loop", __doc__)
    parser.add_argument("--steps", type=int, required=True)
    parser.add_argument("--scale", type=float, required=True)
    args = parser.parse_args(argv)
    path = models_dir() / "photo-maml.json"
    card = read_card(path)
    if "lr_meta_learned" in card["maml"]:
        raise SystemExit(f"{path} already has a loop chosen on val; nothing to do")
    learned = card["maml"]["lr"]
    previous = {"maml": card["maml"], "metrics": card.get("metrics", {})}
    previous["open_set"] = card.pop("open_set", None)
    previous["note"] = (
        "the zero-head photo-maml's first inner loop (5 steps at the meta-learned step sizes), "
        "its test metrics and its 'none of these' threshold: no longer what the app uses"
    )
    card["maml"] = {
        **{k: v for k, v in card["maml"].items() if k != "test_steps_chosen_on"},
        "lr": {k: float(v) * args.scale for k, v in learned.items()},
        "lr_meta_learned": learned,
        "inner_steps": args.steps,
        "what_the_steps_do": WHAT_THE_STEPS_DO,
        "test_loop_chosen_on": {
            "split": "val",
            "data": "mini-ImageNet val (first 100 photos a class) and Omniglot val (200 classes "
            "through the photo backbone), 5w1s and 5w5s, 300 episodes each",
            "chosen": {"steps": args.steps, "scale": args.scale},
            "outputs": [str(p) for p in CHOICE],
            "command": "python -m scripts.probe_photo_maml_loops --episodes 300 [--monotone] "
            "--candidates ...",
        },
    }
    card["metrics"] = {}
    card["previous"] = previous
    card["loop_command"] = command_line("scripts.set_photo_maml_loop", argv)
    write_card(path, card)
    print(f"wrote {path}: {args.steps} steps, meta-learned step sizes x{args.scale}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
