"""How long the Embedding space page's pictures take: PCA, t-SNE and UMAP (2-D and 3-D).

    python -m benchmarks projections --out docs/results/projections.json

Points: 20 Gaussian clusters in 64 dimensions (omniglot-protonet's embedding size), 500 for
PCA and 1,000 for t-SNE and UMAP, projected with lab.embedding.project and its default
settings. UMAP compiles its numba code in every new process: its first call (and its import)
are timed apart from the warm calls, which are what a visitor waits for after the first.
Targets (issue 18): PCA within 0.5 s for 500 points; t-SNE and UMAP within 10 s for 1,000.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

import numpy as np

from core.training.run import hardware
from lab.embedding import project

TARGETS_S = {"pca": 0.5, "tsne": 10.0, "umap": 10.0}
POINTS = {"pca": 500, "tsne": 1000, "umap": 1000}


def clusters(m: int, dim: int = 64, classes: int = 20, seed: int = 0) -> np.ndarray:
    """(m, dim) points in `classes` Gaussian clusters (unit spread, centres ~N(0, 9))."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(scale=3.0, size=(classes, dim))
    return centres[np.arange(m) % classes] + rng.normal(size=(m, dim))


def _timed(points: np.ndarray, method: str, dims: int) -> float:
    started = time.perf_counter()
    project(points, method, dims)
    return time.perf_counter() - started


def run(runs: int) -> dict[str, Any]:
    """Median seconds per method and dims (after one untimed call: imports and compiling),
    and UMAP's import and first call, timed apart."""
    started = time.perf_counter()
    import umap  # noqa: F401  (timed: its import compiles numba code on a fresh install)

    umap_import_s = time.perf_counter() - started
    rows = []
    first_call: dict[str, float] = {}
    for method in ("pca", "tsne", "umap"):
        points = clusters(POINTS[method])
        for dims in (2, 3):
            first = _timed(points, method, dims)
            first_call[f"{method}-{dims}d"] = round(first, 3)
            times = [_timed(points, method, dims) for _ in range(runs)]
            median = float(np.median(times))
            rows.append(
                {
                    "method": method,
                    "dims": dims,
                    "points": len(points),
                    "median_s": round(median, 3),
                    "max_s": round(max(times), 3),
                    "target_s": TARGETS_S[method],
                    "within_target": median <= TARGETS_S[method],
                }
            )
    return {
        "runs": runs,
        "rows": rows,
        "first_call_s": first_call,
        "umap_import_s": round(umap_import_s, 2),
        "hardware": hardware(),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks projections", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--runs", type=int, default=3, help="timed runs per row (median)")
    parser.add_argument("--out", type=Path, help="also write the result as JSON here")
    args = parser.parse_args(argv)
    if args.runs < 1:
        parser.error(f"--runs must be >= 1, got {args.runs}")
    result = run(args.runs)
    for row in result["rows"]:
        verdict = "ok" if row["within_target"] else "SLOWER than target"
        print(
            f"{row['method']:>5} {row['dims']}-D {row['points']:>5} points: "
            f"median {row['median_s']:.3f} s (max {row['max_s']:.3f}; target "
            f"{row['target_s']} s) {verdict}"
        )
    print(f"first calls (imports, compiling): {result['first_call_s']}")
    print(f"umap import: {result['umap_import_s']} s")
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(result, indent=2) + "\n")
    return 0
