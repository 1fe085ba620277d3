"""Photos: a frozen ImageNet EfficientNet-Lite0, cached features, and meta-trained heads.

The backbone (core.encoders.efficientnet) turns a photo into a 1280-d feature, averaged over
views of the photo (core.encoders.photo); a small head (core.networks.FeatureHead) is
meta-trained over those features with Prototypical Networks or MAML (core.training).

    python -m core.photo features --dataset miniimagenet --splits train val test
    python -m core.photo train --algorithm protonet --name photo-protonet
    python -m core.photo train --algorithm maml --name photo-maml --init-from photo-protonet

Features of a whole dataset are computed once (resumable, in chunks) and cached outside the
repository under core.data.cache_root(), keyed by backbone, preprocessing and the files
(core.features).

Caveat: ImageNet-1k contains every mini-ImageNet class, test classes included, so accuracy
of these models on mini-ImageNet is not comparable with Conv-4 models trained from scratch.
(Embedding speed: python -m benchmarks photo-speed.)
"""

from __future__ import annotations

import argparse
import json
from typing import Any

import torch

from core.cli import add_config_arguments, command_line, command_parser, config_from_args
from core.encoders.efficientnet import BACKBONE, NETWORKS
from core.features import cache_dataset
from core.images import PHOTO_SIZE
from core.training.config import HeadConfig
from core.training.heads import head_trainer

MODULE = "core.photo"
CROPS_HELP = "views averaged: centre crops as fractions of the side (1: the whole photo)"


def features_main(args: argparse.Namespace) -> dict[str, Any]:
    """`features`: fill the feature cache for the named dataset splits (core.features)."""
    return cache_dataset(
        args.dataset,
        args.splits,
        args.size,
        args.crops,
        args.network,
        args.images_per_class,
        args.chunk,
        not args.quiet,
    )


def train_main(args: argparse.Namespace, command: str) -> dict[str, Any]:
    """`train`: meta-train a head over cached features (see core.training)."""
    config = config_from_args(HeadConfig, args)
    return head_trainer(config, command).run(quiet=args.quiet)


def parser() -> argparse.ArgumentParser:
    """The `features` and `train` sub-commands and their flags."""
    top = command_parser(MODULE, __doc__)
    commands = top.add_subparsers(dest="command", required=True)
    features = commands.add_parser("features", help="compute and cache backbone features")
    features.add_argument(
        "--dataset",
        default="miniimagenet",
        help="miniimagenet, omniglot, or a folder of class subfolders",
    )
    features.add_argument("--splits", nargs="+", default=["train", "val", "test"])
    features.add_argument("--network", choices=NETWORKS, default=BACKBONE, help="timm backbone")
    features.add_argument(
        "--images-per-class", type=int, default=0, help="the first N photos of each class (0: all)"
    )
    features.add_argument("--size", type=int, default=PHOTO_SIZE)
    features.add_argument("--crops", type=float, nargs="+", default=[1.0], help=CROPS_HELP)
    features.add_argument("--chunk", type=int, default=512, help="images per resumable chunk")
    features.add_argument("--threads", type=int, default=2, help="torch CPU threads")
    train = commands.add_parser(
        "train", help="meta-train a head (ProtoNet or MAML) on cached features"
    )
    add_config_arguments(train, HeadConfig)
    for command in (features, train):
        command.add_argument("--json", action="store_true", help="print one JSON line")
        command.add_argument("--quiet", action="store_true", help="no progress bar")
    return top


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if args.threads < 1:
        raise SystemExit(f"--threads must be >= 1, got {args.threads}")
    torch.set_num_threads(args.threads)
    if args.command == "features":
        result = features_main(args)
    else:
        result = train_main(args, command_line(MODULE, argv))
    print(json.dumps(result) if args.json else "\n".join(f"{k}: {v}" for k, v in result.items()))
    return 0
