"""Ship an Omniglot run (issue 28): the checkpoint its command chose becomes
assets/models/<name>.* (omniglot-maml unless --name says otherwise), and the replaced
version's classifier settings (MAML's inner loop or ProtoNet's distance), "none of these"
thresholds and test numbers are kept in the card under "previous" (with its own "previous"
inside), labelled as no longer what the app uses.

    python -m scripts.ship_maml --run runs/omniglot-maml-v4 --version v4 \
        --replaces "v3 (replaced 2026-12-07)" --replaced-test docs/results/maml-v3/eval-test.jsonl \
        --note "..." --description "..."

v3 was shipped with this script's first form (v2 -> v3). Test metrics are added afterwards by
scripts.model_report from core.evaluate's output (runs/<run>/test-evals.sh); the thresholds by
core.evaluate_open_set --record.
"""

from __future__ import annotations

import argparse
import json
import shutil
from pathlib import Path

from core.checkpoints import models_dir, read_card, write_card


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--run", type=Path, required=True, help="a run folder with out/<name>.*")
    p.add_argument("--name", default="omniglot-maml", help="omniglot-maml or omniglot-protonet")
    p.add_argument("--version", required=True)
    p.add_argument("--replaces", required=True, help="the shipped version's label")
    p.add_argument("--replaced-test", type=Path, required=True, help="its core.evaluate lines")
    p.add_argument("--note", required=True, help="what the replaced version was")
    p.add_argument("--description", required=True)
    a = p.parse_args(argv)
    trained = read_card(a.run / "out" / f"{a.name}.json")
    shipped_path = models_dir() / f"{a.name}.json"
    shipped = read_card(shipped_path)
    if shipped["training"] == trained["training"]:
        raise SystemExit(f"{shipped_path} is already {a.run}'s model")
    lines = [json.loads(line) for line in a.replaced_test.read_text().splitlines() if line]
    lines = [r for r in lines if r.get("model", a.name) == a.name]
    algorithm = shipped["algorithm"]  # "maml" or "protonet": the card key of its settings
    trained["previous"] = {
        "version": a.replaces,
        "note": a.note + " No longer what the app uses.",
        algorithm: shipped[algorithm],
        "open_set": shipped.get("open_set"),
        "test": {
            f"{r['ways']}w{r['shots']}s": {"accuracy": r["accuracy"], "ci95": r["ci95"]}
            for r in lines
            if r.get("split") == "test"
        },
        "output": str(a.replaced_test),
        "training": {k: shipped["training"].get(k) for k in ("command", "best_step", "steps_run")},
        "previous": shipped.get("previous"),
    }
    trained["figures"] = shipped.get("figures", {})
    trained["description"] = a.description
    weights = f"{a.name}.safetensors"
    shutil.copyfile(a.run / "out" / weights, models_dir() / weights)
    write_card(shipped_path, trained)
    training = trained["training"]
    print(
        f"shipped {a.name} {a.version}: step {training['best_step']} of "
        f"{training['steps_run']} (val mean {training['best_val']:.2f}), "
        f"{training['wall_time_s']:.0f} s"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
