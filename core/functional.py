"""Networks as pure functions of their tensors: what MAML adapts and ProtoNet embeds through.

A network's parameters and buffers are taken out as dicts (split_state), and
make_features_fn gives features(params, buffers, x), a function that reads only its
arguments. Neither algorithm owns this: ProtoNet embeds with the network's own tensors,
MAML with the adapted ones.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable

import torch
from torch import nn
from torch.func import functional_call

Params = dict[str, torch.Tensor]
FeaturesFn = Callable[[Params, Params, torch.Tensor], torch.Tensor]


def split_state(net: nn.Module) -> tuple[Params, Params]:
    """(parameters, buffers) of a module as detached dicts: the starting point θ."""
    return (
        {k: v.detach() for k, v in net.named_parameters()},
        {k: v.detach() for k, v in net.named_buffers()},
    )


_MODULE_LOCKS: weakref.WeakKeyDictionary[nn.Module, threading.RLock] = weakref.WeakKeyDictionary()
_LOCKS_GUARD = threading.Lock()


def module_lock(net: nn.Module) -> threading.RLock:
    """The lock that every forward pass through `net` holds.

    torch.func.functional_call swaps the given tensors into the module for the duration of
    the call. For a module shared between threads (one model, many browser sessions), two
    calls at once could compute with each other's weights or leave one's weights behind;
    a plain forward during a swap would see them too. One lock per module prevents both.
    """
    with _LOCKS_GUARD:
        lock = _MODULE_LOCKS.get(net)
        if lock is None:
            lock = _MODULE_LOCKS[net] = threading.RLock()
        return lock


def swaps_tensors(net: nn.Module) -> bool:
    """Whether `net` is run by swapping tensors into it (functional_call, under
    module_lock), or, for the networks of core.networks, computes from the tensors given
    (functional_forward) and leaves the module untouched."""
    return getattr(net, "functional_forward", None) is None


def make_features_fn(net: nn.Module) -> FeaturesFn:
    """features(params, buffers, x) -> (B, D); `net` must be in eval mode (stored BN stats).

    Parameters named "head.*" (MAML's per-task classifier) are left out. Thread-safe: the
    networks of core.networks compute from the given tensors directly (functional_forward),
    so concurrent adaptations run in parallel; any other module is called through
    torch.func.functional_call holding module_lock(net).
    """
    lock = module_lock(net)
    pure = not swaps_tensors(net)

    def features(params: Params, buffers: Params, x: torch.Tensor) -> torch.Tensor:
        backbone = {k: v for k, v in params.items() if not k.startswith("head.")}
        if pure and not net.training:
            return net.functional_forward(backbone, buffers, x)  # reads only its arguments
        with lock:
            return functional_call(net, (backbone, buffers), (x,))

    over_tasks = getattr(net, "functional_forward_tasks", None)
    if pure and over_tasks is not None:

        def features_over_tasks(params: Params, buffers: Params, x: torch.Tensor):
            """(T, B, ...) images, parameters with a leading T -> (T, B, D) in one pass."""
            if net.training:
                raise RuntimeError("features over tasks need the network in eval mode")
            backbone = {k: v for k, v in params.items() if not k.startswith("head.")}
            return over_tasks(backbone, buffers, x)

        features.over_tasks = features_over_tasks  # type: ignore[attr-defined]
    return features


def frozen_features(features_fn: FeaturesFn, params: Params, buffers: Params) -> FeaturesFn:
    """features_fn at fixed `params`, each input computed once (no graph): for an inner loop
    that adapts the classifier only, whose backbone is the same at every step. The returned
    function ignores the parameters it is given; an input is known by its storage and shape."""
    cache: dict[tuple[int, tuple[int, ...]], torch.Tensor] = {}

    def features(_params: Params, _buffers: Params, x: torch.Tensor) -> torch.Tensor:
        key = (x.data_ptr(), tuple(x.shape))
        if key not in cache:
            with torch.no_grad():
                cache[key] = features_fn(params, buffers, x)
        return cache[key]

    return features
