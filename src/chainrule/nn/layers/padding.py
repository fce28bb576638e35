"""Padding layers: F.pad with its widths and mode fixed. `padding` is an int (all sides)
or PyTorch's tuple (left, right[, top, bottom[, front, back]])."""
from __future__ import annotations

from ..functional.misc import pad
from ..module import Module

__all__ = ["ZeroPad1d", "ZeroPad2d", "ZeroPad3d", "ConstantPad1d", "ConstantPad2d",
           "ConstantPad3d", "ReflectionPad1d", "ReflectionPad2d", "ReflectionPad3d",
           "ReplicationPad1d", "ReplicationPad2d", "ReplicationPad3d", "CircularPad1d",
           "CircularPad2d", "CircularPad3d"]


class _Pad(Module):
    nd = 1
    mode = "constant"

    def __init__(self, padding, value: float = 0.0):
        super().__init__()
        self.padding = (padding,) * (2 * self.nd) if isinstance(padding, int) else tuple(padding)
        if len(self.padding) != 2 * self.nd:
            raise ValueError(f"{type(self).__name__}: padding must be an int or "
                             f"{2 * self.nd} ints, got {padding}")
        self.value = value

    def forward(self, input):  # noqa: A002
        if self.mode == "constant":
            return pad(input, self.padding, "constant", self.value)
        return pad(input, self.padding, self.mode)

    def extra_repr(self) -> str:
        return f"{self.padding}"


class _ConstantPad(_Pad):
    def __init__(self, padding, value: float):
        super().__init__(padding, value)

    def extra_repr(self) -> str:
        return f"padding={self.padding}, value={self.value}"


class _ZeroPad(_Pad):
    def __init__(self, padding):
        super().__init__(padding, 0.0)


class _ModePad(_Pad):
    def __init__(self, padding):
        super().__init__(padding)


class ZeroPad1d(_ZeroPad):
    nd = 1


class ZeroPad2d(_ZeroPad):
    nd = 2


class ZeroPad3d(_ZeroPad):
    nd = 3


class ConstantPad1d(_ConstantPad):
    nd = 1


class ConstantPad2d(_ConstantPad):
    nd = 2


class ConstantPad3d(_ConstantPad):
    nd = 3


class ReflectionPad1d(_ModePad):
    nd, mode = 1, "reflect"


class ReflectionPad2d(_ModePad):
    nd, mode = 2, "reflect"


class ReflectionPad3d(_ModePad):
    nd, mode = 3, "reflect"


class ReplicationPad1d(_ModePad):
    nd, mode = 1, "replicate"


class ReplicationPad2d(_ModePad):
    nd, mode = 2, "replicate"


class ReplicationPad3d(_ModePad):
    nd, mode = 3, "replicate"


class CircularPad1d(_ModePad):
    nd, mode = 1, "circular"


class CircularPad2d(_ModePad):
    nd, mode = 2, "circular"


class CircularPad3d(_ModePad):
    nd, mode = 3, "circular"
