"""Fractional max pooling (Graham, 2014): `fractional_max_pool2d/3d` and their
`_with_indices` forms. The output size need not divide the input size: the windows (of
kernel_size) start at pseudo-random places, drawn once per plane from a sample u in [0, 1):

    start[i] = ⌊(i + u)·α⌋ - ⌊u·α⌋  (i < m - 1),   start[m - 1] = n - k,   α = (n - k)/(m - 1)

computed in the input's dtype, as PyTorch does, so that the same `_random_samples` give the
same windows. Each output is the max of its window, read by one gather from every window's
flat input positions; the gradient goes to the winner.
"""
from __future__ import annotations

import math

from ... import creation
from ...backend import xp
from ...composites.functions import gather, reshape
from ...tensor import Tensor
from .pooling import _tuple

__all__ = ["fractional_max_pool2d", "fractional_max_pool2d_with_indices",
           "fractional_max_pool3d", "fractional_max_pool3d_with_indices"]


def fractional_max_pool2d(input: Tensor, kernel_size, output_size=None,  # noqa: A002
                          output_ratio=None, return_indices: bool = False,
                          _random_samples=None):
    """Max pooling of (N, C, H, W) or (C, H, W) to output_size (or input size ·
    output_ratio) with kernel_size windows at random places; _random_samples
    (N, C, 2): one sample for the width, one for the height of each plane."""
    out = _fractional(input, kernel_size, output_size, output_ratio, _random_samples, 2,
                      "fractional_max_pool2d")
    return out if return_indices else out[0]


def fractional_max_pool3d(input: Tensor, kernel_size, output_size=None,  # noqa: A002
                          output_ratio=None, return_indices: bool = False,
                          _random_samples=None):
    """As fractional_max_pool2d for (N, C, D, H, W) or (C, D, H, W); _random_samples
    (N, C, 3): depth, height, width."""
    out = _fractional(input, kernel_size, output_size, output_ratio, _random_samples, 3,
                      "fractional_max_pool3d")
    return out if return_indices else out[0]


def fractional_max_pool2d_with_indices(input: Tensor, kernel_size, output_size=None,  # noqa: A002
                                       output_ratio=None, return_indices: bool = False,
                                       _random_samples=None):
    return _fractional(input, kernel_size, output_size, output_ratio, _random_samples, 2,
                       "fractional_max_pool2d")


def fractional_max_pool3d_with_indices(input: Tensor, kernel_size, output_size=None,  # noqa: A002
                                       output_ratio=None, return_indices: bool = False,
                                       _random_samples=None):
    return _fractional(input, kernel_size, output_size, output_ratio, _random_samples, 3,
                       "fractional_max_pool3d")


def _fractional(input, kernel_size, output_size, output_ratio, samples, nd, where):  # noqa: A002
    if input.ndim not in (nd + 1, nd + 2):
        raise ValueError(f"{where}: expected {nd + 1}-D (unbatched) or {nd + 2}-D (batched) "
                         f"input, got input of shape {tuple(input.shape)}")
    sizes = tuple(input.shape[-nd:])
    kernel = _tuple(kernel_size, nd, "kernel_size", where, 1)
    if output_size is None and output_ratio is None:
        raise ValueError(f"{where} requires specifying either an output_size or an "
                         "output_ratio")
    if output_size is None:
        ratio = _tuple_of(output_ratio, nd)
        output_size = tuple(int(n * r) for n, r in zip(sizes, ratio))
    out_sizes = _tuple(output_size, nd, "output_size", where, 1)
    for n, k, m in zip(sizes, kernel, out_sizes):
        if m + k - 1 > n or (nd == 3 and m + k - 1 == n):  # PyTorch's 3-D check is strict
            raise ValueError(f"{where}: kernel_size {kernel} too large relative to input "
                             f"of shape {tuple(input.shape)} for output_size {out_sizes}")
    batch = 1 if input.ndim == nd + 1 else input.shape[0]
    channels = input.shape[-nd - 1]
    if samples is None:
        samples = creation.rand(batch, channels, nd, dtype=input.dtype, device=input.device)
    if tuple(samples.shape) != (batch, channels, nd) or samples.dtype != input.dtype:
        raise ValueError(f"{where}: _random_samples must have shape {(batch, channels, nd)} "
                         f"and the input's dtype {input.dtype}, got {tuple(samples.shape)} "
                         f"{samples.dtype}")
    u = samples.array.reshape(batch * channels, nd)
    # PyTorch's 2-D kernel reads the width's sample first, the 3-D one the depth's
    order = (1, 0) if nd == 2 else (0, 1, 2)
    starts = [_starts(u[:, j], n, k, m) for j, n, k, m in zip(order, sizes, kernel, out_sizes)]
    positions = _window_positions(starts, kernel, sizes)    # (planes, outputs, window)
    planes = reshape(input, (batch * channels, math.prod(sizes)))
    flat = positions.reshape(batch * channels, -1)
    values = reshape(gather(planes, 1, flat), positions.shape)
    best, winner = values.max(-1)
    index = xp(positions).take_along_axis(positions, winner.array[..., None], -1)[..., 0]
    shape = input.shape[:-nd] + out_sizes
    return reshape(best, shape), Tensor._wrap(index.reshape(shape))


def _tuple_of(value, nd):
    return (value,) * nd if isinstance(value, (int, float)) else tuple(value)


def _starts(u, n: int, k: int, m: int):
    """(planes, m) window starts along one axis, from each plane's sample u."""
    starts = xp(u).full((u.shape[0], m), n - k, dtype="int64")
    if m > 1:
        alpha = (xp(u).asarray(n - k, dtype=u.dtype) / xp(u).asarray(m - 1, dtype=u.dtype))
        i = xp(u).arange(m - 1, dtype=u.dtype)
        starts[:, :-1] = ((i + u[:, None]) * alpha).astype("int64") - \
            (u[:, None] * alpha).astype("int64")
    return starts


def _window_positions(starts, kernel, sizes):
    """(planes, outputs, window elements): the flat position of each element of each
    window, axes in order (the window's elements and the outputs both row-major)."""
    nd = len(starts)
    strides = [math.prod(sizes[a + 1:]) for a in range(nd)]
    total = 0
    for a, (start, k, stride) in enumerate(zip(starts, kernel, strides)):
        along = start[:, :, None] + xp(starts[0]).arange(k)                       # (planes, m_a, k_a)
        shape = [start.shape[0]] + [1] * (2 * nd)
        shape[1 + a], shape[1 + nd + a] = along.shape[1], k
        total = total + along.reshape(shape) * stride
    planes = total.shape[0]
    outputs = math.prod(total.shape[1:1 + nd])
    return total.reshape(planes, outputs, -1)
