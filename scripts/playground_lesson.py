"""The playground's default lessons, measured on 100 new tasks: the README's playground table.

    python -m scripts.playground_lesson --out docs/results/playground_lesson.json

Each family's default lesson (seed 0) is meta-trained as the page does, then MAML's start, a
network pretrained on all tasks (sine) and a random start adapt to the same 100 new tasks
(seed 2024, a stream no training run draws from) with the lesson's inner step size and
steps. Sine: query MSE; 2-D tasks: query accuracy.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from core import toy
from core.files import atomic_write_bytes

EVAL_SEED = 2024
NEW_TASKS = 100


def lesson(family: str) -> dict:
    config = toy.default_config(family)
    started = time.perf_counter()
    starts = {"MAML": toy.meta_train(config).params, "random": toy.random_init(config)}
    if family == "sine":
        starts["pretrained"] = toy.pretrain(config).params
    seconds = time.perf_counter() - started
    steps = config.eval_inner_steps
    row = {"family": family, "shots": config.shots, "inner_steps": steps, "train_s": seconds}
    for name, params in starts.items():
        result = toy.evaluate(config, params, NEW_TASKS, steps, EVAL_SEED)
        if family == "sine":
            row[f"{name}_mse"] = round(float(result.losses[-1]), 3)
        else:
            row[f"{name}_accuracy"] = round(100 * float(result.accuracies[-1]), 1)
    return row


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m scripts.playground_lesson")
    parser.add_argument("--out", type=Path, help="also write the rows here as JSON")
    args = parser.parse_args(argv)
    rows = [lesson(family) for family in ("sine", "blobs", "linear")]
    text = json.dumps({"command": "python -m scripts.playground_lesson", "rows": rows}, indent=1)
    print(text)
    if args.out:
        atomic_write_bytes(args.out, (text + "\n").encode())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
