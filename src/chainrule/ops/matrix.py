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


class Cholesky(Op):
    # A = L Lᵀ (L lower triangular; A symmetric positive definite). With Φ(X) the lower
    # triangle of X with its diagonal halved and S = L⁻ᵀ Φ(Lᵀ · dL/dL) L⁻¹:
    #   dL/dA = ½ (S + Sᵀ)
    def forward(ctx, a):
        try:
            lower = xp(a).linalg.cholesky(a)
        except xp(a).linalg.LinAlgError as err:
            raise ValueError(f"the matrix is not positive definite ({err})") from None
        ctx.save_for_backward(lower)
        return lower

    def backward(ctx, grad):
        ctx.once_differentiable()
        (lower,) = ctx.saved
        phi = xp(lower).tril(lower.swapaxes(-1, -2) @ xp(lower).tril(grad))
        phi -= 0.5 * (xp(lower).eye(lower.shape[-1]) * phi)
        inverse = xp(lower).linalg.inv(lower)
        s = inverse.swapaxes(-1, -2) @ phi @ inverse
        return (0.5 * (s + s.swapaxes(-1, -2)),)


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
