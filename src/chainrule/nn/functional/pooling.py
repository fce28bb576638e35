"""Pooling: max, average and adaptive average over 1-D and 2-D windows (PyTorch's arguments).

All run the 2-D ops of `ops.pooling` (a loop over kernel offsets, see the note there);
1-D pooling is 2-D pooling over rows of height 1.
"""
from __future__ import annotations

from ...backend import xp
from ...composites.functions import mean, reshape
from ...composites.node_names import pytorch_node
from ...ops.pooling import (
    MaxPool2d,
    Separable2d,
    WindowGather,
    Windows,
    averaging_matrix,
    avg_divisor,
    winners,
)
from ...tensor import Tensor

__all__ = ["max_pool1d", "max_pool2d", "avg_pool1d", "avg_pool2d", "adaptive_avg_pool1d",
           "adaptive_avg_pool2d"]


def max_pool2d(input: Tensor, kernel_size, stride=None, padding=0, dilation=1,  # noqa: A002
               ceil_mode: bool = False, return_indices: bool = False):
    """The largest value of each window of input (N, C, H, W) or (C, H, W); `stride`
    defaults to `kernel_size`. With return_indices, also the flat index (row·W + col) of
    each maximum in its input plane."""
    return _max_pool(input, kernel_size, stride, padding, dilation, ceil_mode,
                     return_indices, 2, "max_pool2d")


def max_pool1d(input: Tensor, kernel_size, stride=None, padding=0, dilation=1,  # noqa: A002
               ceil_mode: bool = False, return_indices: bool = False):
    """The largest value of each window of input (N, C, L) or (C, L)."""
    return _max_pool(input, kernel_size, stride, padding, dilation, ceil_mode,
                     return_indices, 1, "max_pool1d")


@pytorch_node("AvgPool2DBackward0")
def avg_pool2d(input: Tensor, kernel_size, stride=None, padding=0,  # noqa: A002
               ceil_mode: bool = False, count_include_pad: bool = True,
               divisor_override: int | None = None) -> Tensor:
    """The mean of each window; padded zeros count in the mean unless
    count_include_pad=False; divisor_override replaces the window size as divisor."""
    return _avg_pool(input, kernel_size, stride, padding, ceil_mode, count_include_pad,
                     divisor_override, 2, "avg_pool2d")


@pytorch_node("AvgPool2DBackward0")
def avg_pool1d(input: Tensor, kernel_size, stride=None, padding=0,  # noqa: A002
               ceil_mode: bool = False, count_include_pad: bool = True) -> Tensor:
    return _avg_pool(input, kernel_size, stride, padding, ceil_mode, count_include_pad,
                     None, 1, "avg_pool1d")


def adaptive_avg_pool2d(input: Tensor, output_size) -> Tensor:  # noqa: A002
    """Average pooling to a fixed output size (oh, ow) whatever the input size: output
    (r, s) averages rows [⌊r·H/oh⌋, ⌈(r+1)·H/oh⌉) and the same for columns. An entry
    None keeps that input size."""
    return _adaptive_avg_pool(input, output_size, 2, "adaptive_avg_pool2d")


def adaptive_avg_pool1d(input: Tensor, output_size) -> Tensor:  # noqa: A002
    return _adaptive_avg_pool(input, output_size, 1, "adaptive_avg_pool1d")


# --- shared ----------------------------------------------------------------------------
def _max_pool(input, kernel_size, stride, padding, dilation, ceil_mode, return_indices,  # noqa: A002
              nd, where):
    x, restore = _as_4d(input, nd, where)
    windows = _windows(input, kernel_size, stride, padding, dilation, ceil_mode, nd, where)
    y = MaxPool2d.apply(x, windows=windows)
    out = restore(y)
    if not return_indices:
        return out
    masks = winners(windows.pad(x.array, -xp(x.array).inf), y.array, windows)
    index = Tensor._wrap(windows.flat_indices(masks))
    return out, restore(index)


def _avg_pool(input, kernel_size, stride, padding, ceil_mode, count_include_pad,  # noqa: A002
              divisor_override, nd, where):
    x, restore = _as_4d(input, nd, where)
    windows = _windows(input, kernel_size, stride, padding, 1, ceil_mode, nd, where)
    if divisor_override is not None:
        if divisor_override == 0:
            raise ValueError(f"{where}: divisor_override must not be zero")
        scale = 1.0 / divisor_override
    else:
        scale = avg_divisor(windows, count_include_pad, x.array)
    return restore(WindowGather.apply(x, windows=windows, scale=scale))


def _adaptive_avg_pool(input, output_size, nd, where):  # noqa: A002
    x, restore = _as_4d(input, nd, where)
    sizes = tuple(input.shape[-nd:])
    wanted = (output_size,) * nd if isinstance(output_size, int) or output_size is None \
        else tuple(output_size)
    if len(wanted) != nd:
        raise ValueError(f"{where}: output_size must be an int or {nd} ints, got {output_size}")
    wanted = tuple(n if o is None else int(o) for n, o in zip(sizes, wanted))
    if any(o < 1 for o in wanted):
        raise ValueError(f"{where}: output_size must be positive, got {output_size}")
    if nd == 1:
        sizes, wanted = (1,) + sizes, (1,) + wanted
    (h, w), (oh, ow) = sizes, wanted
    if (oh, ow) == (1, 1):
        y = mean(x, dim=(2, 3), keepdim=True)
    elif h % oh == 0 and w % ow == 0:  # equal windows: an ordinary average pool
        kernel = (h // oh, w // ow)
        windows = Windows((h, w), kernel, kernel, (0, 0))
        y = WindowGather.apply(x, windows=windows, scale=1.0 / (kernel[0] * kernel[1]))
    else:  # windows of two sizes overlap: average rows, then columns, by matrices
        y = Separable2d.apply(x, rows=averaging_matrix(h, oh, x.array),
                              cols=averaging_matrix(w, ow, x.array))
    return restore(y)


def _as_4d(input, nd, where):  # noqa: A002
    """input as (N, C, H, W), and the function that gives an output the input's form."""
    if input.ndim not in (nd + 1, nd + 2):
        raise ValueError(f"{where}: expected {nd + 1}-D (unbatched) or {nd + 2}-D (batched) "
                         f"input, got input of shape {tuple(input.shape)}")
    unbatched = input.ndim == nd + 1
    shape = input.shape
    if unbatched:
        shape = (1,) + shape
    if nd == 1:
        shape = shape[:2] + (1,) + shape[2:]
    x = reshape(input, shape)

    def restore(y):
        lead = y.shape[1:] if unbatched else y.shape
        if nd == 1:
            lead = lead[:-2] + lead[-1:]
        if isinstance(y, Tensor) and y.grad_fn is None and not y.requires_grad:
            return Tensor._wrap(y.array.reshape(lead))
        return reshape(y, lead)
    return x, restore


def _windows(input, kernel_size, stride, padding, dilation, ceil_mode, nd,  # noqa: A002
             where) -> Windows:
    kernel = _tuple(kernel_size, nd, "kernel_size", where, 1)
    stride = kernel if stride is None or (not isinstance(stride, int) and len(stride) == 0) \
        else _tuple(stride, nd, "stride", where, 1)
    padding = _tuple(padding, nd, "padding", where, 0)
    dilation = _tuple(dilation, nd, "dilation", where, 1)
    if any(p > k // 2 for k, p in zip(kernel, padding)):
        raise ValueError(f"{where}: padding should be at most half of the kernel size, got "
                         f"padding={padding} and kernel_size={kernel}")
    sizes = tuple(input.shape[-nd:])
    if nd == 1:
        kernel, stride, padding, dilation, sizes = ((1,) + kernel, (1,) + stride,
                                                    (0,) + padding, (1,) + dilation,
                                                    (1,) + sizes)
    windows = Windows(sizes, kernel, stride, padding, dilation, ceil_mode)
    if any(o < 1 for o in windows.out_size):
        raise ValueError(f"{where}: input of shape {tuple(input.shape)} is smaller than the "
                         f"pooling window (kernel_size={kernel[2 - nd:]}, padding="
                         f"{padding[2 - nd:]}): the output would have size "
                         f"{windows.out_size[2 - nd:]}")
    return windows


def _tuple(value, nd, name, where, least) -> tuple:
    if isinstance(value, int):
        value = (value,) * nd
    value = tuple(int(v) for v in value)
    if len(value) == 1 and nd > 1:
        value = value * nd
    if len(value) != nd or any(v < least for v in value):
        raise ValueError(f"{where}: {name} must be an int ≥ {least} or {nd} of them, "
                         f"got {value}")
    return value
