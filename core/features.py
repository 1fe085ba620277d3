"""Features of whole datasets, computed once by the photo backbone and cached on disk.

The cache lives outside the repository under core.data.cache_root(), one .npy per dataset
and view, keyed by backbone, weights, preprocessing and the files' bytes. Computing it is
resumable (in chunks). FeatureTable then serves episodes of cached rows, as
core.data.TensorDataset serves Omniglot images.
"""

from __future__ import annotations

import hashlib
import json
import re
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

from core import protonet
from core.data import (
    FolderDataset,
    TensorDataset,
    cache_root,
    first_images,
    hash_files,
    load_dataset,
)
from core.encoders import efficientnet
from core.encoders.efficientnet import (
    BACKBONE,
    FEATURE_DIM,
    backbone_features,
    check_network,
    weights_fingerprint,
)
from core.encoders.views import check_crops, photo_batch
from core.episodes import episode_batch
from core.files import atomic_write
from core.images import PHOTO_SIZE
from core.stats import mean_ci95


def dataset_fingerprint(data: FolderDataset | TensorDataset) -> str:
    """Hash of what a dataset holds: its files' names and bytes (core.data.hash_files), or
    the pixel tensor. Hashing all of mini-ImageNet's 196 MB of JPEGs takes about a second,
    so callers compute it once (cache_paths)."""
    digest = hashlib.sha1()
    if isinstance(data, FolderDataset):
        hash_files(digest, (path for class_files in data.files for path in class_files), data.root)
    else:
        digest.update(json.dumps(data.classes).encode())
        digest.update(data.data.cpu().contiguous().numpy().tobytes())
    return digest.hexdigest()[:12]


def features_key(size: int = PHOTO_SIZE, crop: float = 1.0, network: str = BACKBONE) -> str:
    """Names the backbone network, its weights, the photo size, the crop and the preprocessing
    of one view: features with another key are other features (the cache folder uses it). The
    whole photo (crop 1) keeps the key it had before crops existed, so its caches stay valid."""
    # Read at call time, so a changed PREPROCESSING is a changed key everywhere.
    network = check_network(network)
    text = f"{network}|{weights_fingerprint()}|{size}|{efficientnet.PREPROCESSING}"
    name = f"{network}-{size}px"
    if crop != 1.0:
        text, name = text + f"|crop={crop!r}", name + f"-crop{crop:g}"
    return f"{name}-{hashlib.sha1(text.encode()).hexdigest()[:8]}"


def views_key(
    size: int = PHOTO_SIZE, crops: Sequence[float] = (1.0,), network: str = BACKBONE
) -> str:
    """The features_key of each view a feature averages: what a head run was made over."""
    return ",".join(features_key(size, crop, network) for crop in check_crops(crops))


def cache_paths(
    data: FolderDataset | TensorDataset,
    size: int = PHOTO_SIZE,
    crops: Sequence[float] = (1.0,),
    network: str = BACKBONE,
) -> list[Path]:
    """Where each view's features of `data` live: <cache_root>/features/<key>/<data key>.npy."""
    safe_name = re.sub(r"[^A-Za-z0-9_.-]+", "_", data.name.strip("/"))[-60:]
    file_name = f"{safe_name}-{dataset_fingerprint(data)}.npy"
    root = cache_root() / "features"
    return [root / features_key(size, c, network) / file_name for c in crops]


def cache_path(
    data: FolderDataset | TensorDataset,
    size: int = PHOTO_SIZE,
    crop: float = 1.0,
    network: str = BACKBONE,
) -> Path:
    """Where one view's features of `data` live (see cache_paths)."""
    return cache_paths(data, size, (crop,), network)[0]


def _image_list(data: FolderDataset | TensorDataset) -> list[tuple[int, int]]:
    return [(c, i) for c, size in enumerate(data.class_sizes()) for i in range(size)]


def dataset_features(
    data: FolderDataset | TensorDataset,
    size: int = PHOTO_SIZE,
    chunk: int = 512,
    progress: bool = True,
    crops: Sequence[float] = (1.0,),
    network: str = BACKBONE,
) -> list[torch.Tensor]:
    """Compute (or load) the features of every image, one (M_c, 1280) tensor per class: the
    mean over the `crops` views, as PhotoEncoder computes them with `network`. Each view is
    cached on its own (see _view_features), so adding a view reuses the others."""
    crops = check_crops(crops)
    paths = cache_paths(data, size, crops, network)
    return features_at(data, size, crops, paths, chunk, progress, network)


def cache_dataset(
    dataset: str,
    splits: Sequence[str],
    size: int = PHOTO_SIZE,
    crops: Sequence[float] = (1.0,),
    network: str = BACKBONE,
    images_per_class: int = 0,
    chunk: int = 512,
    progress: bool = True,
) -> dict[str, dict]:
    """Fill the feature cache for `splits` of `dataset` (`python -m core.photo features`):
    for each "<dataset>/<split>" ("-first<N>" with images_per_class N, each class's first N
    images), its number of images and classes and the cache files' paths."""
    result = {}
    for split in splits:
        data = first_images(load_dataset(dataset, split), images_per_class)
        checked = check_crops(crops)
        paths = cache_paths(data, size, checked, network)
        table = features_at(data, size, checked, paths, chunk, progress, network)
        first = f"-first{images_per_class}" if images_per_class else ""
        result[f"{dataset}/{split}{first}"] = {
            "images": int(sum(t.shape[0] for t in table)),
            "classes": len(table),
            "paths": [str(path) for path in paths],
        }
    return result


def features_at(
    data: FolderDataset | TensorDataset,
    size: int,
    crops: Sequence[float],
    paths: Sequence[Path],
    chunk: int = 512,
    progress: bool = True,
    network: str = BACKBONE,
) -> list[torch.Tensor]:
    """dataset_features with the views' cache_paths already computed (they hash every file)."""
    views = [
        _view_features(data, target, size, crop, chunk, progress, network)
        for crop, target in zip(crops, paths, strict=True)
    ]
    return [torch.stack(rows).mean(0) for rows in zip(*views, strict=True)]


def _view_features(
    data: FolderDataset | TensorDataset,
    target: Path,
    size: int,
    crop: float,
    chunk: int,
    progress: bool,
    network: str,
) -> list[torch.Tensor]:
    """Compute (or load from `target`) one view's backbone features of every image, per class.

    Resumable: every `chunk` images are saved beside the final file as they are done; a rerun
    after a kill skips finished chunks. The final (sum M_c, 1280) float32 array is written
    atomically, then the chunks are removed.
    """
    if chunk < 1:
        raise ValueError(f"chunk must be >= 1, got {chunk}")
    sizes = data.class_sizes()
    if not target.exists():
        items = _image_list(data)
        parts_dir = target.with_suffix(".parts")
        parts_dir.mkdir(parents=True, exist_ok=True)
        n_chunks = (len(items) + chunk - 1) // chunk
        done = {p.name for p in parts_dir.glob("chunk-*.npy")}
        bar = tqdm(
            total=len(items),
            disable=not progress,
            file=sys.stderr,
            unit="img",
            desc=f"features {data.name}",
        )
        for index in range(n_chunks):
            name = f"chunk-{index:05d}-of-{n_chunks:05d}-{chunk}.npy"
            part = items[index * chunk : (index + 1) * chunk]
            if name not in done:
                images = [data.images(c, [i])[0] for c, i in part]
                pixels = photo_batch(images, size, crop)
                # eager PyTorch, always: the reported numbers were computed with these features
                features = backbone_features(pixels, network=network, runtime="torch").numpy()
                atomic_write(parts_dir / name, lambda tmp, rows=features: np.save(tmp, rows))
            bar.update(len(part))
        bar.close()
        names = [f"chunk-{i:05d}-of-{n_chunks:05d}-{chunk}.npy" for i in range(n_chunks)]
        table = np.concatenate([np.load(parts_dir / n) for n in names])
        atomic_write(target, lambda tmp: np.save(tmp, table.astype(np.float32)))
        for n in names:
            (parts_dir / n).unlink()
        parts_dir.rmdir()
    table = torch.from_numpy(np.load(target))
    if table.shape != (sum(sizes), FEATURE_DIM):
        raise ValueError(
            f"{target}: cached features have shape {tuple(table.shape)}, expected "
            f"({sum(sizes)}, {FEATURE_DIM}); delete the file to recompute it"
        )
    return list(torch.split(table, sizes))


class FeatureTable:
    """Cached features of a dataset, indexed like its images: class c, item i -> a row."""

    def __init__(self, per_class: Sequence[torch.Tensor]) -> None:
        self.rows = torch.cat(list(per_class))  # (sum M_c, 1280)
        self.sizes = [int(t.shape[0]) for t in per_class]
        self.offsets = torch.tensor([0, *np.cumsum(self.sizes)[:-1].tolist()])

    def class_sizes(self) -> list[int]:
        return self.sizes

    def batch(self, classes: torch.Tensor, items: torch.Tensor) -> torch.Tensor:
        """(N,), (N, K) -> (N, K, 1280)."""
        return self.rows[self.offsets[classes][:, None] + items]


def episode_features(table: FeatureTable, ways: int, shots: int, queries: int, generator):
    """One episode from cached features: support (N*K, D), labels (N*K,), query (N*Q, D), labels."""
    return episode_batch(table, ways, shots, queries, generator)


def prototype_accuracy(
    table: FeatureTable,
    shots: int,
    episodes: int,
    embed: Callable[[torch.Tensor], torch.Tensor] | None = None,
    ways: int = 5,
    queries: int = 15,
    seed: int = 0,
) -> tuple[float, float]:
    """Nearest-prototype accuracy over seeded episodes of cached features, drawn as
    core.evaluate draws them: (mean, 95% CI) in points. `embed` maps features to the space
    the prototypes live in (a photo head, a normalisation); None keeps them as they are."""
    generator = torch.Generator().manual_seed(seed)
    accuracies = []
    for _ in range(episodes):
        sx, sy, qx, qy = episode_features(table, ways, shots, queries, generator)
        if embed is not None:
            sx, qx = embed(sx), embed(qx)
        predicted = protonet.logits(qx, protonet.prototypes(sx, sy, ways)).argmax(-1)
        accuracies.append(100.0 * float((predicted == qy).float().mean()))
    return mean_ci95(accuracies)
