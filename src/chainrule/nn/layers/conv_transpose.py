"""Transposed convolution layers (learned upsampling): ConvTranspose1d, 2d and 3d."""
from __future__ import annotations

from .. import init
from ..functional.conv_transpose import conv_transpose1d, conv_transpose2d, conv_transpose3d
from ..module import Module
from .conv import _add_filters, _check_groups, _ntuple

__all__ = ["ConvTranspose1d", "ConvTranspose2d", "ConvTranspose3d"]


class _ConvTransposeNd(Module):
    nd = 2
    function = staticmethod(conv_transpose2d)

    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=1,
                 padding=0, output_padding=0, groups: int = 1, bias: bool = True,
                 dilation=1, padding_mode: str = "zeros", device=None, dtype=None):
        super().__init__()
        name = type(self).__name__
        _check_groups(name, in_channels, out_channels, groups)
        if padding_mode != "zeros":
            raise ValueError(f'Only "zeros" padding mode is supported for {name}')
        self.in_channels, self.out_channels = in_channels, out_channels
        self.kernel_size = _ntuple(kernel_size, self.nd)
        self.stride = _ntuple(stride, self.nd)
        self.padding = _ntuple(padding, self.nd)
        self.output_padding = _ntuple(output_padding, self.nd)
        self.dilation = _ntuple(dilation, self.nd)
        self.groups = groups
        self.padding_mode = padding_mode
        _add_filters(self, (in_channels, out_channels // groups) + self.kernel_size,
                     out_channels if bias else None, device, dtype)

    def reset_parameters(self) -> None:
        init.default_layer_init_(self.weight, self.bias)

    def forward(self, input, output_size=None):  # noqa: A002
        extra = self.output_padding
        if output_size is not None:                  # the padding that reaches output_size
            wanted = tuple(output_size)[-self.nd:]
            natural = tuple((n - 1) * s - 2 * p + d * (k - 1) + 1 for n, s, p, d, k in zip(
                input.shape[-self.nd:], self.stride, self.padding, self.dilation,
                self.kernel_size))
            extra = tuple(w - n for w, n in zip(wanted, natural))
        return type(self).function(input, self.weight, self.bias, self.stride, self.padding,
                                   extra, self.groups, self.dilation)

    def extra_repr(self) -> str:
        text = (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
                f"stride={self.stride}")
        for name, default in (("padding", 0), ("output_padding", 0), ("dilation", 1)):
            if getattr(self, name) != (default,) * self.nd:
                text += f", {name}={getattr(self, name)}"
        if self.groups != 1:
            text += f", groups={self.groups}"
        if self.bias is None:
            text += ", bias=False"
        return text


class ConvTranspose2d(_ConvTransposeNd):
    """(N, C_in, H, W) -> (N, C_out, H_out, W_out), each input pixel spreading the kernel."""


class ConvTranspose1d(_ConvTransposeNd):
    """(N, C_in, L) -> (N, C_out, L_out)."""
    nd = 1
    function = staticmethod(conv_transpose1d)


class ConvTranspose3d(_ConvTransposeNd):
    """(N, C_in, D, H, W) -> (N, C_out, D_out, H_out, W_out)."""
    nd = 3
    function = staticmethod(conv_transpose3d)
