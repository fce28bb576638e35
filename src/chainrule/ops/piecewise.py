"""Piecewise-linear activations that need their own backward (the rest of them are
composed from clamp and where in nn/functional/piecewise.py)."""
from __future__ import annotations

import numpy

from ..autograd.op import Op
from ..backend import xp

# PyTorch's hardsigmoid kernel multiplies the gradient by 1/6 rounded to float32, in every
# dtype; the same constant here keeps float64 gradients equal to PyTorch's.
_ONE_SIXTH = float(numpy.float32(1.0) / numpy.float32(6.0))


class Hardsigmoid(Op):
    # y = clip((x + 3) / 6, 0, 1);  dy/dx = 1/6 on (-3, 3), else 0
    def forward(ctx, x):
        inside = (x > -3) & (x < 3)
        ctx.save_for_backward(xp(x).where(inside, x.dtype.type(_ONE_SIXTH), x.dtype.type(0)))
        return xp(x).clip((x + 3) / 6, 0, 1).astype(x.dtype, copy=False)

    def backward(ctx, grad):
        (slope,) = ctx.saved
        return (grad * slope,)
