"""Square-matrix functions with their gradients: inverse and determinant (batched over
leading dimensions; the public forms, with logdet and slogdet, are composites/matrix.py)."""
from __future__ import annotations

from ..autograd.op import Op
from ..backend import xp


class Inverse(Op):
    # Y = A⁻¹;  dL/dA = -Yᵀ · dL/dY · Yᵀ
    def forward(ctx, a):
        y = xp(a).linalg.inv(a)
        ctx.save_for_backward(y)
        return y

    def backward(ctx, grad):
        (y,) = ctx.saved
        y_t = y.swapaxes(-1, -2)
        return (-(y_t @ grad @ y_t),)


class Det(Op):
    # d = det A;  dL/dA = dL/dd · d · A⁻ᵀ
    def forward(ctx, a):
        d = xp(a).linalg.det(a)
        ctx.save_for_backward(a, d)
        return d

    def backward(ctx, grad):
        a, d = ctx.saved
        scale = (grad * d).reshape(tuple(d.shape) + (1, 1))
        return (scale * Inverse.call(a).swapaxes(-1, -2),)
