"""Which views of a photo the backbone should see: frozen-feature nearest-prototype accuracy
on mini-ImageNet VAL for each view set. The test split is never read.

    python -m scripts.compare_photo_views --views 224 192 256 288 224:0.875 224:0.8 \
        224:1,0.875 224:1,0.8 224:1,0.7 --episodes 2000

A view set is SIZE[:CROP,CROP,...]: the photo fitted to a SIZE square, and of it each centre
crop (fraction of the side kept; 1 = all), each with its mirror image; the feature is their
mean, as core.encoders.photo.PhotoEncoder(size, crops=...) computes it. Val features of each
view are
computed and cached when missing (about 1.5 min per 224 view on 2 threads).

mini-ImageNet photos are 84x84; the backbone was trained at 224 on random-resized crops, so
larger sizes (Touvron et al. 2019, "FixRes") or closer crops might match what it learned
better, and the mean over different views is steadier than any one. Features as the heads see
them: v -> sign(v)|v|^power, centred on the val mean, L2-normalised; 5-way episodes,
15 queries, seed 0 (the same episodes for every view set). One JSON line per view set.
"""

import argparse
import json

import torch

from core.data import load_dataset
from core.features import FeatureTable, dataset_features, prototype_accuracy


def view_set(text: str) -> tuple[int, tuple[float, ...]]:
    size, _, crops = text.partition(":")
    return int(size), tuple(float(c) for c in crops.split(",")) if crops else (1.0,)


parser = argparse.ArgumentParser()
parser.add_argument("--views", type=view_set, nargs="+", default=[view_set("224")])
parser.add_argument("--episodes", type=int, default=2000)
parser.add_argument("--power", type=float, default=0.75)
parser.add_argument("--threads", type=int, default=2)
args = parser.parse_args()
torch.set_num_threads(args.threads)
data = load_dataset("miniimagenet", "val")
for size, crops in args.views:
    per_class = dataset_features(data, size, crops=crops)
    powered = [t.sign() * t.abs() ** args.power for t in per_class]
    mean = torch.cat(powered).mean(0)
    table = FeatureTable([torch.nn.functional.normalize(t - mean, dim=-1) for t in powered])
    line = {"size": size, "crops": list(crops), "split": "val", "power": args.power}
    line |= {"episodes": args.episodes, "seed": 0}
    for shots in (1, 5):
        mean_acc, ci = prototype_accuracy(table, shots, args.episodes)
        line[f"5w{shots}s"] = round(mean_acc, 2)
        line[f"5w{shots}s_ci95"] = round(ci, 2)
    print(json.dumps(line), flush=True)
