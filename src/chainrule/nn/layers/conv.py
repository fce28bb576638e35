"""Convolution layers: a bank of small filters slid over the input."""
from __future__ import annotations

from ... import creation
from .. import init
from ..functional.conv import convolution
from ..functional.misc import pad
from ..module import Module
from ..parameter import Parameter

__all__ = ["Conv1d", "Conv2d", "Conv3d"]

PADDING_MODES = ("zeros", "reflect", "replicate", "circular")


class _ConvNd(Module):
    nd = 2

    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=1,
                 padding=0, dilation=1, groups: int = 1, bias: bool = True,
                 padding_mode: str = "zeros", device=None, dtype=None):
        super().__init__()
        name = type(self).__name__
        _check_groups(name, in_channels, out_channels, groups)
        if padding_mode not in PADDING_MODES:
            raise ValueError(f"{name}: padding_mode must be one of {', '.join(PADDING_MODES)}, "
                             f"got {padding_mode!r}")
        if isinstance(padding, str) and padding not in ("same", "valid"):
            raise ValueError(f"{name}: padding must be an int, a tuple, 'valid' or 'same', "
                             f"got {padding!r}")
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.kernel_size = _ntuple(kernel_size, self.nd)
        self.stride = _ntuple(stride, self.nd)
        self.padding = padding if isinstance(padding, str) else _ntuple(padding, self.nd)
        self.dilation = _ntuple(dilation, self.nd)
        if padding == "same" and any(s != 1 for s in self.stride):
            raise ValueError(f"{name}: padding='same' is not supported for strided "
                             f"convolutions (stride={self.stride})")
        self.groups = groups
        self.padding_mode = padding_mode
        _add_filters(self, (out_channels, in_channels // groups) + self.kernel_size,
                     out_channels if bias else None, device, dtype)

    def reset_parameters(self) -> None:
        init.default_layer_init_(self.weight, self.bias)

    def forward(self, input):  # noqa: A002
        padding = self.padding
        if self.padding_mode != "zeros":  # pad explicitly, then convolve without padding
            widths = _explicit_padding(padding, self.kernel_size, self.dilation)
            flat = tuple(w for before_after in reversed(widths) for w in before_after)
            input = pad(input, flat, mode=self.padding_mode)  # noqa: A001
            padding = 0
        return convolution(input, self.weight, self.bias, self.stride, padding, self.dilation,
                           self.groups, self.nd, self)

    def extra_repr(self) -> str:
        text = (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
                f"stride={self.stride}")
        if self.padding != (0,) * self.nd:
            text += f", padding={self.padding}"
        if self.dilation != (1,) * self.nd:
            text += f", dilation={self.dilation}"
        if self.groups != 1:
            text += f", groups={self.groups}"
        if self.bias is None:
            text += ", bias=False"
        if self.padding_mode != "zeros":
            text += f", padding_mode={self.padding_mode!r}"
        return text


class Conv2d(_ConvNd):
    """2-D convolution: input (N, C_in, H, W) → output (N, C_out, H_out, W_out), where
    H_out = ⌊(H + 2·padding - dilation·(kernel - 1) - 1) / stride⌋ + 1 (likewise W_out).
    Weight (C_out, C_in/groups, kh, kw) and bias (C_out,) start U(-1/√fan_in, 1/√fan_in)."""
    nd = 2


class Conv1d(_ConvNd):
    """1-D convolution: input (N, C_in, L) → output (N, C_out, L_out); weight
    (C_out, C_in/groups, k)."""
    nd = 1


class Conv3d(_ConvNd):
    """3-D convolution: input (N, C_in, D, H, W) → output (N, C_out, D_out, H_out, W_out);
    weight (C_out, C_in/groups, kd, kh, kw)."""
    nd = 3


def _check_groups(name: str, in_channels: int, out_channels: int, groups: int) -> None:
    if groups < 1 or in_channels % groups or out_channels % groups:
        raise ValueError(f"{name}: in_channels ({in_channels}) and out_channels "
                         f"({out_channels}) must both be divisible by groups ({groups})")


def _add_filters(module: Module, weight_shape: tuple, bias_size, device, dtype) -> None:
    """Give a convolution its `weight` (weight_shape) and `bias` ((bias_size,), or None when
    bias_size is None), then initialise them with the module's reset_parameters()."""
    module.weight = Parameter(creation.empty(weight_shape, dtype=dtype, device=device))
    if bias_size is None:
        module.register_parameter("bias", None)
    else:
        module.bias = Parameter(creation.empty(bias_size, dtype=dtype, device=device))
    module.reset_parameters()


def _ntuple(value, nd: int) -> tuple:
    if isinstance(value, int):
        return (value,) * nd
    value = tuple(value)
    return value * nd if len(value) == 1 else value


def _explicit_padding(padding, kernel, dilation) -> tuple:
    """(before, after) per spatial dim for padding given as ints, 'valid' or 'same'."""
    if padding == "valid":
        return tuple((0, 0) for _ in kernel)
    if padding == "same":
        total = [d * (k - 1) for k, d in zip(kernel, dilation)]
        return tuple((t // 2, t - t // 2) for t in total)
    return tuple((p, p) for p in padding)
