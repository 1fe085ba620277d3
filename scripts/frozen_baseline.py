"""Nearest-prototype accuracy of the frozen backbone features, before any meta-training:
the baseline the photo heads are measured against.

    python -m scripts.frozen_baseline --episodes 1000
    python -m scripts.frozen_baseline --model photo-protonet --first 60 --train-first 100 \
        --episodes 600

Reads the cached features (python -m core.photo features) of mini-ImageNet test (or of its
first N images per class) and, for centring, the mean feature of mini-ImageNet train (or of
its first N images per class), from the backbone network the --model's card names (else
--network): the whole photo and its mirror image (the frozen variants), or the views the
--model's encoder averages. Three frozen variants: raw features, L2-normalised, and centred
on the train mean then L2-normalised; with --model, also that photo model's head (nearest
prototype of its embeddings). Episodes are 5-way, 15 queries, seeded (0), drawn as
core.evaluate draws them. One JSON line per variant and shot count.
"""

import argparse
import json

import torch

from core import load_model
from core.data import first_images, load_dataset
from core.encoders.efficientnet import BACKBONE, NETWORKS, PREPROCESSING
from core.features import FeatureTable, dataset_features, prototype_accuracy

parser = argparse.ArgumentParser()
parser.add_argument("--episodes", type=int, default=1000)
parser.add_argument("--shots", type=int, nargs="+", default=[1, 5])
parser.add_argument("--model", default="", help="also this photo model, on the same episodes")
parser.add_argument(
    "--first", type=int, default=0, help="use only each test class's first N images (0: all)"
)
parser.add_argument(
    "--train-first", type=int, default=0, help="centre on the first N train images (0: all)"
)
parser.add_argument("--network", choices=NETWORKS, default=BACKBONE, help="without --model")
args = parser.parse_args()
model = load_model(args.model) if args.model else None
network = model.card["encoder"]["type"] if model else args.network
test_data = first_images(load_dataset("miniimagenet", "test"), args.first)
train_data = first_images(load_dataset("miniimagenet", "train"), args.train_first)


def test_table(crops=(1.0,)) -> FeatureTable:
    return FeatureTable(dataset_features(test_data, crops=crops, progress=False, network=network))


frozen = test_table()
train_mean = torch.cat(dataset_features(train_data, progress=False, network=network)).mean(0)
normalize = torch.nn.functional.normalize
frozen_transforms = {
    "raw": lambda x: x,
    "l2": lambda x: normalize(x, dim=-1),
    "centred_l2": lambda x: normalize(x - train_mean, dim=-1),
}
# name -> (views, test features, transform)
variants = {name: ([1.0], frozen, t) for name, t in frozen_transforms.items()}
if model:  # the head, over the views its encoder averages (the card names them)
    crops = list(model.encode.crops)
    variants[args.model] = (crops, test_table(crops), lambda x: model.net(x).detach())
for shots in args.shots:
    for name, (crops, test, transform) in variants.items():
        mean, ci = prototype_accuracy(test, shots, args.episodes, transform)
        line = {"features": name, "backbone": network, "preprocessing": PREPROCESSING}
        line |= {"crops": crops}
        line |= {"ways": 5, "shots": shots, "queries": 15, "episodes": args.episodes, "seed": 0}
        line |= {"images_per_class": min(test.class_sizes())}
        line |= {"train_images_per_class": args.train_first or "all"}
        print(json.dumps(line | {"accuracy": round(mean, 2), "ci95": round(ci, 2)}), flush=True)
