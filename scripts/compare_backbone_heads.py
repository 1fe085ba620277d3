"""Which backbone network to build the photo heads on, decided on mini-ImageNet VAL at the level
that ships: the shipped views (whole photo + central 80%, each with its mirror), and heads
trained the same way over each network.

    python -m scripts.compare_backbone_heads > docs/results/photo/backbone_heads_val.jsonl

For each network (efficientnet_lite0, tf_efficientnet_lite0), on the first 100 photos of each
val class, 5-way episodes, 15 queries, seed 0, --episodes each:
  - frozen: the two-view features centred on the mean of the first 40 photos of each train
    class, L2-normalised, nearest prototype (no training);
  - head: each head named by --heads (a models folder holding a photo-protonet trained over
    that network), as core.evaluate scores it on the same episodes.
Both networks' features must be cached (python -m core.photo features --network N
--images-per-class 100 --splits val, and 40 for train). The test split is never read.
"""

from __future__ import annotations

import argparse
import json
import os

import torch

from core.data import first_images, load_dataset
from core.encoders.efficientnet import NETWORKS
from core.evaluate import EvalConfig, evaluate
from core.features import FeatureTable, dataset_features, prototype_accuracy
from core.learner import load_model

CROPS = (1.0, 0.8)


def frozen_line(network: str, shots: int, episodes: int) -> dict:
    val = first_images(load_dataset("miniimagenet", "val"), 100)
    train = first_images(load_dataset("miniimagenet", "train"), 40)
    mean = torch.cat(dataset_features(train, crops=CROPS, progress=False, network=network)).mean(0)
    table = FeatureTable(dataset_features(val, crops=CROPS, progress=False, network=network))
    centred = lambda x: torch.nn.functional.normalize(x - mean, dim=-1)  # noqa: E731
    accuracy, ci95 = prototype_accuracy(table, shots, episodes, centred)
    name = "frozen two views, centred on train-first40, L2"
    return {"features": name, "accuracy": round(accuracy, 2), "ci95": round(ci95, 2)}


def head_line(models: str, shots: int, episodes: int) -> dict:
    os.environ["FEWSHOT_MODELS"] = models
    model = load_model("photo-protonet")
    config = EvalConfig(
        "photo-protonet", "miniimagenet", "val", 5, shots, 15, episodes, seed=0, first=100
    )
    result = evaluate(config, model)
    training = model.card["training"]["config"]
    return {
        "features": f"photo-protonet head from {models}",
        "network": model.card["encoder"]["type"],
        "train_images_per_class": training.get("images_per_class") or "all",
        "accuracy": result["accuracy"],
        "ci95": result["ci95"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--episodes", type=int, default=600)
    parser.add_argument("--heads", nargs="*", default=[], help="models folders to score too")
    args = parser.parse_args()
    for shots in (1, 5):
        common = {"split": "val", "first": 100, "ways": 5, "shots": shots, "queries": 15}
        common |= {"episodes": args.episodes, "seed": 0}
        for network in NETWORKS:
            line = {"network": network} | common | frozen_line(network, shots, args.episodes)
            print(json.dumps(line), flush=True)
        for models in args.heads:
            print(json.dumps(common | head_line(models, shots, args.episodes)), flush=True)


if __name__ == "__main__":
    main()
