"""Nearest-prototype accuracy of the frozen backbone features, before any meta-training:
the baseline the photo heads are measured against.

    python -m scripts.frozen_baseline --episodes 1000

Reads the cached features (python -m core.photo features) of mini-ImageNet test and, for
centring, the mean feature of mini-ImageNet train: the whole photo and its mirror image (the
frozen variants), or the views the --model's encoder averages. Three frozen variants: raw
features, L2-normalised, and centred on the train mean then L2-normalised; with --model, also
that photo model's head (nearest prototype of its embeddings). Episodes are 5-way,
15 queries, seeded (0), drawn as core.evaluate draws them. One JSON line per variant and
shot count.
"""

import argparse
import json

import torch

from core import load_model
from core.data import load_dataset
from core.encoders.efficientnet import BACKBONE, PREPROCESSING
from core.features import FeatureTable, dataset_features, prototype_accuracy

parser = argparse.ArgumentParser()
parser.add_argument("--episodes", type=int, default=1000)
parser.add_argument("--shots", type=int, nargs="+", default=[1, 5])
parser.add_argument("--model", default="", help="also this photo model, on the same episodes")
parser.add_argument(
    "--first", type=int, default=0, help="use only each test class's first N images (0: all)"
)
args = parser.parse_args()
test_data = load_dataset("miniimagenet", "test")


def test_table(crops=(1.0,)) -> FeatureTable:
    per_class = dataset_features(test_data, crops=crops, progress=False)
    return FeatureTable([rows[: args.first] if args.first else rows for rows in per_class])


frozen = test_table()
train_mean = torch.cat(dataset_features(load_dataset("miniimagenet", "train"), progress=False))
train_mean = train_mean.mean(0)
normalize = torch.nn.functional.normalize
frozen_transforms = {
    "raw": lambda x: x,
    "l2": lambda x: normalize(x, dim=-1),
    "centred_l2": lambda x: normalize(x - train_mean, dim=-1),
}
# name -> (views, test features, transform)
variants = {name: ([1.0], frozen, t) for name, t in frozen_transforms.items()}
if args.model:  # the head, over the views its encoder averages (the card names them)
    model = load_model(args.model)
    crops = list(model.encode.crops)
    variants[args.model] = (crops, test_table(crops), lambda x: model.net(x).detach())
for shots in args.shots:
    for name, (crops, test, transform) in variants.items():
        mean, ci = prototype_accuracy(test, shots, args.episodes, transform)
        line = {"features": name, "backbone": BACKBONE, "preprocessing": PREPROCESSING}
        line |= {"crops": crops}
        line |= {"ways": 5, "shots": shots, "queries": 15, "episodes": args.episodes, "seed": 0}
        line |= {"images_per_class": min(test.class_sizes())}
        print(json.dumps(line | {"accuracy": round(mean, 2), "ci95": round(ci, 2)}), flush=True)
