"""Ship omniglot-maml v3 (issue 28): the checkpoint runs/omniglot-maml-v3/command.sh chose on
val becomes assets/models/omniglot-maml.*, and v2's inner loop, "none of these" thresholds and
test numbers are kept in the card under "previous", labelled as no longer what the app uses.

    python -m scripts.ship_maml_v3

Test metrics are added afterwards by scripts.model_report from core.evaluate's output
(runs/omniglot-maml-v3/test-evals.sh); the thresholds by core.evaluate_open_set --record.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from core.checkpoints import models_dir, read_card
from core.files import atomic_write_bytes

RUN_OUT = Path("runs/omniglot-maml-v3/out")
V2_TEST = Path("docs/results/maml-v2/eval-test.jsonl")
DESCRIPTION = (
    "MAML on a Conv-4 started from omniglot-protonet, meta-trained on Omniglot; its inner loop "
    "adapts the classifier from zero (10 steps); for one handwritten character per image."
)


def main() -> int:
    trained = read_card(RUN_OUT / "omniglot-maml.json")
    shipped_path = models_dir() / "omniglot-maml.json"
    shipped = read_card(shipped_path)
    if shipped["maml"].get("steps") == trained["maml"]["steps"] and not any(
        v for k, v in shipped["maml"]["lr"].items() if not k.startswith("head.")
    ):
        raise SystemExit(f"{shipped_path} already adapts the classifier only: it is v3")
    v2_test = [json.loads(line) for line in V2_TEST.read_text().splitlines() if line.strip()]
    trained["previous"] = {
        "version": "v2 (replaced 2026-12-07)",
        "note": "v1's weights (MAML from omniglot-protonet, 5-way 1-shot, 3 steps) with an "
        "inner loop chosen on val: 10 steps of every tensor, per-class classifier steps. "
        "No longer what the app uses.",
        "maml": shipped["maml"],
        "open_set": shipped.get("open_set"),
        "test": {
            f"{r['ways']}w{r['shots']}s": {"accuracy": r["accuracy"], "ci95": r["ci95"]}
            for r in v2_test
            if r.get("split") == "test"
        },
        "output": str(V2_TEST),
    }
    trained["figures"] = shipped.get("figures", {})
    trained["description"] = DESCRIPTION
    weights = "omniglot-maml.safetensors"
    shutil.copyfile(RUN_OUT / weights, models_dir() / weights)
    atomic_write_bytes(shipped_path, json.dumps(trained, indent=2).encode())
    training = trained["training"]
    print(
        f"shipped omniglot-maml v3: step {training['best_step']} of {training['steps_run']} "
        f"(val mean {training['best_val']:.2f}), {training['wall_time_s']:.0f} s"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
