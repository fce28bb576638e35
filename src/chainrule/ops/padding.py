"""Padding with a constant: the input placed inside a larger array (or cropped, for
negative widths). Its adjoint is the same op with every width negated: cropping the
padding away again, or padding a crop back with zeros.
"""
from __future__ import annotations

from ..autograd.op import Op
from ..backend import xp


class ConstantPad(Op):
    # y = x surrounded by `value` (widths (before, after) per dim, negative ones crop);
    # dL/dx = dL/dy with the padding cut off: ConstantPad with the widths negated
    torch_name = "ConstantPadNdBackward0"

    def forward(ctx, x, widths=(), value=0):
        ctx.widths = widths
        shape = tuple(n + before + after for n, (before, after) in zip(x.shape, widths))
        if any(n < 0 for n in shape):
            raise ValueError(f"padding {widths} crops more than the input has")
        out = xp(x).full(shape, value, dtype=x.dtype)
        source, target = [], []
        for n, (before, after) in zip(x.shape, widths):
            start, stop = max(-before, 0), n - max(-after, 0)
            source.append(slice(start, max(stop, start)))
            target.append(slice(max(before, 0), max(before, 0) + max(stop - start, 0)))
        out[tuple(target)] = x[tuple(source)]
        return out

    def backward(ctx, grad):
        return (ConstantPad.call(grad, widths=tuple((-b, -a) for b, a in ctx.widths),
                                 value=0),)
