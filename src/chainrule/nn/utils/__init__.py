"""Helpers around modules: gradient clipping, parameters as one flat vector; weight and
spectral normalisation (norm_hooks), folding BatchNorm into a layer (fusion), and
sequences of different lengths (rnn).

Clipping scales gradients *out of place* (`p.grad` gets a new tensor): a gradient array
may be shared between parameters (the engine hands one gradient to both inputs of an
add), so writing into it would scale the others twice.
"""
from __future__ import annotations

import math

from ...backend import xp
from ...creation import as_tensor
from ...tensor import Tensor
from . import parametrizations, parametrize, prune, rnn  # noqa: F401  (PyTorch's submodules)
from .fusion import (  # noqa: F401
    fuse_conv_bn_eval,
    fuse_conv_bn_weights,
    fuse_linear_bn_eval,
    fuse_linear_bn_weights,
)
from .norm_hooks import (  # noqa: F401
    remove_spectral_norm,
    remove_weight_norm,
    spectral_norm,
    weight_norm,
)

__all__ = ["clip_grad_norm_", "clip_grad_value_", "get_total_norm", "clip_grads_with_norm_",
           "parameters_to_vector", "vector_to_parameters", "rnn", "parametrize", "prune",
           "parametrizations", "weight_norm",
           "remove_weight_norm", "spectral_norm", "remove_spectral_norm", "fuse_conv_bn_eval",
           "fuse_conv_bn_weights", "fuse_linear_bn_eval", "fuse_linear_bn_weights"]


def _as_list(tensors) -> list:
    if isinstance(tensors, Tensor):
        return [tensors]
    return list(tensors)


def _grads(parameters) -> list:
    """The gradients that exist; of a row-sparse one (chainrule.sparse), its stored rows,
    which hold all of its non-zero entries."""
    return [p.grad.values() if p.grad.is_sparse else p.grad
            for p in parameters if p.grad is not None]


def _map_grads(parameters, change) -> None:
    """p.grad ← change(its array), out of place; a row-sparse gradient keeps its rows."""
    for p in parameters:
        g = p.grad
        if g is None:
            continue
        p.grad = (g.with_values(change(g.values().array)) if g.is_sparse
                  else Tensor._wrap(change(g.array)))


def get_total_norm(tensors, norm_type: float = 2.0, error_if_nonfinite: bool = False,
                   foreach=None) -> Tensor:
    """The norm of all `tensors` together, as if concatenated into one vector."""
    arrays = [t.array if isinstance(t, Tensor) else t for t in _as_list(tensors)]
    norm_type = float(norm_type)
    if not arrays:
        return as_tensor(0.0)
    dtype = arrays[0].dtype
    if math.isinf(norm_type):
        # ‖g‖∞ = max |gᵢ|  (the smallest |gᵢ| for -inf, as PyTorch)
        pick = xp(arrays[0]).max if norm_type > 0 else xp(arrays[0]).min
        parts = [pick(abs(a)) if a.size else xp(a).zeros((), dtype) for a in arrays]
        total = pick(xp(arrays[0]).stack(parts))
    elif norm_type == 0:
        total = sum(xp(a).count_nonzero(a) for a in arrays) * dtype.type(1)
    else:
        # ‖g‖ₚ = (Σ |gᵢ|ᵖ)^(1/p), accumulated per tensor
        if norm_type == 2.0:
            parts = [xp(a).vdot(a.ravel(), a.ravel()) for a in arrays]
        else:
            parts = [(abs(a) ** norm_type).sum() for a in arrays]
        total = sum(parts) ** (1.0 / norm_type)
    total = xp(arrays[0]).asarray(total, dtype=dtype)
    if error_if_nonfinite and not bool(xp(total).isfinite(total)):
        raise RuntimeError(
            f"The total norm of order {norm_type} for gradients from `parameters` is "
            "non-finite, so it cannot be clipped. To disable this error and scale the "
            "gradients by the non-finite norm anyway, set `error_if_nonfinite=False`")
    return Tensor._wrap(total)


def clip_grads_with_norm_(parameters, max_norm: float, total_norm, foreach=None) -> None:
    """Scale every gradient by max_norm / (total_norm + 1e-6) when that is below 1."""
    parameters = _as_list(parameters)
    total = total_norm.item() if isinstance(total_norm, Tensor) else float(total_norm)
    coef = float(max_norm) / (total + 1e-6)
    if coef >= 1.0:  # PyTorch multiplies by the clamped 1.0, which changes nothing
        return
    _map_grads(parameters, lambda g: g * g.dtype.type(coef))


def clip_grad_norm_(parameters, max_norm: float, norm_type: float = 2.0,
                    error_if_nonfinite: bool = False, foreach=None) -> Tensor:
    """Rescale gradients so that their joint norm is at most `max_norm`; returns the norm
    before clipping (a tensor), as PyTorch."""
    parameters = _as_list(parameters)
    grads = _grads(parameters)
    total = get_total_norm(grads, norm_type, error_if_nonfinite)
    if grads:
        clip_grads_with_norm_(parameters, max_norm, total)
    return total


def clip_grad_value_(parameters, clip_value: float, foreach=None) -> None:
    """Clamp every gradient element into [-clip_value, clip_value]."""
    clip_value = float(clip_value)
    _map_grads(_as_list(parameters), lambda g: xp(g).clip(g, -clip_value, clip_value))


def parameters_to_vector(parameters) -> Tensor:
    """All parameters flattened and joined into one 1-D tensor (a copy, no graph)."""
    arrays = [p.array.ravel() for p in _as_list(parameters)]
    if not arrays:
        raise ValueError("parameters_to_vector: no parameters given")
    return Tensor._wrap(xp(arrays[0]).concatenate(arrays))


def vector_to_parameters(vec: Tensor, parameters) -> None:
    """Copy consecutive slices of the 1-D `vec` into the parameters (the inverse of
    `parameters_to_vector`)."""
    if not isinstance(vec, Tensor) or vec.ndim != 1:
        raise TypeError(f"vector_to_parameters: expected a 1-D tensor, got "
                        f"{type(vec).__name__} of shape {getattr(vec, 'shape', None)}")
    parameters = _as_list(parameters)
    needed = sum(p.numel() for p in parameters)
    if needed != vec.shape[0]:
        raise ValueError(f"vector_to_parameters: the vector has {vec.shape[0]} elements but "
                         f"the parameters hold {needed}")
    start = 0
    for p in parameters:
        n = p.numel()
        p.array = vec.array[start:start + n].reshape(p.shape).astype(p.dtype, copy=True)
        start += n


clip_grad_norm = clip_grad_norm_  # PyTorch's deprecated name


def skip_init(module_cls, *args, **kwargs):
    """The module built as usual (PyTorch skips the initial fill; here it is kept, so the
    weights are initialised rather than left as arbitrary memory)."""
    kwargs.pop("device", None)
    return module_cls(*args, **kwargs)
