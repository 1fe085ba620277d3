"""adapt + predict latency of each shipped model, end to end from PIL images, as the app
calls it: core.load_model(name).adapt(support, labels).predict_proba(queries)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from PIL import Image, ImageDraw

from benchmarks.common import BenchConfig, timed_pair


def character_images(count: int, seed: int, size: int = 105) -> list[Image.Image]:
    """Seeded random pen strokes on white, Omniglot's look (black ink, 105 x 105)."""
    rng = np.random.default_rng(seed)
    images = []
    for _ in range(count):
        image = Image.new("L", (size, size), 255)
        draw = ImageDraw.Draw(image)
        points = [tuple(p) for p in rng.integers(15, size - 15, (4, 2)).tolist()]
        draw.line(points, fill=0, width=4)
        images.append(image)
    return images


def photo_images(count: int, seed: int, size: int = 160) -> list[Image.Image]:
    """Seeded RGB noise, size x size."""
    rng = np.random.default_rng(seed)
    return [
        Image.fromarray(rng.integers(0, 256, (size, size, 3), dtype=np.uint8)) for _ in range(count)
    ]


def fresh_inputs(make, count: int, seed: int, calls: int) -> Callable[[], list[Image.Image]]:
    """A callable returning, at each of `calls` calls, `count` images never returned before
    (made up front, so the timing does not include drawing them)."""
    sets = iter([make(count, seed + 1000 * (call + 1)) for call in range(calls)])
    return lambda: next(sets)


def timed_uncached_and_repeated(
    run: Callable[[list[Image.Image], list[Image.Image]], Any],
    make: Callable[[int, int], list[Image.Image]],
    config: BenchConfig,
    new_seed: int,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """timed_pair of run(support, queries) with new images at every call (drawn from
    `new_seed` on), then with the same images (config.seed's) at every call."""
    n, k, q = config.latency_ways, config.latency_shots, config.latency_queries
    calls = config.repeats + 1  # timed_pair's warm-up, then the timed runs
    new_support = fresh_inputs(make, n * k, new_seed, calls)
    new_queries = fresh_inputs(make, q, new_seed + 1, calls)
    uncached = timed_pair(lambda: run(new_support(), new_queries()), None, config.repeats)
    support, queries = make(n * k, config.seed), make(q, config.seed + 1)
    return uncached, timed_pair(lambda: run(support, queries), None, config.repeats)


def bench_latency(config: BenchConfig) -> list[dict[str, Any]]:
    """adapt + predict_proba of each shipped model (or config.models), timed end to end from
    PIL images: latency_ways x latency_shots support images, latency_queries queries.

    Two timings per model: "uncached", new images at every run (a photo model embeds every
    one with the backbone, as for a user's new photos), and "repeated", the same images at
    every run (a photo model then reads their features from its encoder's cache after the
    warm-up; a character model has no cache, so both are alike)."""
    from core.learner import list_models, load_model

    names = list(config.models) or [m["name"] for m in list_models()]
    n, k, q = config.latency_ways, config.latency_shots, config.latency_queries
    labels = [f"class {i}" for i in range(n) for _ in range(k)]
    results = []
    for index, name in enumerate(names):
        model = load_model(name)
        make = character_images if model.input_kind == "character" else photo_images
        settings = {"inner_steps": config.latency_maml_steps} if model.algorithm == "maml" else {}

        def run(support, queries, model=model, settings=settings):
            return model.adapt(support, labels, **settings).predict_proba(queries)

        # seeds apart per model: photo models may share one encoder, and so its cache
        uncached, repeated = timed_uncached_and_repeated(
            run, make, config, config.seed + 10**6 * (index + 1)
        )
        results.append(
            {
                "name": f"{name} adapt {n}w{k}s + predict {q}",
                "model": name,
                "algorithm": model.algorithm,
                "inner_steps": settings.get("inner_steps"),
                "network": model.card.get("network", {}).get("type"),
                "uncached_s": uncached["ours_s"],
                "uncached_runs_s": uncached["ours_runs_s"],
                "ours_s": repeated["ours_s"],  # the same images each run: cache hits for photos
                "ours_runs_s": repeated["ours_runs_s"],
                "repeated_hits_photo_cache": model.input_kind != "character",
            }
        )
    return results
