"""Convolutions: `conv1d`, `conv2d` and `conv3d` with PyTorch's arguments and shapes.

All run the one 2-D op (`ops.conv.Conv2d`: im2col and matrix products); a 1-D
convolution is a 2-D one over images of height 1, a 3-D one a 2-D one over stacks of
depth planes (`volumetric.py`).
"""
from __future__ import annotations

from ...composites.functions import reshape
from ...composites.node_names import pytorch_node
from ...ops.conv import Conv2d
from ...tensor import Tensor
from .volumetric import convolve_planes

__all__ = ["conv1d", "conv2d", "conv3d"]


def conv2d(input: Tensor, weight: Tensor, bias: Tensor | None = None,  # noqa: A002
           stride=1, padding=0, dilation=1, groups: int = 1) -> Tensor:
    """2-D cross-correlation of input (N, C, H, W) or (C, H, W) with weight (O, C/groups, kh, kw).

    `padding` is an int, a pair, 'valid' (none) or 'same' (output as large as the input;
    stride 1 only, any extra padding goes to the bottom/right as in PyTorch).
    """
    return convolution(input, weight, bias, stride, padding, dilation, groups, 2, "conv2d")


def conv1d(input: Tensor, weight: Tensor, bias: Tensor | None = None,  # noqa: A002
           stride=1, padding=0, dilation=1, groups: int = 1) -> Tensor:
    """1-D cross-correlation of input (N, C, L) or (C, L) with weight (O, C/groups, k)."""
    return convolution(input, weight, bias, stride, padding, dilation, groups, 1, "conv1d")


def conv3d(input: Tensor, weight: Tensor, bias: Tensor | None = None,  # noqa: A002
           stride=1, padding=0, dilation=1, groups: int = 1) -> Tensor:
    """3-D cross-correlation of input (N, C, D, H, W) or (C, D, H, W) with weight
    (O, C/groups, kd, kh, kw)."""
    return convolution(input, weight, bias, stride, padding, dilation, groups, 3, "conv3d")


@pytorch_node("ConvolutionBackward0")
def convolution(input, weight, bias, stride, padding, dilation, groups, nd: int,  # noqa: A002
                caller) -> Tensor:
    """Check the arguments of an `nd`-dimensional convolution (1, 2 or 3) and run it.
    Error messages name `caller`: the function's name, or the layer (shown as its repr)."""
    where = _Name(caller)
    stride, dilation = _check_shapes(
        input, weight, stride, dilation, nd, where,
        f"out_channels, in_channels/groups, {('kernel', 'kh, kw', 'kd, kh, kw')[nd - 1]}")
    kernel = tuple(weight.shape[2:])
    out_channels, in_per_group = weight.shape[:2]
    if groups < 1 or out_channels % groups:
        raise ValueError(f"{where}: out_channels ({out_channels}, weight shape "
                         f"{tuple(weight.shape)}) must be divisible by groups={groups}")
    unbatched = input.ndim == nd + 1
    channels = input.shape[0 if unbatched else 1]
    if channels != in_per_group * groups:
        raise ValueError(
            f"{where}: expected input with {in_per_group * groups} channels (weight of shape "
            f"{tuple(weight.shape)}, groups={groups}), but got input of shape "
            f"{tuple(input.shape)} with {channels} channels")
    if bias is not None and tuple(bias.shape) != (out_channels,):
        raise ValueError(f"{where}: bias must have shape ({out_channels},) to match the weight "
                         f"{tuple(weight.shape)}, got {tuple(bias.shape)}")
    pads = _padding(padding, kernel, stride, dilation, nd, where)
    spatial = input.shape[-nd:]
    padded = tuple(n + before + after for n, (before, after) in zip(spatial, pads))
    reach = tuple(d * (k - 1) + 1 for k, d in zip(kernel, dilation))
    if any(p < r for p, r in zip(padded, reach)):
        dilated = f" (dilated to {' x '.join(map(str, reach))})" if reach != kernel else ""
        raise ValueError(
            f"{where}: input of shape {tuple(input.shape)} is smaller than the kernel: padded "
            f"size per channel ({' x '.join(map(str, padded))}) < kernel size "
            f"({' x '.join(map(str, kernel))}){dilated}")
    x = reshape(input, (1,) + input.shape) if unbatched else input
    if nd == 1:  # a 1-D convolution is a 2-D one over rows of height 1
        x = reshape(x, x.shape[:2] + (1,) + x.shape[2:])
        weight = reshape(weight, weight.shape[:2] + (1,) + weight.shape[2:])
        stride, dilation, pads = (1,) + stride, (1,) + dilation, ((0, 0),) + pads
    if nd == 3:
        y = convolve_planes(x, weight, bias, stride, pads, dilation, groups)
        return reshape(y, y.shape[1:]) if unbatched else y
    params = dict(stride=stride, padding=pads, dilation=dilation, groups=groups)
    y = Conv2d.apply(x, weight, **params) if bias is None else \
        Conv2d.apply(x, weight, bias, **params)
    if nd == 1:
        y = reshape(y, y.shape[:2] + y.shape[3:])
    return reshape(y, y.shape[1:]) if unbatched else y


class _Name:
    """Formats as the caller's name; a layer's repr is built only if a message needs it."""

    __slots__ = ("caller",)

    def __init__(self, caller):
        self.caller = caller

    def __format__(self, spec) -> str:
        return self.caller if isinstance(self.caller, str) else repr(self.caller)


def _check_shapes(input, weight, stride, dilation, nd: int, where, weight_dims: str) -> tuple:  # noqa: A002
    """The checks a convolution and a transposed one share: the weight has nd + 2 dims
    (`weight_dims` names them), the input nd + 1 (unbatched) or nd + 2 (batched).
    Returns (stride, dilation) as nd-tuples."""
    if weight.ndim != nd + 2:
        raise ValueError(f"{where}: weight must have {nd + 2} dimensions ({weight_dims}), "
                         f"got shape {tuple(weight.shape)}")
    if input.ndim not in (nd + 1, nd + 2):
        raise ValueError(f"{where}: expected {nd + 1}-D (unbatched) or {nd + 2}-D (batched) "
                         f"input, got input of shape {tuple(input.shape)}")
    return _tuple(stride, nd, "stride", where), _tuple(dilation, nd, "dilation", where)


def _per_axis(value, nd: int) -> tuple:
    """An int, or a 1-tuple, repeated for each of the `nd` spatial axes (a longer tuple as is)."""
    if isinstance(value, int):
        value = (value,) * nd
    value = tuple(int(v) for v in value)
    return value * nd if len(value) == 1 and nd > 1 else value


def _tuple(value, nd: int, name: str, where) -> tuple:
    value = _per_axis(value, nd)
    if len(value) != nd or any(v < 1 for v in value):
        raise ValueError(f"{where}: {name} must be a positive int or {nd} positive ints, "
                         f"got {value}")
    return value


def _padding(padding, kernel, stride, dilation, nd: int, where) -> tuple:
    """Padding as ((before, after), ...) per spatial axis."""
    if isinstance(padding, str):
        if padding == "valid":
            return ((0, 0),) * nd
        if padding != "same":
            raise ValueError(f"{where}: padding must be an int, a tuple, 'valid' or 'same', "
                             f"got {padding!r}")
        if any(s != 1 for s in stride):
            raise ValueError(f"{where}: padding='same' is not supported for strided "
                             f"convolutions (stride={stride})")
        total = [d * (k - 1) for k, d in zip(kernel, dilation)]
        return tuple((t // 2, t - t // 2) for t in total)
    padding = _per_axis(padding, nd)
    if len(padding) != nd or any(p < 0 for p in padding):
        raise ValueError(f"{where}: padding must be a non-negative int or {nd} of them, "
                         f"'valid' or 'same', got {padding}")
    return tuple((p, p) for p in padding)
