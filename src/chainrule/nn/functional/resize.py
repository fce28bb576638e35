"""Resizing images and signals: `interpolate` (nearest, nearest-exact, linear, bilinear,
bicubic, trilinear, area), its old names (`upsample`, `upsample_nearest`, `upsample_bilinear`), and
`pixel_shuffle` / `pixel_unshuffle` (channels to space and back).

Interpolation is separable: each spatial axis is resized in turn by gathering rows of
the input (an index op, whose backward adds each gradient back to the row it was read
from) and, for the linear modes, mixing the two neighbours with weights 1 - t and t:

    out[j] = x[i0] · (1 - t) + x[i1] · t,   i0 = floor(s), i1 = min(i0 + 1, n - 1), t = s - i0
    s = j · (n - 1) / (m - 1)                        with align_corners
    s = max((j + 1/2) · scale - 1/2, 0)              without (scale = n / m, or 1 / scale_factor)
nearest reads x[min(floor(j · scale), n - 1)]; nearest-exact x[min(floor((j + 1/2) · scale), n - 1)].
bicubic mixes the four neighbours i0 - 1 .. i0 + 2 (clamped to the input) with Keys' cubic
convolution weights (a = -0.75), s unclamped: (j + 1/2) · scale - 1/2.

antialias=True (bilinear, bicubic) widens the filter when shrinking, so that every input
pixel counts: output j averages the inputs i within `support` of its centre c = (j + 1/2)·scale,
weighted by the triangle (bilinear) or Keys' cubic with a = -0.5 (bicubic) at
(i + 1/2 - c)/scale, normalised to sum 1; one matrix product per axis.
"""
from __future__ import annotations

import math

from ...backend import xp
from ...composites.functions import index, matmul
from ...composites.node_names import named, pytorch_node
from ...tensor import Tensor
from .pooling import adaptive_avg_pool1d, adaptive_avg_pool2d
from .pooling3d import adaptive_avg_pool3d

__all__ = ["interpolate", "upsample", "upsample_nearest", "upsample_bilinear",
           "pixel_shuffle", "pixel_unshuffle"]

LINEAR_MODES = {"linear": 1, "bilinear": 2, "bicubic": 2, "trilinear": 3}  # input dims
AREA = {1: adaptive_avg_pool1d, 2: adaptive_avg_pool2d, 3: adaptive_avg_pool3d}
CUBIC_A = -0.75  # the cubic convolution kernel's free parameter, as PyTorch's


def cubic_near(d, a=CUBIC_A):
    """Keys' cubic convolution kernel for 0 ≤ d ≤ 1: ((a + 2)d - (a + 3))d² + 1."""
    return ((a + 2) * d - (a + 3)) * d * d + 1


def cubic_far(d, a=CUBIC_A):
    """The kernel for 1 < d < 2: ((d - 5)d + 8)·a·d - 4a."""
    return ((a * d - 5 * a) * d + 8 * a) * d - 4 * a


def cubic_weights(t):
    """The kernel's weights of the neighbours at offsets -1, 0, 1, 2 from floor(s), for
    t = s - floor(s) in [0, 1) (arrays or tensors alike)."""
    return [cubic_far(t + 1), cubic_near(t), cubic_near(1 - t), cubic_far(2 - t)]


def interpolate(input: Tensor, size=None, scale_factor=None, mode: str = "nearest",  # noqa: A002
                align_corners: bool | None = None, recompute_scale_factor: bool | None = None,
                antialias: bool = False) -> Tensor:
    """Resize the spatial dims (all but the first two) to `size`, or by `scale_factor`."""
    spatial = input.ndim - 2
    if spatial < 1:
        raise ValueError(f"interpolate: expected an input of at least 3 dims (N, C, ...), "
                         f"got shape {tuple(input.shape)}")
    if mode in LINEAR_MODES and LINEAR_MODES[mode] != spatial:
        raise NotImplementedError(f"interpolate: mode {mode!r} needs a {LINEAR_MODES[mode] + 2}"
                                  f"-D input, got shape {tuple(input.shape)}")
    if mode not in ("nearest", "nearest-exact", "area", *LINEAR_MODES):
        raise NotImplementedError(f"interpolate: mode {mode!r} is not supported (use nearest, "
                                  "nearest-exact, linear, bilinear, bicubic, trilinear or area)")
    if antialias and (mode not in ("bilinear", "bicubic") or spatial != 2):
        raise ValueError("interpolate: anti-alias option is restricted to bilinear and "
                         f"bicubic modes and requires a 4-D input, got mode {mode!r} and "
                         f"shape {tuple(input.shape)}")
    if align_corners is not None and mode not in LINEAR_MODES:
        raise ValueError("align_corners option can only be set with the interpolating modes: "
                         "linear | bilinear | bicubic | trilinear")
    sizes, scales = _output_sizes(input, size, scale_factor, spatial, recompute_scale_factor)
    if mode == "area":
        if spatial not in AREA:
            raise NotImplementedError(f"interpolate: mode 'area' needs a 3-D to 5-D input, "
                                      f"got shape {tuple(input.shape)}")
        return AREA[spatial](input, sizes)
    out = input
    for k, (n, m, scale) in enumerate(zip(input.shape[2:], sizes, scales)):
        if antialias:
            out = _filter_axis(out, 2 + k, n, m, scale, mode, bool(align_corners))
        else:
            out = _resize_axis(out, 2 + k, n, m, scale, mode, bool(align_corners))
    return out if out is input else named(out, _upsample_name(mode, spatial, antialias))


def _upsample_name(mode: str, spatial: int, antialias: bool) -> str:
    """PyTorch's node for a resize: UpsampleNearest2DBackward0, UpsampleBilinear2DBackward0."""
    kind = "".join(part.capitalize() for part in mode.split("-"))
    return f"Upsample{kind}{spatial}D{'Aa' if antialias else ''}Backward0"


def _output_sizes(input, size, scale_factor, spatial, recompute):  # noqa: A002
    """The output sizes, and the scale (input / output step) each axis's indices use."""
    if (size is None) == (scale_factor is None):
        raise ValueError("interpolate: give exactly one of size and scale_factor")
    shape = input.shape[2:]
    if size is not None:
        sizes = (size,) * spatial if isinstance(size, int) else tuple(int(s) for s in size)
        if len(sizes) != spatial:
            raise ValueError(f"interpolate: size {size} must have {spatial} entries for input "
                             f"of shape {tuple(input.shape)}")
        return sizes, tuple(n / m for n, m in zip(shape, sizes))
    factors = (scale_factor,) * spatial if isinstance(scale_factor, (int, float)) \
        else tuple(scale_factor)
    if len(factors) != spatial:
        raise ValueError(f"interpolate: scale_factor {scale_factor} must have {spatial} "
                         f"entries for input of shape {tuple(input.shape)}")
    sizes = tuple(int(math.floor(n * f)) for n, f in zip(shape, factors))
    if recompute:
        return sizes, tuple(n / m for n, m in zip(shape, sizes))
    return sizes, tuple(1.0 / f for f in factors)


def _resize_axis(x: Tensor, axis: int, n: int, m: int, scale: float, mode: str,
                 align_corners: bool) -> Tensor:
    j = xp(x.array).arange(m, dtype="float64")
    before = (slice(None),) * axis
    if mode in ("nearest", "nearest-exact"):
        offset = 0.5 if mode == "nearest-exact" else 0.0
        source = xp(j).minimum(xp(j).floor((j + offset) * scale).astype("int64"), n - 1)
        return index(x, before + (source,))
    if align_corners:
        position = j * ((n - 1) / (m - 1)) if m > 1 else xp(x.array).zeros(m)
    elif mode == "bicubic":
        position = (j + 0.5) * scale - 0.5
    else:
        position = xp(x.array).maximum((j + 0.5) * scale - 0.5, 0.0)
    if mode == "bicubic":
        return _cubic_axis(x, before, position, n)
    low = xp(x.array).minimum(xp(x.array).floor(position).astype("int64"), n - 1)
    high = xp(x.array).minimum(low + 1, n - 1)
    weight = (position - low).astype(x.dtype).reshape((m,) + (1,) * (x.ndim - axis - 1))
    t = Tensor._wrap(weight)
    return index(x, before + (low,)) * (1 - t) + index(x, before + (high,)) * t


def _cubic_axis(x: Tensor, before: tuple, position, n: int) -> Tensor:
    """Σ_k W_k(t) · x[clamp(i0 - 1 + k)] along one axis (i0 = floor(s), at most n - 1)."""
    low = xp(x.array).minimum(xp(x.array).floor(position), n - 1)
    t = xp(x.array).clip(position - low, 0.0, 1.0)
    shape = (len(position),) + (1,) * (x.ndim - len(before) - 1)
    out = None
    for k, weight in enumerate(cubic_weights(t)):
        source = xp(x.array).clip(low.astype("int64") - 1 + k, 0, n - 1)
        term = index(x, before + (source,)) * Tensor._wrap(weight.astype(x.dtype).reshape(shape))
        out = term if out is None else out + term
    return out


def _filter_axis(x: Tensor, axis: int, n: int, m: int, scale: float, mode: str,
                 align_corners: bool) -> Tensor:
    """Antialiased resize of one axis: x times an (m, n) matrix of filter weights."""
    if align_corners:
        scale = (n - 1) / (m - 1) if m > 1 else 0.0
    stretch = max(scale, 1.0)                 # the filter widens by the shrink factor
    support = (1.0 if mode == "bilinear" else 2.0) * stretch
    centre = scale * (xp(x.array).arange(m) + 0.5)
    first = xp(x.array).maximum(xp(x.array).trunc(centre - support + 0.5), 0)[:, None]
    last = xp(x.array).minimum(xp(x.array).trunc(centre + support + 0.5), n)[:, None]
    i = xp(x.array).arange(n)[None, :]
    d = xp(x.array).abs((i - centre[:, None] + 0.5) / stretch)
    if mode == "bilinear":
        weights = xp(x.array).maximum(1 - d, 0.0)
    else:
        weights = xp(d).where(d < 1, cubic_near(d, -0.5), xp(d).where(d < 2, cubic_far(d, -0.5), 0.0))
    weights = weights * ((i >= first) & (i < last))
    total = weights.sum(1, keepdims=True)
    weights = weights / xp(x.array).where(total == 0, 1.0, total)
    moved = x.transpose(axis, -1)
    return matmul(moved, Tensor._wrap(weights.T.astype(x.dtype))).transpose(axis, -1)


def upsample(input: Tensor, size=None, scale_factor=None, mode: str = "nearest",  # noqa: A002
             align_corners: bool | None = None) -> Tensor:
    return interpolate(input, size, scale_factor, mode, align_corners)


def upsample_nearest(input: Tensor, size=None, scale_factor=None) -> Tensor:  # noqa: A002
    return interpolate(input, size, scale_factor, mode="nearest")


def upsample_bilinear(input: Tensor, size=None, scale_factor=None) -> Tensor:  # noqa: A002
    return interpolate(input, size, scale_factor, mode="bilinear", align_corners=True)


@pytorch_node("PixelShuffleBackward0")
def pixel_shuffle(input: Tensor, upscale_factor: int) -> Tensor:  # noqa: A002
    """(*, C·r², H, W) -> (*, C, H·r, W·r): each group of r² channels tiles an r×r block."""
    r = upscale_factor
    *lead, channels, h, w = input.shape
    if channels % (r * r):
        raise RuntimeError(f"pixel_shuffle expects its input's 'channel' dimension to be "
                           f"divisible by the square of upscale_factor, but input.size(-3)="
                           f"{channels} is not divisible by {r * r}")
    k = len(lead)
    x = input.reshape(*lead, channels // (r * r), r, r, h, w)
    x = x.permute(*range(k), k, k + 3, k + 1, k + 4, k + 2)
    return x.reshape(*lead, channels // (r * r), h * r, w * r)


def pixel_unshuffle(input: Tensor, downscale_factor: int) -> Tensor:  # noqa: A002
    """(*, C, H·r, W·r) -> (*, C·r², H, W), the inverse of pixel_shuffle."""
    r = downscale_factor
    *lead, channels, h, w = input.shape
    if h % r or w % r:
        raise RuntimeError(f"pixel_unshuffle expects height and width to be divisible by "
                           f"downscale_factor {r}, got input of shape {tuple(input.shape)}")
    k = len(lead)
    x = input.reshape(*lead, channels, h // r, r, w // r, r)
    x = x.permute(*range(k), k, k + 2, k + 4, k + 1, k + 3)
    return x.reshape(*lead, channels * r * r, h // r, w // r)
