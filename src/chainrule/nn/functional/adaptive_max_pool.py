"""Adaptive max pooling: the largest value in each of `output_size` windows that tile the
input (window i of n inputs into m outputs: [floor(i·n/m), ceil((i+1)·n/m))).

A max over a rectangle is a max over rows of maxima over columns, so each spatial axis is
pooled in turn: one `max` per output position along that axis, stacked. The gradient of
each max goes to the element that was largest (ties: PyTorch's kernel also picks one)."""
from __future__ import annotations

import math

from ...ops.functions import stack
from ...tensor import Tensor

__all__ = ["adaptive_max_pool1d", "adaptive_max_pool2d"]


def _windows(n: int, m: int) -> list[tuple[int, int]]:
    return [(math.floor(i * n / m), math.ceil((i + 1) * n / m)) for i in range(m)]


def _pool_axis(x: Tensor, axis: int, m: int) -> Tensor:
    n = x.shape[axis]
    before = (slice(None),) * axis
    parts = [x[before + (slice(start, end),)].max(axis)[0] for start, end in _windows(n, m)]
    return stack(parts, axis)


def _adaptive_max(input: Tensor, output_size, nd: int, name: str, return_indices: bool):  # noqa: A002
    if return_indices:
        raise NotImplementedError(f"{name}: return_indices=True is not supported (the "
                                  "pooled values are; MaxUnpool is not available)")
    if input.ndim not in (nd + 1, nd + 2):
        raise ValueError(f"{name}: expected {nd + 1}D or {nd + 2}D input, got shape "
                         f"{tuple(input.shape)}")
    sizes = (output_size,) * nd if isinstance(output_size, int) or output_size is None \
        else tuple(output_size)
    out = input
    for k, m in enumerate(sizes):
        axis = input.ndim - nd + k
        out = _pool_axis(out, axis, input.shape[axis] if m is None else m)
    return out


def adaptive_max_pool1d(input: Tensor, output_size, return_indices: bool = False) -> Tensor:  # noqa: A002
    """(N, C, L) or (C, L) -> (..., output_size)."""
    return _adaptive_max(input, output_size, 1, "adaptive_max_pool1d", return_indices)


def adaptive_max_pool2d(input: Tensor, output_size, return_indices: bool = False) -> Tensor:  # noqa: A002
    """(N, C, H, W) or (C, H, W) -> (..., oh, ow); an int means a square, None keeps a dim."""
    return _adaptive_max(input, output_size, 2, "adaptive_max_pool2d", return_indices)
