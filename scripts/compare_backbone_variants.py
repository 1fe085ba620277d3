"""Which timm network computes the shipped EfficientNet-Lite0 weights best, and what the
mirror-image average adds: frozen-feature nearest-prototype accuracy on a small sample of
mini-ImageNet VAL (choices are made on val; the test split is for reporting only).

    python -m scripts.compare_backbone_variants --images 40 --episodes 2000 --threads 1 \\
        > docs/results/photo/backbone_variants_val.jsonl

Both networks take the same 296 tensors (mapped by name,
core.encoders.efficientnet.timm_state_dict):
`efficientnet_lite0` (PyTorch padding, BN eps 1e-5) and `tf_efficientnet_lite0` (TF "same"
padding, BN eps 1e-3). The first N images of the first C classes of the split (val has 16;
--classes defaults to all of them, at most 20); 5-way episodes, 15 queries, seed 0; features
raw, and centred on the sample mean then L2-normalised. `--split test` must be asked for
explicitly and is for reporting only (docs/results/photo/backbone_variants.jsonl was made
on test, before the choice was re-made on val).
"""

import argparse
import json
import sys

import numpy as np
import timm
import torch

from core.data import load_dataset
from core.encoders import efficientnet
from core.images import photo_array

parser = argparse.ArgumentParser()
parser.add_argument("--split", choices=("val", "test"), default="val")
parser.add_argument("--classes", type=int, default=0, help="first C classes (0: all, <= 20)")
parser.add_argument("--images", type=int, default=40)
parser.add_argument("--episodes", type=int, default=2000)
parser.add_argument("--threads", type=int, default=2)
args = parser.parse_args()
if args.split == "test":
    print(
        "note: --split test is for reporting only; make choices on --split val",
        file=sys.stderr,
    )
torch.set_num_threads(args.threads)
shipped = torch.load(efficientnet.weights_path(), map_location="cpu", weights_only=True)
data = load_dataset("miniimagenet", args.split)
classes = args.classes or min(20, len(data.class_sizes()))
images = [data.images(c, list(range(args.images))) for c in range(classes)]
pixels = torch.from_numpy(np.stack([photo_array(image) for row in images for image in row]))


def features(net: torch.nn.Module, x: torch.Tensor) -> torch.Tensor:
    with torch.inference_mode():
        chunks = [x[i : i + 50] for i in range(0, len(x), 50)]
        return torch.cat(
            [net.forward_head(net.forward_features(c), pre_logits=True) for c in chunks]
        )


def accuracy(table: torch.Tensor, shots: int, centred: bool) -> float:
    generator = torch.Generator().manual_seed(0)
    if centred:
        table = torch.nn.functional.normalize(table - table.flatten(0, 1).mean(0), dim=-1)
    correct = 0.0
    for _ in range(args.episodes):
        chosen = torch.randperm(classes, generator=generator)[:5]
        items = torch.stack(
            [torch.randperm(args.images, generator=generator)[: shots + 15] for _ in chosen]
        )
        x = table[chosen[:, None], items]
        protos = x[:, :shots].mean(1)
        queries = x[:, shots:].reshape(-1, x.shape[-1])
        predicted = torch.cdist(queries, protos).argmin(-1)
        correct += float((predicted == torch.arange(5).repeat_interleave(15)).float().mean())
    return round(100 * correct / args.episodes, 2)


for name in ("efficientnet_lite0", "tf_efficientnet_lite0"):
    net = timm.create_model(name, pretrained=False)
    blocks = [f"blocks.{s}.{i}" for s, stage in enumerate(net.blocks) for i in range(len(stage))]
    net.load_state_dict(efficientnet.timm_state_dict(shipped, blocks))
    net.eval()
    plain = features(net, pixels)
    views = {"one view": plain, "mean with mirror": 0.5 * (plain + features(net, pixels.flip(-1)))}
    for view, rows in views.items():
        table = rows.view(classes, args.images, -1)
        line = {"network": name, "features": view, "split": args.split, "classes": classes}
        line |= {"images_per_class": args.images, "episodes": args.episodes, "seed": 0}
        for shots in (1, 5):
            line[f"5w{shots}s raw"] = accuracy(table, shots, False)
            line[f"5w{shots}s centred_l2"] = accuracy(table, shots, True)
        print(json.dumps(line), flush=True)
