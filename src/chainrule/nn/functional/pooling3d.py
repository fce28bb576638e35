"""3-D pooling (max, average, adaptive average) and the `*_with_indices` forms of max pooling.

A window of a volume is a rectangle of its planes times a run of depths, and the max and
the mean over such a box are separable: pool each depth plane over (H, W) with the 2-D
function, then pool the result over depth as a 2-D pool of (D, H_out·W_out) images with
windows of width 1. Padding, ceil_mode and both divisors of the mean (the window's size,
or only its part inside the input) are per-axis products, so the two stages give exactly
PyTorch's 3-D result. Max pooling's indices (flat d·H·W + h·W + w in each input volume)
are the depth stage's winner combined with the winner of the plane it read.
"""
from __future__ import annotations

import math

from ...backend import xp
from ...composites.functions import reshape
from ...composites.node_names import pytorch_node
from ...tensor import Tensor
from .pooling import _tuple, adaptive_avg_pool2d, avg_pool2d, max_pool1d, max_pool2d

__all__ = ["max_pool3d", "avg_pool3d", "adaptive_avg_pool3d", "max_pool1d_with_indices",
           "max_pool2d_with_indices", "max_pool3d_with_indices"]


@pytorch_node("MaxPool3DWithIndicesBackward0")
def max_pool3d(input: Tensor, kernel_size, stride=None, padding=0, dilation=1,  # noqa: A002
               ceil_mode: bool = False, return_indices: bool = False):
    """The largest value of each window of input (N, C, D, H, W) or (C, D, H, W)."""
    kernel, stride, padding, dilation = _check(input, kernel_size, stride, padding, dilation,
                                               ceil_mode, "max_pool3d")
    x, restore = _planes(input)
    batch, depth, h, w = x.shape
    plane, plane_index = max_pool2d(x, kernel[1:], stride[1:], padding[1:], dilation[1:],
                                    ceil_mode, return_indices=True)
    area = plane.shape[2] * plane.shape[3]
    columns = reshape(plane, (batch, 1, depth, area))
    y, depth_index = max_pool2d(columns, (kernel[0], 1), (stride[0], 1), (padding[0], 0),
                                (dilation[0], 1), ceil_mode, return_indices=True)
    y = reshape(y, (batch,) + y.shape[2:3] + plane.shape[2:])
    if not return_indices:
        return restore(y)
    winner_depth = depth_index.array.reshape(batch, -1, area) // area
    winner_plane = xp(x.array).take_along_axis(plane_index.array.reshape(batch, depth, area),
                                      winner_depth, axis=1)
    index = winner_depth * (h * w) + winner_plane
    return restore(y), restore(Tensor._wrap(index.reshape(y.shape)))


@pytorch_node("AvgPool3DBackward0")
def avg_pool3d(input: Tensor, kernel_size, stride=None, padding=0,  # noqa: A002
               ceil_mode: bool = False, count_include_pad: bool = True,
               divisor_override: int | None = None) -> Tensor:
    """The mean of each window; as avg_pool2d, for input (N, C, D, H, W) or (C, D, H, W)."""
    kernel, stride, padding, _ = _check(input, kernel_size, stride, padding, 1, ceil_mode,
                                        "avg_pool3d")
    if divisor_override == 0:
        raise ValueError("avg_pool3d: divisor_override must not be zero")
    summed = None if divisor_override is None else 1  # sums, divided at the end
    x, restore = _planes(input)
    batch, depth = x.shape[:2]
    plane = avg_pool2d(x, kernel[1:], stride[1:], padding[1:], ceil_mode, count_include_pad,
                       summed)
    columns = reshape(plane, (batch, 1, depth, plane.shape[2] * plane.shape[3]))
    y = avg_pool2d(columns, (kernel[0], 1), (stride[0], 1), (padding[0], 0), ceil_mode,
                   count_include_pad, summed)
    y = reshape(y, (batch,) + y.shape[2:3] + plane.shape[2:])
    return restore(y if divisor_override is None else y / divisor_override)


def adaptive_avg_pool3d(input: Tensor, output_size) -> Tensor:  # noqa: A002
    """Average pooling to a fixed output size (od, oh, ow) whatever the input size; an int
    means a cube, an entry None keeps that input size."""
    if input.ndim not in (4, 5):
        raise ValueError(f"adaptive_avg_pool3d: expected 4-D (unbatched) or 5-D (batched) "
                         f"input, got input of shape {tuple(input.shape)}")
    wanted = (output_size,) * 3 if isinstance(output_size, int) or output_size is None \
        else tuple(output_size)
    if len(wanted) != 3:
        raise ValueError(f"adaptive_avg_pool3d: output_size must be an int or 3 ints, got "
                         f"{output_size}")
    od, oh, ow = (n if o is None else int(o) for n, o in zip(input.shape[-3:], wanted))
    x, restore = _planes(input)
    batch, depth = x.shape[:2]
    plane = adaptive_avg_pool2d(x, (oh, ow))
    y = adaptive_avg_pool2d(reshape(plane, (batch, 1, depth, oh * ow)), (od, oh * ow))
    return restore(reshape(y, (batch, od, oh, ow)))


def max_pool1d_with_indices(input: Tensor, kernel_size, stride=None, padding=0,  # noqa: A002
                            dilation=1, ceil_mode: bool = False, return_indices: bool = False):
    """max_pool1d's (values, indices), whatever return_indices says (as in PyTorch)."""
    return max_pool1d(input, kernel_size, stride, padding, dilation, ceil_mode, True)


def max_pool2d_with_indices(input: Tensor, kernel_size, stride=None, padding=0,  # noqa: A002
                            dilation=1, ceil_mode: bool = False, return_indices: bool = False):
    """max_pool2d's (values, indices), whatever return_indices says (as in PyTorch)."""
    return max_pool2d(input, kernel_size, stride, padding, dilation, ceil_mode, True)


def max_pool3d_with_indices(input: Tensor, kernel_size, stride=None, padding=0,  # noqa: A002
                            dilation=1, ceil_mode: bool = False, return_indices: bool = False):
    """max_pool3d's (values, indices), whatever return_indices says (as in PyTorch)."""
    return max_pool3d(input, kernel_size, stride, padding, dilation, ceil_mode, True)


def _check(input, kernel_size, stride, padding, dilation, ceil_mode, where):  # noqa: A002
    """The arguments as 3-tuples, after PyTorch's checks (named for `where`)."""
    if input.ndim not in (4, 5):
        raise ValueError(f"{where}: expected 4-D (unbatched) or 5-D (batched) input, got "
                         f"input of shape {tuple(input.shape)}")
    kernel = _tuple(kernel_size, 3, "kernel_size", where, 1)
    stride = kernel if stride is None or (not isinstance(stride, int) and len(stride) == 0) \
        else _tuple(stride, 3, "stride", where, 1)
    padding = _tuple(padding, 3, "padding", where, 0)
    dilation = _tuple(dilation, 3, "dilation", where, 1)
    if any(p > k // 2 for k, p in zip(kernel, padding)):
        raise ValueError(f"{where}: padding should be at most half of the kernel size, got "
                         f"padding={padding} and kernel_size={kernel}")
    sizes = tuple(_out_size(n, k, s, p, d, ceil_mode) for n, k, s, p, d in
                  zip(input.shape[-3:], kernel, stride, padding, dilation))
    if any(o < 1 for o in sizes):
        raise ValueError(f"{where}: input of shape {tuple(input.shape)} is smaller than the "
                         f"pooling window (kernel_size={kernel}, padding={padding}, "
                         f"dilation={dilation}): the output would have size {sizes}")
    return kernel, stride, padding, dilation


def _out_size(n, k, s, p, d, ceil_mode) -> int:
    """PyTorch's pooling output size; with ceil_mode the last window starts inside."""
    rounding = math.ceil if ceil_mode else math.floor
    out = rounding((n + 2 * p - d * (k - 1) - 1) / s) + 1
    return out - 1 if ceil_mode and (out - 1) * s >= n + p else out


def _planes(input):  # noqa: A002
    """input as (N·C, D, H, W): each volume's depth planes as the channels of one image;
    and the function that gives a (N·C, ...) result the input's leading dims."""
    lead = input.shape[:-3]
    x = reshape(input, (math.prod(lead),) + input.shape[-3:])

    def restore(y):
        if isinstance(y, Tensor) and y.grad_fn is None and not y.requires_grad:
            return Tensor._wrap(y.array.reshape(lead + y.shape[1:]))
        return reshape(y, lead + y.shape[1:])
    return x, restore
