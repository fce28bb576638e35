"""Adaptive max pooling: the largest value in each of `output_size` windows that tile the
input (window i of n inputs into m outputs: [floor(i·n/m), ceil((i+1)·n/m))).

A max over a box is a max over rows of maxima over columns, so each spatial axis is
pooled in turn: one `max` per output position along that axis, stacked. The gradient of
each max goes to the element that was largest (ties: PyTorch's kernel also picks one).
The indices (flat positions in each input plane or volume, as max_unpool reads them) ride
along: each axis's winners pick the positions of the values they won with."""
from __future__ import annotations

import math

from ... import backend
from ...composites.functions import stack
from ...tensor import Tensor

__all__ = ["adaptive_max_pool1d", "adaptive_max_pool2d", "adaptive_max_pool3d",
           "adaptive_max_pool1d_with_indices", "adaptive_max_pool2d_with_indices",
           "adaptive_max_pool3d_with_indices"]


def _windows(n: int, m: int) -> list[tuple[int, int]]:
    return [(math.floor(i * n / m), math.ceil((i + 1) * n / m)) for i in range(m)]


def _pool_axis(x: Tensor, where, axis: int, m: int):
    """x pooled along `axis` to m outputs, and (when `where` holds the flat input position
    of each value of x) the positions of the winners."""
    before = (slice(None),) * axis
    values, positions = [], []
    for start, end in _windows(x.shape[axis], m):
        window = before + (slice(start, end),)
        value, winner = x[window].max(axis, keepdim=True)
        values.append(value)
        if where is not None:
            positions.append(backend.xp(where).take_along_axis(where[window], winner.array,
                                                               axis))
    joined = stack(values, axis).squeeze(axis + 1)
    return joined, None if where is None else backend.xp(where).concatenate(positions, axis)


def _adaptive_max(input: Tensor, output_size, nd: int, name: str, return_indices: bool):  # noqa: A002
    if input.ndim not in (nd + 1, nd + 2):
        raise ValueError(f"{name}: expected {nd + 1}D or {nd + 2}D input, got shape "
                         f"{tuple(input.shape)}")
    sizes = (output_size,) * nd if isinstance(output_size, int) or output_size is None \
        else tuple(output_size)
    if len(sizes) != nd or any(m is not None and m < 1 for m in sizes):
        raise ValueError(f"{name}: output_size must be a positive int or {nd} of them (None "
                         f"keeps a size), got {output_size}")
    where = None
    if return_indices:
        spatial = input.shape[-nd:]
        flat = backend.xp(input.array).arange(math.prod(spatial)).reshape(spatial)
        where = backend.xp(input.array).broadcast_to(flat, input.shape)
    out = input
    for k, m in enumerate(sizes):
        axis = input.ndim - nd + k
        out, where = _pool_axis(out, where, axis, input.shape[axis] if m is None else m)
    return (out, Tensor._wrap(where)) if return_indices else out


def adaptive_max_pool1d(input: Tensor, output_size, return_indices: bool = False):  # noqa: A002
    """(N, C, L) or (C, L) -> (..., output_size); with return_indices also the positions."""
    return _adaptive_max(input, output_size, 1, "adaptive_max_pool1d", return_indices)


def adaptive_max_pool2d(input: Tensor, output_size, return_indices: bool = False):  # noqa: A002
    """(N, C, H, W) or (C, H, W) -> (..., oh, ow); an int means a square, None keeps a dim."""
    return _adaptive_max(input, output_size, 2, "adaptive_max_pool2d", return_indices)


def adaptive_max_pool3d(input: Tensor, output_size, return_indices: bool = False):  # noqa: A002
    """(N, C, D, H, W) or (C, D, H, W) -> (..., od, oh, ow)."""
    return _adaptive_max(input, output_size, 3, "adaptive_max_pool3d", return_indices)


def adaptive_max_pool1d_with_indices(input: Tensor, output_size,  # noqa: A002
                                     return_indices: bool = False):
    """adaptive_max_pool1d's (values, indices), whatever return_indices says (as in PyTorch)."""
    return _adaptive_max(input, output_size, 1, "adaptive_max_pool1d", True)


def adaptive_max_pool2d_with_indices(input: Tensor, output_size,  # noqa: A002
                                     return_indices: bool = False):
    """adaptive_max_pool2d's (values, indices), whatever return_indices says (as in PyTorch)."""
    return _adaptive_max(input, output_size, 2, "adaptive_max_pool2d", True)


def adaptive_max_pool3d_with_indices(input: Tensor, output_size,  # noqa: A002
                                     return_indices: bool = False):
    """adaptive_max_pool3d's (values, indices), whatever return_indices says (as in PyTorch)."""
    return _adaptive_max(input, output_size, 3, "adaptive_max_pool3d", True)
