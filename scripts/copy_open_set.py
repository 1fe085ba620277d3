"""Copy "none of these" thresholds from a held-out twin's card into a shipped card (issue 28).

A model trained on train + val (the papers' protocol) has no held-out val to choose its
thresholds on; its twin, the same recipe on train alone, has. The twin's thresholds, chosen on
val by `core.evaluate_open_set --record`, become the shipped card's "open_set", marked with
where they came from; the test measurement that follows says how well they serve.

    python -m scripts.copy_open_set --name omniglot-maml --source runs/omniglot-maml-v5-heldout/out
"""

from __future__ import annotations

import argparse
from pathlib import Path

from core.checkpoints import models_dir, read_card, write_card


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--name", required=True, help="the shipped model")
    p.add_argument("--source", type=Path, required=True, help="the twin's folder (<name>.json)")
    a = p.parse_args(argv)
    twin = read_card(a.source / f"{a.name}.json")
    if not twin.get("open_set", {}).get("by_ways"):
        raise SystemExit(f"{a.source / a.name}.json has no thresholds by number of classes")
    path = models_dir() / f"{a.name}.json"
    card = read_card(path)
    if twin["training"]["config"].get("train_split") == card["training"]["config"].get(
        "train_split"
    ):
        raise SystemExit(f"{a.source} trained on the same split as the shipped {a.name}")
    card["open_set"] = {
        **twin["open_set"],
        "chosen_with": {
            "model": str(a.source / f"{a.name}.json"),
            "why": "this model trained on val; its held-out twin (the same recipe on "
            f"'{twin['training']['config']['train_split']}' alone) chose these thresholds on val",
        },
    }
    write_card(path, card)
    chosen = {n: round(e["threshold"], 3) for n, e in card["open_set"]["by_ways"].items()}
    print(f"{a.name}: thresholds {chosen} from {a.source}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
