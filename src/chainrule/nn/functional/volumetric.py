"""3-D convolutions as 2-D ones: the depth axis folded into channels or batch.

A 3-D cross-correlation sums, over the kd depth offsets of its kernel, 2-D
cross-correlations of depth planes:

    y[n, o, z] = Σ_i conv2d(x[n, :, z·sd + i·dd], w[o, :, i])

so the kd planes each output plane reads are stacked as channels (plane-major within each
group) and one 2-D convolution with the kernel reshaped to (O, kd·C/groups, kh, kw) does all
of it. The transposed convolution runs the other way: one transposed 2-D convolution per
input plane gives the kd planes it writes, and each is added at depth z·sd + i·dd - pd.
The arguments arrive checked and batched (`conv.convolution`, `conv_transpose._transposed`).
"""
from __future__ import annotations

from ...backend import xp
from ...composites.functions import permute, reshape, stack
from ...ops.conv import Conv2d, ConvTranspose
from ...tensor import Tensor
from .misc import pad

__all__: list[str] = []


def convolve_planes(x: Tensor, weight: Tensor, bias, stride, pads, dilation,
                    groups: int) -> Tensor:
    """conv3d of x (N, C, D, H, W) with weight (O, C/groups, kd, kh, kw); pads holds
    (before, after) per spatial axis."""
    (sd, *plane_stride), (dd, *plane_dilation) = stride, dilation
    x = pad(x, (0, 0, 0, 0) + tuple(pads[0]))
    n, _, depth, h, w = x.shape
    out_channels, per_group, kd, kh, kw = weight.shape
    out_depth = (depth - dd * (kd - 1) - 1) // sd + 1
    planes = permute(x, 0, 2, 1, 3, 4)                       # (N, D, C, H, W)
    reach = sd * (out_depth - 1) + 1
    windows = stack([planes[:, i * dd:i * dd + reach:sd] for i in range(kd)], 2)
    windows = reshape(windows, (n, out_depth, kd, groups, per_group, h, w))
    windows = reshape(permute(windows, 0, 1, 3, 2, 4, 5, 6),
                      (n * out_depth, groups * kd * per_group, h, w))
    kernels = reshape(permute(weight, 0, 2, 1, 3, 4), (out_channels, kd * per_group, kh, kw))
    params = dict(stride=tuple(plane_stride), padding=tuple(pads[1:]),
                  dilation=tuple(plane_dilation), groups=groups)
    y = Conv2d.apply(windows, kernels, **params) if bias is None else \
        Conv2d.apply(windows, kernels, bias, **params)
    y = reshape(y, (n, out_depth) + y.shape[1:])
    return permute(y, 0, 2, 1, 3, 4)


def transpose_planes(x: Tensor, weight: Tensor, size: tuple, stride, padding, dilation,
                     groups: int) -> Tensor:
    """conv_transpose3d of x (N, C_in, D, H, W) with weight (C_in, C_out/groups, kd, kh,
    kw) to an output of spatial `size` (output_padding included)."""
    (sd, sh, sw), (pd, ph, pw), (dd, dh, dw) = stride, padding, dilation
    n, in_channels, depth, h, w = x.shape
    _, per_group, kd, kh, kw = weight.shape
    planes = reshape(permute(x, 0, 2, 1, 3, 4), (n * depth, in_channels, h, w))
    # output channels of the 2-D transpose: (group, depth offset i, channel in group)
    kernels = reshape(permute(weight, 0, 2, 1, 3, 4), (in_channels, kd * per_group, kh, kw))
    y = ConvTranspose.apply(planes, kernels, x_shape=(n * depth, groups * kd * per_group)
                            + tuple(size[1:]), stride=(sh, sw),
                            padding=((ph, ph), (pw, pw)), dilation=(dh, dw), groups=groups)
    y = reshape(y, (n, depth, groups, kd, per_group) + tuple(size[1:]))
    y = reshape(permute(y, 0, 1, 3, 2, 4, 5, 6),
                (n, depth * kd, groups * per_group) + tuple(size[1:]))
    # plane z's offset i lands at depth z·sd + i·dd of the unpadded output
    at = (xp(x.array).arange(depth)[:, None] * sd + xp(x.array).arange(kd)[None, :] * dd).reshape(-1)
    full = size[0] + 2 * pd
    zeros = Tensor._wrap(xp(x.array).zeros((n, full) + y.shape[2:], dtype=y.dtype))
    out = zeros.index_add(1, at, y)[:, pd:pd + size[0]]
    return permute(out, 0, 2, 1, 3, 4)
