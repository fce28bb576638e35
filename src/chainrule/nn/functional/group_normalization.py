"""Normalisations over groups of channels, single instances, RMS, and neighbouring
channels: group_norm, instance_norm, rms_norm, local_response_norm. Composed of mean,
sqrt and arithmetic ops, so their gradients follow by the chain rule.

    group_norm:    x̂ = (x - mean_g) / sqrt(var_g + eps) over each group of C/G channels
                   (and all positions) of one sample; then x̂ · w[c] + b[c]
    instance_norm: group_norm with one group per channel (optionally with running stats)
    rms_norm:      x / sqrt(mean(x²) + eps) over the last dims, times w
    local_response_norm: x / (k + alpha · mean of x² over `size` neighbouring channels)^beta
"""
from __future__ import annotations

import numpy

from ...composites import functions
from ...composites.node_names import pytorch_node
from ...tensor import Tensor
from .misc import pad
from .normalization import normalized_shape_tuple

__all__ = ["group_norm", "instance_norm", "rms_norm", "local_response_norm"]


def _standardize(x: Tensor, dims: tuple, eps: float) -> Tensor:
    """(x - mean) / sqrt(biased variance + eps) over `dims`."""
    centered = x - x.mean(dims, keepdim=True)
    return centered / functions.sqrt((centered * centered).mean(dims, keepdim=True) + eps)


def _per_channel(t: Tensor, ndim: int) -> Tensor:
    """A (C,) weight or bias shaped to broadcast over (N, C, *spatial)."""
    return t.reshape((1, -1) + (1,) * (ndim - 2))


@pytorch_node("NativeGroupNormBackward0")
def group_norm(input: Tensor, num_groups: int, weight: Tensor | None = None,  # noqa: A002
               bias: Tensor | None = None, eps: float = 1e-5) -> Tensor:
    if input.ndim < 2:
        raise RuntimeError(f"group_norm: expected an input with at least 2 dims (N, C, ...), "
                           f"got shape {tuple(input.shape)}")
    n, channels = input.shape[:2]
    if channels % num_groups:
        raise RuntimeError(f"group_norm: expected number of channels in input ({channels}) "
                           f"to be divisible by num_groups ({num_groups})")
    grouped = input.reshape(n, num_groups, -1)
    out = _standardize(grouped, (2,), eps).reshape(input.shape)
    if weight is not None:
        out = out * _per_channel(weight, input.ndim)
    if bias is not None:
        out = out + _per_channel(bias, input.ndim)
    return out


def instance_norm(input: Tensor, running_mean: Tensor | None = None,  # noqa: A002
                  running_var: Tensor | None = None, weight: Tensor | None = None,
                  bias: Tensor | None = None, use_input_stats: bool = True,
                  momentum: float = 0.1, eps: float = 1e-5) -> Tensor:
    """Each channel of each sample normalised over its positions. With running stats and
    `use_input_stats`, the batch statistics also update them (as batch norm does, the
    variance unbiased); without `use_input_stats` the running ones are used."""
    if input.ndim < 3:
        raise ValueError(f"instance_norm: expected an input of at least 3 dims (N, C, ...), "
                         f"got shape {tuple(input.shape)}")
    dims = tuple(range(2, input.ndim))
    if use_input_stats:
        out = _standardize(input, dims, eps)
        if running_mean is not None and running_var is not None:
            _update_running(input.array, dims, running_mean, running_var, momentum)
    else:
        mean = _per_channel(running_mean, input.ndim)
        out = (input - mean) / functions.sqrt(_per_channel(running_var, input.ndim) + eps)
    if weight is not None:
        out = out * _per_channel(weight, input.ndim)
    if bias is not None:
        out = out + _per_channel(bias, input.ndim)
    return out


def _update_running(x, dims, running_mean: Tensor, running_var: Tensor, momentum: float):
    """r <- (1 - momentum) r + momentum · (the batch's per-channel statistic, averaged
    over the samples)."""
    count = int(numpy.prod([x.shape[d] for d in dims]))
    mean = x.mean(dims).mean(0)
    var = x.var(dims, ddof=1 if count > 1 else 0).mean(0)
    running_mean.array[...] = (1 - momentum) * running_mean.array + momentum * mean
    running_var.array[...] = (1 - momentum) * running_var.array + momentum * var


def rms_norm(input: Tensor, normalized_shape, weight: Tensor | None = None,  # noqa: A002
             eps: float | None = None) -> Tensor:
    """x / sqrt(mean(x²) + eps) over the trailing `normalized_shape` dims, times weight;
    eps defaults to the machine epsilon of the input's dtype, as PyTorch."""
    shape = normalized_shape_tuple(normalized_shape)
    if tuple(input.shape[input.ndim - len(shape):]) != shape:
        raise RuntimeError(f"rms_norm: given normalized_shape={list(shape)}, expected input "
                           f"with shape [*, {', '.join(map(str, shape))}], but got input of "
                           f"size {tuple(input.shape)}")
    eps = float(numpy.finfo(input.dtype).eps) if eps is None else eps
    dims = tuple(range(input.ndim - len(shape), input.ndim))
    out = input / functions.sqrt((input * input).mean(dims, keepdim=True) + eps)
    return out if weight is None else out * weight


def local_response_norm(input: Tensor, size: int, alpha: float = 1e-4,  # noqa: A002
                        beta: float = 0.75, k: float = 1.0) -> Tensor:
    """Each value divided by (k + alpha · the mean of squares over the `size` channels
    around it, zeros beyond the edges)^beta (AlexNet's normalisation)."""
    if input.ndim < 3:
        raise ValueError(f"local_response_norm: expected 3D or higher dimensionality input "
                         f"(got {input.ndim} dimensions)")
    if input.shape[1] == 0:
        return input
    channels = input.shape[1]
    squares = input * input
    moved = squares.reshape(input.shape[0], channels, -1).transpose(1, 2)   # (N, L, C)
    padded = pad(moved, (size // 2, (size - 1) // 2))
    window = padded[..., 0:channels]
    for offset in range(1, size):
        window = window + padded[..., offset:offset + channels]
    average = (window / size).transpose(1, 2).reshape(input.shape)
    return input / (average * alpha + k) ** beta
