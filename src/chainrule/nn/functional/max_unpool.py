"""`max_unpool1d/2d/3d`: the partial inverse of max pooling. Each pooled value goes back to
the place its index names (a flat position in its plane or volume); everything else is 0.

    out.flatten(2)[n, c, indices[n, c, j]] = input[n, c, j]

A scatter into zeros; its gradient reads the output gradient at the same indices. Windows
that overlap can pool one element twice: both copies then get its slot's gradient (a
scatter-add's backward), and the slot holds the value written last (PyTorch's CPU kernel,
a plain assignment). The
output size defaults to (in - 1)·stride - 2·padding + kernel per axis; `output_size` picks
another within one stride of it (the sizes a pooling with ceil_mode or odd input made).
"""
from __future__ import annotations

import math

from ...backend import xp
from ...composites.functions import reshape
from ...tensor import Tensor
from .pooling import _tuple

__all__ = ["max_unpool1d", "max_unpool2d", "max_unpool3d"]


def max_unpool1d(input: Tensor, indices: Tensor, kernel_size, stride=None, padding=0,  # noqa: A002
                 output_size=None) -> Tensor:
    """(N, C, L) or (C, L) -> (..., L_out)."""
    return _unpool(input, indices, kernel_size, stride, padding, output_size, 1,
                   "max_unpool1d")


def max_unpool2d(input: Tensor, indices: Tensor, kernel_size, stride=None, padding=0,  # noqa: A002
                 output_size=None) -> Tensor:
    """(N, C, H, W) or (C, H, W) -> (..., H_out, W_out)."""
    return _unpool(input, indices, kernel_size, stride, padding, output_size, 2,
                   "max_unpool2d")


def max_unpool3d(input: Tensor, indices: Tensor, kernel_size, stride=None, padding=0,  # noqa: A002
                 output_size=None) -> Tensor:
    """(N, C, D, H, W) or (C, D, H, W) -> (..., D_out, H_out, W_out)."""
    return _unpool(input, indices, kernel_size, stride, padding, output_size, 3,
                   "max_unpool3d")


def _unpool(input, indices, kernel_size, stride, padding, output_size, nd, where):  # noqa: A002
    if input.ndim not in (nd + 1, nd + 2):
        raise ValueError(f"{where}: expected {nd + 1}-D (unbatched) or {nd + 2}-D (batched) "
                         f"input, got input of shape {tuple(input.shape)}")
    if tuple(indices.shape) != tuple(input.shape):
        raise ValueError(f"{where}: indices of shape {tuple(indices.shape)} must have the "
                         f"shape of the input {tuple(input.shape)}")
    kernel = _tuple(kernel_size, nd, "kernel_size", where, 1)
    stride = kernel if stride is None else _tuple(stride, nd, "stride", where, 1)
    padding = _tuple(padding, nd, "padding", where, 0)
    sizes = _output_size(input.shape[-nd:], kernel, stride, padding, output_size, where)
    lead = input.shape[:-nd]
    rows = math.prod(lead)
    index = (indices.array if isinstance(indices, Tensor) else indices).reshape(rows, -1)
    area = math.prod(sizes)
    if index.size and (int(index.min()) < 0 or int(index.max()) >= area):
        bad = int(index.max()) if int(index.max()) >= area else int(index.min())
        raise ValueError(f"{where}: found an invalid max index {bad} (output volumes are of "
                         f"size {' x '.join(map(str, sizes))})")
    index = index.astype("int64")
    values = reshape(input, (rows, -1))
    zeros = Tensor._wrap(xp(input.array).zeros((rows, area), dtype=input.dtype))
    added = zeros.scatter_add(1, index, values)
    written = xp(input.array).zeros((rows, area), dtype=input.dtype)
    written[xp(input.array).arange(rows)[:, None], index] = values.array
    out = added + Tensor._wrap(written - added.array)   # repeated indices: not their sum
    return reshape(out, lead + sizes)


def _output_size(spatial, kernel, stride, padding, output_size, where) -> tuple:
    default = tuple((n - 1) * s - 2 * p + k for n, k, s, p in
                    zip(spatial, kernel, stride, padding))
    if output_size is None:
        return default
    wanted = tuple(int(o) for o in output_size)
    if len(wanted) == len(spatial) + 2:
        wanted = wanted[2:]
    if len(wanted) != len(spatial):
        raise ValueError(f"{where}: output_size should be a sequence of {len(spatial)} or "
                         f"{len(spatial) + 2} ints, got {tuple(output_size)}")
    for d, (o, n, s) in enumerate(zip(wanted, default, stride)):
        if not n - s < o < n + s:
            raise ValueError(f"{where}: invalid output_size {tuple(output_size)} (dim {d} "
                             f"must be between {n - s} and {n + s})")
    return wanted
