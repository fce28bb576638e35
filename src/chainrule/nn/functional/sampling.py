"""Spatial transformers: `affine_grid` (where each output pixel looks in the input) and
`grid_sample` (read the input there), for images (N, C, H, W) and volumes (N, C, D, H, W).

A grid holds normalised coordinates, -1 .. 1 across the input ((x, y) or (x, y, z), x along
the width). They become pixel coordinates

    s = (g + 1)/2 · (n - 1)             align_corners=True   (-1 and 1: the corner centres)
    s = ((g + 1) · n - 1)/2             align_corners=False  (-1 and 1: the corner edges)

then padding_mode decides what lies outside: "zeros" reads 0, "border" clamps s into
[0, n - 1], "reflection" mirrors s at the borders (at the centres or the edges). The value
is a weighted sum of gathered neighbours: 2 per axis (bilinear: weights 1 - t and t, t the
fractional part of s), 1 (nearest: s rounded half to even), or 4 (bicubic, 2-D only: Keys'
cubic weights of t, the padding applied to each neighbour's index). Gradients reach the
input through the gathers and the grid through the weights (and the clamps and mirrors).
"""
from __future__ import annotations

import itertools
import math

from ...backend import xp
from ...composites.functions import abs, clamp, gather, matmul, reshape, where  # noqa: A004
from ...composites.node_names import pytorch_node
from ...tensor import Tensor
from .resize import cubic_weights

__all__ = ["grid_sample", "affine_grid"]

MODES = ("bilinear", "nearest", "bicubic")
PADDING_MODES = ("zeros", "border", "reflection")


@pytorch_node("GridSampler2DBackward0")
def grid_sample(input: Tensor, grid: Tensor, mode: str = "bilinear",  # noqa: A002
                padding_mode: str = "zeros", align_corners: bool | None = None) -> Tensor:
    """Sample input (N, C, H, W) at grid (N, H_out, W_out, 2) → (N, C, H_out, W_out);
    or input (N, C, D, H, W) at grid (N, D_out, H_out, W_out, 3)."""
    nd = input.ndim - 2
    if input.ndim not in (4, 5) or grid.ndim != input.ndim or grid.shape[-1] != nd or \
            grid.shape[0] != input.shape[0]:
        raise ValueError(f"grid_sample: expected input (N, C, H, W) with grid (N, H_out, "
                         f"W_out, 2), or input (N, C, D, H, W) with grid (N, D_out, H_out, "
                         f"W_out, 3); got input {tuple(input.shape)} and grid "
                         f"{tuple(grid.shape)}")
    if mode not in MODES:
        raise ValueError(f"grid_sample: mode must be one of {', '.join(MODES)}, got {mode!r}")
    if padding_mode not in PADDING_MODES:
        raise ValueError(f"grid_sample: padding_mode must be one of "
                         f"{', '.join(PADDING_MODES)}, got {padding_mode!r}")
    if mode == "bicubic" and nd != 2:
        raise ValueError("grid_sample: bicubic interpolation only supports 4-D input")
    align = bool(align_corners)
    sizes = input.shape[2:]
    # grid component nd - 1 - a indexes input axis a (x is the last axis, the width)
    coords = [_pixel(grid[..., nd - 1 - a], n, align) for a, n in enumerate(sizes)]
    taps = []                               # per axis: [(index array, weight), ...]
    for s, n in zip(coords, sizes):
        if mode == "bicubic":
            low = xp(s.array).floor(s.array)
            weights = cubic_weights(s - Tensor._wrap(low))
            taps.append([(_padded_index(low + k - 1, n, padding_mode, align), w)
                         for k, w in enumerate(weights)])
            continue
        s = _pad(s, n, padding_mode, align)
        if mode == "nearest":
            taps.append([(xp(s.array).round(s.array), None)])
        else:
            low = xp(s.array).floor(s.array)
            t = s - Tensor._wrap(low)
            taps.append([(low, 1 - t), (low + 1, t)])
    return _weighted_gathers(input, taps, sizes)


def _weighted_gathers(input: Tensor, taps, sizes) -> Tensor:  # noqa: A002
    """Σ over neighbour combinations of (Π weights) · input at the combined index, with
    indices outside the input reading 0."""
    n, channels = input.shape[:2]
    out_shape = taps[0][0][0].shape                         # (N, *out)
    flat_input = reshape(input, (n, channels, math.prod(sizes)))
    total = None
    for combination in itertools.product(*taps):
        flat = 0
        inside = True
        for (position, _), size in zip(combination, sizes):
            inside = inside & (position >= 0) & (position <= size - 1)
            flat = flat * size + xp(input.array).clip(position, 0, size - 1).astype("int64")
        flat = xp(input.array).broadcast_to(flat.reshape(n, 1, -1), (n, channels, math.prod(out_shape[1:])))
        values = reshape(gather(flat_input, 2, flat), (n, channels) + out_shape[1:])
        weight = Tensor._wrap(inside.astype(input.dtype))
        for _, w in combination:
            if w is not None:
                weight = weight * w
        term = values * reshape(weight, (n, 1) + out_shape[1:])
        total = term if total is None else total + term
    return total


def _pixel(g: Tensor, n: int, align: bool) -> Tensor:
    """Normalised coordinate → pixel coordinate."""
    return (g + 1) / 2 * (n - 1) if align else ((g + 1) * n - 1) / 2


def _pad(s: Tensor, n: int, padding_mode: str, align: bool) -> Tensor:
    """Where a continuous coordinate reads under padding_mode ("zeros": unchanged)."""
    if padding_mode == "reflection":
        s = _reflect(s, 0, 2 * (n - 1)) if align else _reflect(s, -1, 2 * n - 1)
    if padding_mode != "zeros":
        s = clamp(s, 0, n - 1)
    return s


def _padded_index(index, n: int, padding_mode: str, align: bool):
    """Where an integer neighbour index (an array) reads under padding_mode (bicubic's taps)."""
    return _pad(Tensor._wrap(index), n, padding_mode, align).array


def _reflect(s: Tensor, twice_low: int, twice_high: int) -> Tensor:
    """s mirrored into [low, high] (bounds given doubled, to stay integers): the distance
    from low, folded back every span."""
    if twice_low == twice_high:
        return s * 0
    low, span = twice_low / 2, (twice_high - twice_low) / 2
    distance = abs(s - low)
    flips = xp(distance.array).floor(distance.array / span)
    extra = distance - Tensor._wrap(flips * span)            # distance mod span
    return where(Tensor._wrap(flips % 2 == 0), extra + low, span - extra + low)


@pytorch_node("AffineGridGeneratorBackward0")
def affine_grid(theta: Tensor, size, align_corners: bool | None = None) -> Tensor:
    """The sampling grid of affine maps theta (N, 2, 3) for an output of size (N, C, H, W)
    → (N, H, W, 2); or theta (N, 3, 4), size (N, C, D, H, W) → (N, D, H, W, 3). Each grid
    point is theta · (x, y, 1) (or (x, y, z, 1)) over the output's normalised coordinates."""
    size = tuple(int(s) for s in size)
    nd = len(size) - 2
    if nd not in (2, 3) or theta.ndim != 3 or tuple(theta.shape) != (size[0], nd, nd + 1):
        raise ValueError(f"affine_grid: expected theta (N, 2, 3) with size (N, C, H, W) or "
                         f"theta (N, 3, 4) with size (N, C, D, H, W); got theta "
                         f"{tuple(theta.shape)} and size {size}")
    if min(size[2:]) < 1:
        raise ValueError(f"affine_grid: the output size {size} must be positive")
    axes = [_steps(n, bool(align_corners), theta.array) for n in reversed(size[2:])]  # x, y, (z)
    mesh = xp(axes[0]).meshgrid(*axes[::-1], indexing="ij")[::-1]             # each (D,) H, W
    base = xp(axes[0]).stack(list(mesh) + [xp(axes[0]).ones_like(mesh[0])], -1).reshape(-1, nd + 1)
    points = matmul(Tensor._wrap(base.astype(theta.dtype)), theta.transpose(1, 2))
    return reshape(points, (size[0],) + size[2:] + (nd,))


def _steps(n: int, align: bool, like):
    """The normalised coordinates of n pixel centres (on `like`'s device)."""
    if n <= 1:
        return xp(like).zeros(1)
    steps = xp(like).linspace(-1.0, 1.0, n)
    return steps if align else steps * (n - 1) / n
