"""Which timm network computes the shipped EfficientNet-Lite0 weights best, and what the
mirror-image average adds: frozen-feature nearest-prototype accuracy on a small sample.

    python -m scripts.compare_backbone_variants --classes 20 --images 40 --episodes 2000

Both networks take the same 296 tensors (mapped by name, core.photo.timm_state_dict):
`efficientnet_lite0` (PyTorch padding, BN eps 1e-5) and `tf_efficientnet_lite0` (TF "same"
padding, BN eps 1e-3). The first N images of the first C mini-ImageNet test classes; 5-way
episodes, 15 queries, seed 0; features raw, and centred on the sample mean then L2-normalised.
"""

import argparse
import json

import numpy as np
import timm
import torch

from core import photo
from core.data import load_dataset
from core.images import photo_array

parser = argparse.ArgumentParser()
parser.add_argument("--classes", type=int, default=20)
parser.add_argument("--images", type=int, default=40)
parser.add_argument("--episodes", type=int, default=2000)
args = parser.parse_args()
shipped = torch.load(photo.weights_path(), map_location="cpu", weights_only=True)
data = load_dataset("miniimagenet", "test")
images = [data.images(c, list(range(args.images))) for c in range(args.classes)]
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
        classes = torch.randperm(args.classes, generator=generator)[:5]
        items = torch.stack(
            [torch.randperm(args.images, generator=generator)[: shots + 15] for _ in classes]
        )
        x = table[classes[:, None], items]
        protos = x[:, :shots].mean(1)
        queries = x[:, shots:].reshape(-1, x.shape[-1])
        predicted = torch.cdist(queries, protos).argmin(-1)
        correct += float((predicted == torch.arange(5).repeat_interleave(15)).float().mean())
    return round(100 * correct / args.episodes, 2)


for name in ("efficientnet_lite0", "tf_efficientnet_lite0"):
    net = timm.create_model(name, pretrained=False)
    blocks = [f"blocks.{s}.{i}" for s, stage in enumerate(net.blocks) for i in range(len(stage))]
    net.load_state_dict(photo.timm_state_dict(shipped, blocks))
    net.eval()
    plain = features(net, pixels)
    views = {"one view": plain, "mean with mirror": 0.5 * (plain + features(net, pixels.flip(-1)))}
    for view, rows in views.items():
        table = rows.view(args.classes, args.images, -1)
        line = {"network": name, "features": view, "classes": args.classes}
        line |= {"images_per_class": args.images, "episodes": args.episodes, "seed": 0}
        for shots in (1, 5):
            line[f"5w{shots}s raw"] = accuracy(table, shots, False)
            line[f"5w{shots}s centred_l2"] = accuracy(table, shots, True)
        print(json.dumps(line), flush=True)
