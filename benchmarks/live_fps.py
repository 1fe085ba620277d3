"""Frames per second the live camera can classify, per shipped model, on this machine.

    python -m benchmarks live-fps --out docs/results/live_fps.json

Times the work the app does for each webcam frame it classifies (ui/live_camera.py, in
its video thread and lab.camera's worker thread): a 640 x 480 video frame -> PIL image ->
lab.camera.LiveClassifier.offer -> classify_latest: model.encode -> predict_proba of a
classifier adapted to 3 classes x 2 frames, with the throttle off so that every frame is
classified. Every frame is new (a photo model's feature cache never hits, as
with a real camera). Median over several runs of many frames each.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch
from PIL import Image, ImageDraw

from benchmarks.common import command_line, load_average, machine
from core.files import atomic_write_bytes

WIDTH, HEIGHT = 640, 480  # a webcam's usual frame (and Chromium's fake camera)
WAYS, SHOTS = 3, 2
UNTHROTTLED_FPS = 1e9  # LiveClassifier's max_fps: classify every frame


def paper_frames(count: int, seed: int) -> list[np.ndarray]:
    """Seeded camera-like frames of a character on paper: grey, unevenly lit, noisy paper
    with a few dark strokes, (H, W, 3) uint8."""
    rng = np.random.default_rng(seed)
    light = np.linspace(200, 235, WIDTH)[None, :] + np.linspace(-10, 10, HEIGHT)[:, None]
    frames = []
    for _ in range(count):
        image = Image.fromarray(np.clip(light, 0, 255).astype(np.uint8), "L")
        draw = ImageDraw.Draw(image)
        points = [tuple(p) for p in rng.integers((200, 120), (440, 360), (4, 2)).tolist()]
        draw.line(points, fill=40, width=14)
        gray = np.asarray(image, dtype=np.float32) + rng.normal(0, 6, (HEIGHT, WIDTH))
        frames.append(np.repeat(np.clip(gray, 0, 255).astype(np.uint8)[..., None], 3, axis=2))
    return frames


def photo_frames(count: int, seed: int) -> list[np.ndarray]:
    """Seeded camera-like photo frames: scikit-image's sample photos, shifted, rotated and
    noisy so that no two frames have equal pixels, (H, W, 3) uint8."""
    from skimage import data as samples

    rng = np.random.default_rng(seed)
    photos = [
        Image.fromarray(p) for p in (samples.chelsea(), samples.coffee(), samples.astronaut())
    ]
    frames = []
    for i in range(count):
        photo = photos[i % len(photos)].rotate(float(rng.uniform(-8, 8)), expand=False)
        left, top = rng.integers(0, 20, 2).tolist()
        fitted = photo.resize((WIDTH + 20, HEIGHT + 20)).crop(
            (left, top, left + WIDTH, top + HEIGHT)
        )
        noisy = np.asarray(fitted, dtype=np.float32) + rng.normal(0, 4, (HEIGHT, WIDTH, 3))
        frames.append(np.clip(noisy, 0, 255).astype(np.uint8))
    return frames


def frames_per_second(name: str, runs: int, frames: int, seed: int) -> dict[str, Any]:
    """Frames per second of the live camera's per-frame work with model `name`."""
    import av

    from core.learner import load_model
    from lab.camera import LiveClassifier

    model = load_model(name)
    make = paper_frames if model.input_kind == "character" else photo_frames
    support = [Image.fromarray(a) for a in make(WAYS * SHOTS, seed)]
    labels = [f"class {i}" for i in range(WAYS) for _ in range(SHOTS)]
    classifier = model.adapt(support, labels)  # the model's own settings, as the app adapts
    live = LiveClassifier(max_fps=UNTHROTTLED_FPS, background=False)  # classified here
    live.set_classifier(classifier, labels[::SHOTS])
    # Frames made up front, as av frames like the ones aiortc decodes from the browser.
    batches = [
        [av.VideoFrame.from_ndarray(a, format="rgb24") for a in make(frames, seed + 1 + run)]
        for run in range(runs + 1)
    ]
    seconds = []
    for run, batch in enumerate(batches):
        started = time.perf_counter()
        for frame in batch:
            live.offer(frame.to_image())
            if not live.classify_latest():
                raise RuntimeError("a frame was not classified: the throttle must be off here")
        if run:  # the first run warms up (first-call allocations, the backbone's load)
            seconds.append(time.perf_counter() - started)
    per_run = [frames / s for s in seconds]
    return {
        "model": name,
        "algorithm": model.algorithm,
        "input": model.input_kind,
        "frame": f"{WIDTH}x{HEIGHT}",
        "support": f"{WAYS} classes x {SHOTS} frames",
        "fps": round(statistics.median(per_run), 1),
        "fps_runs": [round(f, 1) for f in per_run],
        "ms_per_frame": round(1000 / statistics.median(per_run), 2),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks live-fps", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--models", nargs="+", help="shipped model names (default: all)")
    parser.add_argument("--runs", type=int, default=5, help="timed runs, after a warm-up")
    parser.add_argument("--frames", type=int, default=30, help="frames per run, handwriting")
    parser.add_argument("--photo-frames", type=int, default=5, help="frames per run, photos")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--threads", type=int, nargs="+", default=[1, 2], help="torch CPU threads, each in turn"
    )
    parser.add_argument("--out", type=Path, help="write the JSON here too")
    args = parser.parse_args(argv)
    for flag in ("runs", "frames", "photo_frames"):
        if getattr(args, flag) < 1:
            parser.error(f"--{flag.replace('_', '-')} must be >= 1, got {getattr(args, flag)}")
    if min(args.threads) < 1:
        parser.error(f"--threads must be >= 1, got {min(args.threads)}")
    from core.learner import list_models, load_model

    names = args.models or [m["name"] for m in list_models()]
    result: dict[str, Any] = {
        "command": command_line(),
        "machine": machine(),
        "load_average_before": load_average(),
        "models": [],
    }
    for threads in args.threads:
        torch.set_num_threads(threads)
        for name in names:
            photo = load_model(name).input_kind == "photo"
            frames = args.photo_frames if photo else args.frames
            entry = frames_per_second(name, args.runs, frames, args.seed)
            result["models"].append(entry | {"threads": threads})
    result["load_average_after"] = load_average()
    text = json.dumps(result, indent=2)
    if args.out:
        atomic_write_bytes(args.out, (text + "\n").encode())
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
