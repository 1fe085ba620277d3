"""How long embedding photos takes on this machine (median of several runs).

    python -m benchmarks photo-speed --threads 2 --json

Times loading the backbone, the first photo (with ONNX Runtime: the export and session build
included), one fresh photo, the same photo again (a cache hit) and a batch, with
core.encoders.photo.PhotoEncoder as the app uses it. By default both backbone runtimes in the
same run, eager PyTorch first, with the speed-up and the largest feature difference.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from collections.abc import Callable
from contextlib import contextmanager
from typing import Any

import numpy as np
import torch
from PIL import Image

from core.encoders.efficientnet import load_backbone
from core.encoders.photo import PhotoEncoder
from core.encoders.runtime import ENV, RUNTIMES, check_runtime, default_runtime
from core.images import PHOTO_SIZE
from core.training.run import hardware

CROPS_HELP = "views averaged: centre crops as fractions of the side (1: the whole photo)"


def _timed(call: Callable[[], Any]) -> float:
    started = time.perf_counter()
    call()
    return time.perf_counter() - started


def photo_speed(
    size: int, crops: list[float], runs: int, batch: int, runtime: str | None = None
) -> dict[str, Any]:
    """Seconds to load the backbone and embed photos with `runtime`; medians over `runs`."""
    from skimage import data as samples

    photos = [Image.fromarray(samples.chelsea()), Image.fromarray(samples.coffee())]
    load_s = _timed(load_backbone)
    runtime = runtime or default_runtime()
    with _runtime(runtime):
        first_s = _timed(lambda: PhotoEncoder(size, crops=crops)(photos[:1]))  # + session build
        # A fresh photo each run (a new encoder, so an empty cache), then the same photo again.
        single, cached, batched = [], [], []
        batch_photos = [photos[i % 2].rotate(i) for i in range(batch)]
        for _ in range(runs):
            encoder = PhotoEncoder(size, crops=crops)
            single.append(_timed(lambda encoder=encoder: encoder(photos[:1])))
            cached.append(_timed(lambda encoder=encoder: encoder(photos[:1])))
            batched.append(_timed(lambda encoder=encoder: encoder(batch_photos)))
        features = PhotoEncoder(size, crops=crops, cache_items=0)(batch_photos)
    return {
        "runtime": runtime,
        "threads": torch.get_num_threads(),
        "size": size,
        "crops": crops,
        "runs": runs,
        "backbone_load_s": round(load_s, 2),
        "first_photo_s": round(first_s, 3),
        "one_photo_s": round(float(np.median(single)), 4),
        "one_photo_cached_s": round(float(np.median(cached)), 5),
        "batch": batch,
        "batch_images_per_s": round(batch / float(np.median(batched)), 1),
        "hardware": hardware(),
        "_features": features,
    }


@contextmanager
def _runtime(runtime: str):
    """$FEWSHOT_BACKBONE_RUNTIME set to `runtime` for the block (PhotoEncoder reads it)."""
    before = os.environ.get(ENV)
    os.environ[ENV] = check_runtime(runtime)
    try:
        yield
    finally:
        if before is None:
            os.environ.pop(ENV)
        else:
            os.environ[ENV] = before


def compare_runtimes(size: int, crops: list[float], runs: int, batch: int) -> list[dict[str, Any]]:
    """Both runtimes in one run (eager first), the fast one's rows with its speed-up over eager
    and the largest feature difference relative to each photo's largest feature."""
    rows = [photo_speed(size, crops, runs, batch, runtime) for runtime in RUNTIMES[::-1]]
    eager, fast = rows[0].pop("_features"), rows[1].pop("_features")
    rows[1]["max_relative_difference"] = float(
        ((fast - eager).abs().amax(1) / eager.abs().amax(1)).max()
    )
    rows[1]["batch_speedup_vs_torch"] = round(
        rows[1]["batch_images_per_s"] / rows[0]["batch_images_per_s"], 2
    )
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks photo-speed", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--size", type=int, default=PHOTO_SIZE)
    parser.add_argument("--crops", type=float, nargs="+", default=[1.0], help=CROPS_HELP)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--threads", type=int, default=2, help="torch CPU threads")
    parser.add_argument(
        "--runtime",
        choices=[*RUNTIMES, "both"],
        default="both",
        help="backbone runtime (core.encoders.runtime); both: eager then ONNX Runtime, compared",
    )
    parser.add_argument("--json", action="store_true", help="print one JSON line per runtime")
    args = parser.parse_args(argv)
    if args.threads < 1:
        parser.error(f"--threads must be >= 1, got {args.threads}")
    torch.set_num_threads(args.threads)
    if args.runtime == "both":
        rows = compare_runtimes(args.size, args.crops, args.runs, args.batch)
    else:
        rows = [photo_speed(args.size, args.crops, args.runs, args.batch, args.runtime)]
        rows[0].pop("_features")
    for row in rows:
        print(json.dumps(row) if args.json else "\n".join(f"{k}: {v}" for k, v in row.items()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
