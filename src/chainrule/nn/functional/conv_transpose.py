"""Transposed convolutions ("deconvolutions"): `conv_transpose1d`, `2d` and `3d`.

A transposed convolution is the input gradient of a convolution, used forwards: each
input pixel scatters a weighted copy of the kernel into the (larger) output. It runs the
op that computes that gradient (`ops.conv.ConvTranspose`), whose own backward is a
convolution (for the input) and a weight-gradient product (for the weight). The weight is
(in_channels, out_channels / groups, kh, kw), as in PyTorch.

    H_out = (H - 1)·stride - 2·padding + dilation·(k - 1) + output_padding + 1
"""
from __future__ import annotations

from ...composites.functions import reshape
from ...composites.node_names import pytorch_node
from ...ops.conv import ConvTranspose
from ...tensor import Tensor
from .conv import _check_shapes, _per_axis
from .volumetric import transpose_planes

__all__ = ["conv_transpose1d", "conv_transpose2d", "conv_transpose3d"]


@pytorch_node("ConvolutionBackward0")
def conv_transpose2d(input: Tensor, weight: Tensor, bias: Tensor | None = None,  # noqa: A002
                     stride=1, padding=0, output_padding=0, groups: int = 1,
                     dilation=1) -> Tensor:
    """Transposed 2-D convolution of (N, C_in, H, W) or (C_in, H, W) with weight
    (C_in, C_out / groups, kh, kw)."""
    return _transposed(input, weight, bias, stride, padding, output_padding, groups,
                       dilation, 2, "conv_transpose2d")


@pytorch_node("ConvolutionBackward0")
def conv_transpose1d(input: Tensor, weight: Tensor, bias: Tensor | None = None,  # noqa: A002
                     stride=1, padding=0, output_padding=0, groups: int = 1,
                     dilation=1) -> Tensor:
    """Transposed 1-D convolution of (N, C_in, L) or (C_in, L) with weight
    (C_in, C_out / groups, k)."""
    return _transposed(input, weight, bias, stride, padding, output_padding, groups,
                       dilation, 1, "conv_transpose1d")


@pytorch_node("ConvolutionBackward0")
def conv_transpose3d(input: Tensor, weight: Tensor, bias: Tensor | None = None,  # noqa: A002
                     stride=1, padding=0, output_padding=0, groups: int = 1,
                     dilation=1) -> Tensor:
    """Transposed 3-D convolution of (N, C_in, D, H, W) or (C_in, D, H, W) with weight
    (C_in, C_out / groups, kd, kh, kw)."""
    return _transposed(input, weight, bias, stride, padding, output_padding, groups,
                       dilation, 3, "conv_transpose3d")


def _transposed(input, weight, bias, stride, padding, output_padding, groups, dilation,  # noqa: A002
                nd: int, where: str) -> Tensor:
    stride, dilation = _check_shapes(input, weight, stride, dilation, nd, where,
                                     "in_channels, out_channels/groups, kernel...")
    padding = _per_axis(padding, nd)
    extra = _per_axis(output_padding, nd)
    if any(e >= max(s, d) for e, s, d in zip(extra, stride, dilation)):
        raise ValueError(f"{where}: output_padding {extra} must be smaller than either stride "
                         f"{stride} or dilation {dilation}")
    unbatched = input.ndim == nd + 1
    x = reshape(input, (1,) + input.shape) if unbatched else input
    in_channels, out_per_group = weight.shape[:2]
    if x.shape[1] != in_channels or in_channels % groups:
        raise ValueError(f"{where}: input of shape {tuple(input.shape)} for weight of shape "
                         f"{tuple(weight.shape)} with groups={groups}: the input needs "
                         f"{in_channels} channels, divisible by groups")
    kernel = weight.shape[2:]
    size = tuple((n - 1) * s - 2 * p + d * (k - 1) + e + 1 for n, s, p, d, k, e
                 in zip(x.shape[2:], stride, padding, dilation, kernel, extra))
    if nd == 3:
        y = transpose_planes(x, weight, size, stride, padding, dilation, groups)
    else:
        if nd == 1:                 # as a 2-D transposed convolution of height-1 rows
            x = reshape(x, x.shape[:2] + (1,) + x.shape[2:])
            weight = reshape(weight, weight.shape[:2] + (1,) + weight.shape[2:])
            stride, dilation, padding, size = (1,) + stride, (1,) + dilation, \
                (0,) + padding, (1,) + size
        shape = (x.shape[0], out_per_group * groups) + size
        y = ConvTranspose.apply(x, weight, x_shape=shape, stride=stride,
                                padding=tuple((p, p) for p in padding), dilation=dilation,
                                groups=groups)
    if bias is not None:
        y = y + reshape(bias, (1, -1) + (1,) * (y.ndim - 2))
    if nd == 1:
        y = reshape(y, y.shape[:2] + y.shape[3:])
    return reshape(y, y.shape[1:]) if unbatched else y
