"""Embedding networks.

Conv-4 (Vinyals et al. 2016; used by both Snell et al. 2017 and Finn et al. 2017): four
blocks of 3x3 conv (64 channels), batch norm, ReLU and 2x2 max-pool. A 1x28x28 character
becomes a 64-d vector. Batch norm keeps running statistics and is used in eval mode at
prediction time, so one image alone gets the same embedding as inside a batch.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import nn


def conv_block(in_channels: int, out_channels: int) -> nn.Sequential:
    """3x3 conv, batch norm, 2x2 max-pool, ReLU.

    Pooling before the ReLU gives the same values and gradients as the usual ReLU-then-pool
    (max and ReLU commute, both are monotonic) with the ReLU on a 4x smaller tensor. The
    indices (conv 0, batch norm 1) are those of checkpoints written with the other order.
    """
    return nn.Sequential(
        nn.Conv2d(in_channels, out_channels, kernel_size=3, padding=1),
        nn.BatchNorm2d(out_channels),
        nn.MaxPool2d(2),
        nn.ReLU(),
    )


def channels_last(x: torch.Tensor) -> torch.Tensor:
    """(B, C, H, W) in channels-last memory order, the same values.

    On a CPU, oneDNN's convolutions and max-pooling run several times faster on
    channels-last tensors (a 2x2 max-pool 15x on one core), and a convolution keeps the
    format of its input. A one-channel tensor counts as contiguous in both orders, so
    .contiguous() keeps its strides and the convolution would pick the slow order: for it,
    the channel stride is set to 1 on a view of the same memory.

    While a graph is traced for export (core.export), the tensor is returned as it is: a
    graph has no memory layout, and the strided view would be recorded as index arithmetic.
    """
    if torch.jit.is_tracing():
        return x
    try:
        x = x.contiguous(memory_format=torch.channels_last)
    except RuntimeError:
        # Inside torch.func.vmap (MAML's meta-batch on a GPU) memory formats cannot be
        # queried; the layout is only a speed choice, so keep the tensor as it is.
        return x
    if x.dim() == 4 and x.shape[1] == 1 and x.stride(1) != 1:
        x = x.as_strided(x.shape, (x.stride(0), 1, x.stride(2), x.stride(3)))
    return x


def conv_bn_folded(
    x: torch.Tensor,
    conv: nn.Conv2d,
    weight: torch.Tensor,
    bias: torch.Tensor | None,
    gamma: torch.Tensor,
    beta: torch.Tensor,
    mean: torch.Tensor,
    var: torch.Tensor,
    eps: float,
) -> torch.Tensor:
    """conv(x; weight, bias) then the per-channel affine map of batch norm with this mean and
    variance, as one convolution: y = (z - mean) * s + beta with s = gamma / sqrt(var + eps)
    folds into the weights (W * s) and bias ((b - mean) * s + beta), one pass over the
    activations instead of two, forward and backward. Differentiable in every tensor given;
    `conv` supplies only stride, padding, dilation and groups."""
    scale = gamma * torch.rsqrt(var + eps)  # (C',)
    shift = beta - mean * scale
    if bias is not None:
        shift = shift + bias * scale
    return F.conv2d(
        x,
        weight * scale[:, None, None, None],
        shift,
        conv.stride,
        conv.padding,
        conv.dilation,
        conv.groups,
    )


def conv_bn_eval(x: torch.Tensor, conv: nn.Conv2d, bn: nn.BatchNorm2d) -> torch.Tensor:
    """conv then eval-mode batch norm (stored statistics) as one convolution,
    (B, C, H, W) -> (B, C', H, W); equal to bn(conv(x)) up to float rounding, and
    differentiable in W, b, gamma and beta (MAML adapts all four)."""
    return conv_bn_folded(
        x,
        conv,
        conv.weight,
        conv.bias,
        bn.weight,
        bn.bias,
        bn.running_mean,
        bn.running_var,
        bn.eps,
    )


def conv_bn_batch_stats(x: torch.Tensor, conv: nn.Conv2d, bn: nn.BatchNorm2d) -> torch.Tensor:
    """conv then training-mode batch norm (batch statistics) as one convolution.

    For a convolution with few taps per output (the first Conv-4 layer: 1 channel x 3x3 = 9),
    the batch mean and variance of its outputs follow from the first two moments of the input
    patches: mean_c = w_c.m + b_c and var_c = w_c^T C w_c, with m (9,) and C (9, 9) the mean
    and covariance of all patches (padding included), which need no gradient. Batch norm then
    folds into the convolution as in conv_bn_eval, so the layer writes its large output once
    and its backward skips batch norm's passes over it. Same values and gradients as
    bn(conv(x)) up to float rounding; the running statistics are updated as bn would.
    """
    with torch.no_grad():
        patches = F.unfold(x, conv.kernel_size, conv.dilation, conv.padding, conv.stride)
        rows = patches.transpose(1, 2).reshape(-1, patches.shape[1])  # (B * L, taps)
        mean_patch = rows.mean(0)
        centred = rows - mean_patch
        cov_patch = centred.T @ centred / rows.shape[0]
    taps = conv.weight.flatten(1)  # (C', taps)
    mean = taps @ mean_patch + (conv.bias if conv.bias is not None else 0.0)
    var = ((taps @ cov_patch) * taps).sum(1)  # biased, as batch norm normalises
    if bn.track_running_stats and bn.running_mean is not None:
        count = rows.shape[0]
        with torch.no_grad():
            bn.num_batches_tracked.add_(1)
            momentum = bn.momentum if bn.momentum is not None else 1.0 / int(bn.num_batches_tracked)
            bn.running_mean.lerp_(mean.detach(), momentum)
            bn.running_var.lerp_(var.detach() * count / max(count - 1, 1), momentum)
    return conv_bn_folded(x, conv, conv.weight, conv.bias, bn.weight, bn.bias, mean, var, bn.eps)


# The patch-moment form pays for a (taps x taps) covariance; worth it for few taps only.
_MAX_TAPS_FOR_PATCH_MOMENTS = 27


def _patch_moments_apply(conv: nn.Conv2d, bn: nn.BatchNorm2d) -> bool:
    taps = conv.in_channels * conv.kernel_size[0] * conv.kernel_size[1]
    return conv.groups == 1 and taps <= _MAX_TAPS_FOR_PATCH_MOMENTS and bn.affine


class Conv4(nn.Module):
    """(B, C, H, W) -> (B, D); D = hidden for 28x28 inputs, hidden * 25 for 84x84."""

    def __init__(self, in_channels: int = 1, hidden: int = 64) -> None:
        super().__init__()
        self.encoder = nn.Sequential(
            conv_block(in_channels, hidden),
            conv_block(hidden, hidden),
            conv_block(hidden, hidden),
            conv_block(hidden, hidden),
        )

    def functional_forward(
        self, params: dict[str, torch.Tensor], buffers: dict[str, torch.Tensor], x: torch.Tensor
    ) -> torch.Tensor:
        """The eval-mode forward computed from the given tensors (named as in state_dict())
        instead of the module's own: reads nothing the module holds but its fixed shape and
        eps, so any number of threads may call it at once with their own tensors (MAML's
        adapted weights). Same operations as forward() in eval mode."""
        x = channels_last(x)
        for i, (conv, bn, pool, relu) in enumerate(self.encoder):
            c, n = f"encoder.{i}.0.", f"encoder.{i}.1."
            x = conv_bn_folded(
                x,
                conv,
                params[c + "weight"],
                params[c + "bias"],
                params[n + "weight"],
                params[n + "bias"],
                buffers[n + "running_mean"],
                buffers[n + "running_var"],
                bn.eps,
            )
            x = relu(pool(x))
        return x.flatten(1)

    def functional_forward_tasks(
        self, params: dict[str, torch.Tensor], buffers: dict[str, torch.Tensor], x: torch.Tensor
    ) -> torch.Tensor:
        """functional_forward for T tasks at once, each with its own weights: every parameter
        has a leading task dimension (T, ...), x is (T, B, C, H, W), the result (T, B, D).

        The tasks' channels sit side by side in one tensor (B, T*C, H, W) and each layer is
        one grouped convolution (groups=T): one call per layer instead of T. MAML's inner
        steps on a few support images per task are launch-bound one task at a time; grouped,
        the meta-batch's steps run as one (core.maml.meta_loss)."""
        tasks, batch = x.shape[:2]
        x = channels_last(x.transpose(0, 1).flatten(1, 2))  # (B, T*C, H, W)
        for i, (conv, bn, pool, relu) in enumerate(self.encoder):
            c, n = f"encoder.{i}.0.", f"encoder.{i}.1."
            scale = params[n + "weight"] * torch.rsqrt(buffers[n + "running_var"] + bn.eps)
            shift = params[n + "bias"] - buffers[n + "running_mean"] * scale
            shift = shift + params[c + "bias"] * scale  # (T, C')
            weight = params[c + "weight"] * scale[..., None, None, None]  # (T, C', C, k, k)
            x = F.conv2d(
                x,
                weight.flatten(0, 1),
                shift.flatten(),
                conv.stride,
                conv.padding,
                conv.dilation,
                tasks,
            )
            x = relu(pool(x))
        return x.unflatten(1, (tasks, -1)).flatten(2).transpose(0, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = channels_last(x)
        for conv, bn, pool, relu in self.encoder:
            if not self.training:
                x = conv_bn_eval(x, conv, bn)
            elif _patch_moments_apply(conv, bn):
                x = conv_bn_batch_stats(x, conv, bn)
            else:
                x = bn(conv(x))
            x = relu(pool(x))
        return x.flatten(1)


class FeatureHead(nn.Module):
    """A small head over fixed features (used over a frozen pretrained backbone):
    Linear -> ReLU -> Linear, or a single Linear when hidden == 0.

    Optional input normalisation, stored in the weights file rather than the model card:
    power first maps each feature value v to sign(v) |v|^power (Tukey's ladder of powers;
    power < 1 makes the skewed, non-negative pooled ReLU features of a CNN more Gaussian,
    Yang et al., ICLR 2021; 1 leaves them as they are); center subtracts the buffer `center`
    (D_in,), e.g. the mean powered training feature (set it after construction; zeros until
    then); normalize then scales each row to unit L2 norm.
    normalize_output scales each output row to unit norm times a learned scalar `scale`
    (initialised to `scale`), a temperature for distances between unit vectors.
    (B, D_in) -> (B, D_out).
    """

    def __init__(
        self,
        in_features: int,
        out_features: int,
        hidden: int = 0,
        center: bool = False,
        normalize: bool = False,
        normalize_output: bool = False,
        scale: float = 1.0,
        power: float = 1.0,
    ) -> None:
        super().__init__()
        if power <= 0:
            raise ValueError(f"feature power must be > 0, got {power}")
        self.power = power
        self.normalize = normalize
        self.normalize_output = normalize_output
        if normalize_output:
            self.scale = nn.Parameter(torch.tensor(float(scale)))
        self.register_buffer("center", torch.zeros(in_features) if center else None)
        if hidden:
            self.net: nn.Module = nn.Sequential(
                nn.Linear(in_features, hidden), nn.ReLU(), nn.Linear(hidden, out_features)
            )
        else:
            self.net = nn.Linear(in_features, out_features)

    def powered(self, x: torch.Tensor) -> torch.Tensor:
        """The input features after the power transform (before centring)."""
        return x if self.power == 1.0 else torch.sign(x) * x.abs().pow(self.power)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.functional_forward(dict(self.named_parameters()), dict(self.named_buffers()), x)

    def functional_forward(
        self, params: dict[str, torch.Tensor], buffers: dict[str, torch.Tensor], x: torch.Tensor
    ) -> torch.Tensor:
        """forward() from the given tensors (named as in state_dict()) instead of the module's
        own, so concurrent callers with their own weights (MAML) need no lock."""
        x = self.powered(x)
        if self.center is not None:
            x = x - buffers["center"]
        if self.normalize:
            x = F.normalize(x, dim=-1)
        if isinstance(self.net, nn.Linear):
            x = F.linear(x, params["net.weight"], params["net.bias"])
        else:
            x = F.relu(F.linear(x, params["net.0.weight"], params["net.0.bias"]))
            x = F.linear(x, params["net.2.weight"], params["net.2.bias"])
        if self.normalize_output:
            x = params["scale"] * F.normalize(x, dim=-1)
        return x


def build_network(spec: dict[str, Any]) -> nn.Module:
    """Build the trainable network a model card describes, e.g. {"type": "conv4",
    "in_channels": 1, "hidden": 64}. Raises ValueError for an unknown type."""
    kind = spec.get("type")
    if kind == "conv4":
        return Conv4(int(spec.get("in_channels", 1)), int(spec.get("hidden", 64)))
    if kind == "feature_head":
        return FeatureHead(
            int(spec["in_features"]),
            int(spec["out_features"]),
            int(spec.get("hidden", 0)),
            center=bool(spec.get("center", False)),
            normalize=bool(spec.get("normalize", False)),
            normalize_output=bool(spec.get("normalize_output", False)),
            scale=float(spec.get("scale", 1.0)),
            power=float(spec.get("power", 1.0)),
        )
    raise ValueError(f"unknown network type {kind!r}; expected 'conv4' or 'feature_head'")
