"""How long embedding photos takes on this machine (median of several runs).

    python -m benchmarks photo-speed --threads 2 --json

Times loading the backbone, one fresh photo, the same photo again (a cache hit) and a
batch, with core.encoders.photo.PhotoEncoder as the app uses it.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import torch
from PIL import Image

from core.encoders.efficientnet import load_backbone
from core.encoders.photo import PhotoEncoder
from core.images import PHOTO_SIZE
from core.training.run import hardware

CROPS_HELP = "views averaged: centre crops as fractions of the side (1: the whole photo)"


def _timed(call: Callable[[], Any]) -> float:
    started = time.perf_counter()
    call()
    return time.perf_counter() - started


def photo_speed(size: int, crops: list[float], runs: int, batch: int) -> dict[str, Any]:
    """Seconds to load the backbone and embed photos; medians over `runs`."""
    from skimage import data as samples

    photos = [Image.fromarray(samples.chelsea()), Image.fromarray(samples.coffee())]
    encoder = PhotoEncoder(size, crops=crops)
    load_s = _timed(load_backbone)
    encoder(photos[:1])  # warm-up: first-call allocations
    # A fresh photo each run (a new encoder, so an empty cache), then the same photo again.
    single, cached, batched = [], [], []
    batch_photos = [photos[i % 2].rotate(i) for i in range(batch)]
    for _ in range(runs):
        encoder = PhotoEncoder(size, crops=crops)
        single.append(_timed(lambda encoder=encoder: encoder(photos[:1])))
        cached.append(_timed(lambda encoder=encoder: encoder(photos[:1])))
        batched.append(_timed(lambda encoder=encoder: encoder(batch_photos)))
    return {
        "threads": torch.get_num_threads(),
        "size": size,
        "crops": crops,
        "runs": runs,
        "backbone_load_s": round(load_s, 2),
        "one_photo_s": round(float(np.median(single)), 4),
        "one_photo_cached_s": round(float(np.median(cached)), 5),
        "batch": batch,
        "batch_images_per_s": round(batch / float(np.median(batched)), 1),
        "hardware": hardware(),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks photo-speed", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--size", type=int, default=PHOTO_SIZE)
    parser.add_argument("--crops", type=float, nargs="+", default=[1.0], help=CROPS_HELP)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--threads", type=int, default=2, help="torch CPU threads")
    parser.add_argument("--json", action="store_true", help="print one JSON line")
    args = parser.parse_args(argv)
    if args.threads < 1:
        parser.error(f"--threads must be >= 1, got {args.threads}")
    torch.set_num_threads(args.threads)
    result = photo_speed(args.size, args.crops, args.runs, args.batch)
    print(json.dumps(result) if args.json else "\n".join(f"{k}: {v}" for k, v in result.items()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
