"""Pooling layers beyond max and mean: LPPool1d/2d/3d (p-norm of each window),
MaxUnpool1d/2d/3d (max pooling's partial inverse), FractionalMaxPool2d/3d (windows at
random places, for output sizes that need not divide the input)."""
from __future__ import annotations

from .. import functional as F
from ..module import Module

__all__ = ["LPPool1d", "LPPool2d", "LPPool3d", "MaxUnpool1d", "MaxUnpool2d", "MaxUnpool3d",
           "FractionalMaxPool2d", "FractionalMaxPool3d"]


class LPPool2d(Module):
    """(Σ_window x^p)^(1/p) over kernel_size windows (stride defaults to kernel_size)."""
    function = staticmethod(F.lp_pool2d)

    def __init__(self, norm_type: float, kernel_size, stride=None, ceil_mode: bool = False):
        super().__init__()
        self.norm_type, self.kernel_size = norm_type, kernel_size
        self.stride, self.ceil_mode = stride, ceil_mode

    def forward(self, input):  # noqa: A002
        return type(self).function(input, float(self.norm_type), self.kernel_size, self.stride,
                                   self.ceil_mode)

    def extra_repr(self) -> str:
        return (f"norm_type={self.norm_type}, kernel_size={self.kernel_size}, "
                f"stride={self.stride}, ceil_mode={self.ceil_mode}")


class LPPool1d(LPPool2d):
    function = staticmethod(F.lp_pool1d)


class LPPool3d(LPPool2d):
    function = staticmethod(F.lp_pool3d)


class MaxUnpool2d(Module):
    """Puts each value of a max pooling's output back where its index says; zeros elsewhere."""
    nd = 2
    function = staticmethod(F.max_unpool2d)

    def __init__(self, kernel_size, stride=None, padding=0):
        super().__init__()
        self.kernel_size = _ntuple(kernel_size, self.nd)
        self.stride = _ntuple(stride if stride is not None else kernel_size, self.nd)
        self.padding = _ntuple(padding, self.nd)

    def forward(self, input, indices, output_size=None):  # noqa: A002
        return type(self).function(input, indices, self.kernel_size, self.stride, self.padding,
                                   output_size)

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class MaxUnpool1d(MaxUnpool2d):
    nd = 1
    function = staticmethod(F.max_unpool1d)


class MaxUnpool3d(MaxUnpool2d):
    nd = 3
    function = staticmethod(F.max_unpool3d)


class FractionalMaxPool2d(Module):
    """Max pooling with kernel_size windows at pseudo-random places, to output_size or to
    the input size times output_ratio (0 < ratio < 1); new places on every call unless
    _random_samples is given."""
    nd = 2
    function = staticmethod(F.fractional_max_pool2d)

    def __init__(self, kernel_size, output_size=None, output_ratio=None,
                 return_indices: bool = False, _random_samples=None):
        super().__init__()
        name = type(self).__name__
        self.kernel_size = _ntuple(kernel_size, self.nd)
        self.return_indices = return_indices
        self.register_buffer("_random_samples", _random_samples)
        self.output_size = None if output_size is None else _ntuple(output_size, self.nd)
        self.output_ratio = None if output_ratio is None else _ntuple(output_ratio, self.nd)
        if output_size is None and output_ratio is None:
            raise ValueError(f"{name} requires specifying either an output size, or a "
                             "pooling ratio")
        if output_size is not None and output_ratio is not None:
            raise ValueError(f"{name}: only one of output_size and output_ratio may be "
                             "specified")
        if self.output_ratio is not None and not all(0 < r < 1 for r in self.output_ratio):
            raise ValueError(f"{name}: output_ratio must be between 0 and 1 (got "
                             f"{output_ratio})")

    def forward(self, input):  # noqa: A002
        return type(self).function(input, self.kernel_size, self.output_size,
                                   self.output_ratio, self.return_indices,
                                   _random_samples=self._random_samples)


class FractionalMaxPool3d(FractionalMaxPool2d):
    nd = 3
    function = staticmethod(F.fractional_max_pool3d)


def _ntuple(value, nd: int) -> tuple:
    return (value,) * nd if isinstance(value, (int, float)) else tuple(value)
