"""Sums over some of an array's axes, as products with vectors of ones.

NumPy reduces the axes of a sum that leaves other axes standing in short loops: a middle
axis of (P, L, Q) in short strided loops (~0.55 ms for the (128, 100, 64) float32
embeddings of a bag of words, summed over the 100 ids), and a convolution's bias gradient,
the (64, 16, 24, 24) output gradient summed over (0, 2, 3), in 170 µs. A product with
ones streams the same numbers through BLAS: ones(1, L) @ x for the middle axis (~0.17 ms),
x @ ones and then ones @ that for the bias gradient (31 µs, and nearer the float64 sum:
BLAS keeps several partial sums, where NumPy adds the 64 images one after another).

So `sum_over` groups the axes into runs of summed and kept ones, and sums each summed run
as one product: a trailing run x (P, L) @ ones(L), a leading one ones(L) @ x (L, Q), a
middle one ones(1, L) @ x (P, L, Q). A full sum stays NumPy's (one pairwise pass, as fast).
"""
from __future__ import annotations

import math

from ..backend import device_of, float32, float64, xp

MIN_SIZE = 1 << 15  # below this NumPy's own reduction is as fast
BLAS_TYPES = (float32, float64)


def sum_over(x, axes: tuple, keepdims: bool = False):
    """x summed over `axes` (non-negative, sorted)."""
    if (not axes or len(axes) == x.ndim or x.size < MIN_SIZE or x.dtype not in BLAS_TYPES
            or not x.flags.c_contiguous or device_of(x) != "cpu"):
        return x.sum(axis=axes, keepdims=keepdims)
    runs = []  # [summed?, length] of each run of adjacent axes
    for axis, length in enumerate(x.shape):
        if runs and runs[-1][0] == (axis in axes):
            runs[-1][1] *= length
        else:
            runs.append([axis in axes, length])
    total = x
    for k in reversed(range(len(runs))):  # the last run first: what is left stays contiguous
        summed, length = runs[k]
        if not summed:
            continue
        ones = xp(x).ones(length, dtype=x.dtype)
        before = math.prod(n for _, n in runs[:k])
        after = total.size // (before * length)
        if after == 1:
            total = total.reshape(before, length) @ ones
        elif before == 1:
            total = ones @ total.reshape(length, after)
        else:
            total = ones[None] @ total.reshape(before, length, after)
    shape = tuple(1 if a in axes else n for a, n in enumerate(x.shape)) if keepdims else \
        tuple(n for a, n in enumerate(x.shape) if a not in axes)
    return total.reshape(shape)
