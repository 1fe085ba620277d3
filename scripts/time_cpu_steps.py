"""Median seconds per training step of the shipped recipes on this machine's CPU.

python -m scripts.time_cpu_steps --repeats 5 --out docs/results/cpu_steps.json

The output records torch's threads and the load average before and after, since the machine
may be shared: compare runs only at similar load.
"""

import argparse
import json
import os
import statistics
import time
from pathlib import Path

import torch

from core.files import atomic_write_bytes
from core.training.config import OmniglotConfig
from core.training.omniglot import OmniglotInputs
from core.training.trainer import Trainer

parser = argparse.ArgumentParser()
parser.add_argument("--repeats", type=int, default=5)
parser.add_argument("--out", type=Path, help="also write the result here as JSON")
args = parser.parse_args()
out = {
    "command": f"python -m scripts.time_cpu_steps --repeats {args.repeats}",
    "threads": torch.get_num_threads(),
    "load_average_before": round(os.getloadavg()[0], 2),
}
recipes = {
    "protonet (60-way, 1|5-shot, 5 queries)": OmniglotConfig(
        name="t", algorithm="protonet", ways=(60,), shots=(1, 5), queries=5, device="cpu"
    ),
    "maml (16 tasks, 5|20-way, 1|5-shot, 5 queries, 2 inner steps, 2nd order)": OmniglotConfig(
        name="t",
        algorithm="maml",
        ways=(5, 20),
        shots=(1, 5),
        queries=5,
        meta_batch=16,
        inner_steps=2,
        inner_lr=0.001,
        device="cpu",
    ),
}
from core.data import omniglot  # noqa: E402

train = omniglot("train")
for label, config in recipes.items():
    trainer = Trainer(config, OmniglotInputs(config), "timing")
    step = trainer.protonet_step if config.algorithm == "protonet" else trainer.maml_step
    step(train)  # warm-up
    times = []
    for _ in range(args.repeats):
        start = time.perf_counter()
        step(train)
        times.append(time.perf_counter() - start)
    out[label] = round(statistics.median(times), 3)
out["load_average_after"] = round(os.getloadavg()[0], 2)
print(json.dumps(out))
if args.out:
    atomic_write_bytes(args.out, (json.dumps(out, indent=1) + "\n").encode())
