"""Median seconds per training step of the shipped recipes on this machine's CPU.

python -m scripts.time_cpu_steps --repeats 5
"""

import argparse
import json
import statistics
import time

import torch

from core.train import TrainConfig, Trainer

parser = argparse.ArgumentParser()
parser.add_argument("--repeats", type=int, default=5)
args = parser.parse_args()
out = {"threads": torch.get_num_threads()}
recipes = {
    "protonet (60-way, 1|5-shot, 5 queries)": TrainConfig(
        name="t", algorithm="protonet", ways=(60,), shots=(1, 5), queries=5, device="cpu"
    ),
    "maml (16 tasks, 5|20-way, 1|5-shot, 5 queries, 2 inner steps, 2nd order)": TrainConfig(
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
    trainer = Trainer(config, "timing")
    step = trainer.protonet_step if config.algorithm == "protonet" else trainer.maml_step
    step(train)  # warm-up
    times = []
    for _ in range(args.repeats):
        start = time.perf_counter()
        step(train)
        times.append(time.perf_counter() - start)
    out[label] = round(statistics.median(times), 3)
print(json.dumps(out))
