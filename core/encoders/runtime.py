"""The frozen photo backbone, run by ONNX Runtime: the same features as PyTorch's eager path,
computed about three times faster on this CPU (with backbone_workers: one core per job).

The backbone never trains, so the app does not need autograd or eager dispatch for it: its
feature part (pixels -> pooled 1280-d feature) is exported once per process with torch's own
exporter from the weights already loaded (core.encoders.efficientnet.load_backbone; nothing is
fetched) and run by an ONNX Runtime session that fuses the convolutions, batch norms and
ReLU6s. tests/test_runtime.py checks the two paths agree: per photo, no feature differs by
more than 1e-4 of that photo's largest feature; `python -m benchmarks photo-speed` times
both in one run (docs/results/photo/speed.jsonl).

The export is kept under the cache folder (core.encoders.efficientnet.onnx_path), so only a
machine's first server start exports. `FEWSHOT_BACKBONE_RUNTIME=torch` selects the eager path
everywhere (also where onnxruntime is missing). The disk feature caches of the datasets
(core.features) always use the eager path, so the reported evaluation numbers keep the exact
features they were computed with.
"""

from __future__ import annotations

import io
import os
import warnings
from typing import TYPE_CHECKING

import torch
from torch import nn

if TYPE_CHECKING:
    import onnxruntime

RUNTIMES = ("onnxruntime", "torch")
ENV = "FEWSHOT_BACKBONE_RUNTIME"


def check_runtime(runtime: str) -> str:
    if runtime not in RUNTIMES:
        raise ValueError(f"unknown backbone runtime {runtime!r}; expected one of {RUNTIMES}")
    return runtime


def default_runtime() -> str:
    """$FEWSHOT_BACKBONE_RUNTIME if set, else onnxruntime where it imports, else torch."""
    chosen = os.environ.get(ENV)
    if chosen:
        return check_runtime(chosen)
    try:
        import onnxruntime  # noqa: F401
    except ImportError:
        return "torch"
    return "onnxruntime"


class PooledFeatures(nn.Module):
    """(B, 3, H, W) normalised pixels -> (B, 1280): the backbone up to its global pool."""

    def __init__(self, backbone: nn.Module) -> None:
        super().__init__()
        self.backbone = backbone

    def forward(self, pixels: torch.Tensor) -> torch.Tensor:
        return self.backbone.forward_head(self.backbone.forward_features(pixels), pre_logits=True)


def onnx_model(backbone: nn.Module, size: int = 224) -> bytes:
    """The feature part of `backbone` as ONNX bytes, any batch size (TorchScript exporter)."""
    example = torch.zeros(2, 3, size, size)
    buffer = io.BytesIO()
    with torch.inference_mode(False), torch.no_grad(), warnings.catch_warnings():
        # the TorchScript exporter is deprecated upstream but needs no further package
        warnings.simplefilter("ignore")
        torch.onnx.export(
            PooledFeatures(backbone).eval(),
            (example,),
            buffer,
            input_names=["pixels"],
            output_names=["features"],
            dynamic_axes={"pixels": {0: "batch", 2: "height", 3: "width"}},
            opset_version=17,
            dynamo=False,
        )
    return buffer.getvalue()


def build_session(model: bytes, threads: int) -> onnxruntime.InferenceSession:
    """An ONNX Runtime session running `model` (onnx_model's bytes) with `threads` threads
    (thread-safe: every app session may run it at once)."""
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.log_severity_level = 3  # errors only: no shape-inference chatter in the server log
    return onnxruntime.InferenceSession(model, options, providers=["CPUExecutionProvider"])


def session_features(session: onnxruntime.InferenceSession, pixels: torch.Tensor) -> torch.Tensor:
    """(B, 3, H, W) float32 pixels -> (B, 1280) pooled features by `session`."""
    array = pixels.detach().contiguous().numpy()
    return torch.from_numpy(session.run(None, {"pixels": array})[0])
