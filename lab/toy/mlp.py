"""The toy MLP as a pure function of a parameter dict, batched over tasks when asked.

An MLP D_in-H-H-1 with ReLU (1-40-40-1 for sines, as in Finn et al. 2017, section 5.1; 2-40-40-1
gives the class-1 logit in the plane). Parameters are a dict so that adaptation can return new
tensors instead of mutating a module (the torch.func style).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from lab.toy.config import ToyConfig, check_counts, make_generator, uniform

Params = dict[str, torch.Tensor]


def init_mlp_params(
    input_dim: int, hidden_units: int, generator: torch.Generator, output_dim: int = 1
) -> Params:
    """Parameters of an MLP input_dim-H-H-output_dim, initialised as torch.nn.Linear does
    (uniform in +-1/sqrt(fan_in)), but from ``generator``.

    Returns:
        dict with ``w1`` (H, D_in), ``b1`` (H,), ``w2`` (H, H), ``b2`` (H,), ``w3`` (O, H),
        ``b3`` (O,); leaf tensors that require grad.
    """
    check_counts(input_dim=input_dim, hidden_units=hidden_units, output_dim=output_dim)
    shapes = {
        "1": (hidden_units, input_dim),
        "2": (hidden_units, hidden_units),
        "3": (output_dim, hidden_units),
    }
    params: Params = {}
    for layer, (fan_out, fan_in) in shapes.items():
        bound = 1.0 / math.sqrt(fan_in)
        params[f"w{layer}"] = uniform((fan_out, fan_in), -bound, bound, generator)
        params[f"b{layer}"] = uniform((fan_out,), -bound, bound, generator)
    return {name: value.requires_grad_() for name, value in params.items()}


def mlp_forward(params: Params, inputs: torch.Tensor) -> torch.Tensor:
    """Forward pass of the ReLU MLP, for one set of parameters or one set per task.

    Args:
        params: from ``init_mlp_params``; either unbatched (``w1`` of shape (H, D_in)) or
            batched over tasks (``w1`` of shape (T, H, D_in), ``b1`` (T, H), ...).
        inputs: (N, D_in) or (T, N, D_in).

    Returns:
        (N, 1) or (T, N, 1): a regression value or a class-1 logit per point.
    """
    hidden = inputs
    for layer in ("1", "2", "3"):
        weight, bias = params[f"w{layer}"], params[f"b{layer}"]
        hidden = hidden @ weight.transpose(-1, -2) + bias.unsqueeze(-2)  # (..., N, out)
        if layer != "3":
            hidden = torch.relu(hidden)
    return hidden


def per_task_loss(config: ToyConfig, outputs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """Mean squared error (sine) or binary cross-entropy on logits (2-D), per task.

    Args:
        config: the lesson; its family picks the loss.
        outputs: (T, N, 1) network outputs.
        targets: (T, N, 1).

    Returns:
        (T,) loss of each task, averaged over its points.
    """
    if config.is_classification:
        pointwise = F.binary_cross_entropy_with_logits(outputs, targets, reduction="none")
    else:
        pointwise = (outputs - targets) ** 2
    return pointwise.flatten(1).mean(1)


def expand_params(params: Params, num_tasks: int) -> Params:
    """One copy of every parameter per task, (T, ...), sharing memory with ``params`` and
    differentiable back to it."""
    return {
        name: value.unsqueeze(0).expand(num_tasks, *value.shape) for name, value in params.items()
    }


def detach_params(params: Params) -> Params:
    """Detached copies that share nothing with the autograd graph or the optimiser."""
    return {name: value.detach().clone() for name, value in params.items()}


def random_init(config: ToyConfig) -> Params:
    """A fresh, untrained initialisation (the "no prior knowledge" comparison)."""
    generator = make_generator(config.seed + 2)  # neither MAML's stream nor the baseline's
    return detach_params(init_mlp_params(config.input_dim, config.hidden_units, generator))


@torch.no_grad()
def predict(params: Params, inputs: torch.Tensor) -> torch.Tensor:
    """(N, D_in) -> (N,) network outputs (regression value or class-1 logit)."""
    return mlp_forward(params, inputs).squeeze(-1)


@torch.no_grad()
def class1_probability(params: Params, inputs: torch.Tensor) -> torch.Tensor:
    """(N, 2) -> (N,) probability of class 1 under the MLP classifier."""
    return torch.sigmoid(predict(params, inputs))
