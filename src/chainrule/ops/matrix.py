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


class Svd(Op):
    # A = U diag(s) Vᵀ (reduced), returned packed as the rows [U; s; V] (composites/matrix.py
    # slices them). With F_ij = 1/(s_j² - s_i²) off the diagonal and S = diag(s):
    #   dL/dA = U [diag(gs) + (F∘(UᵀgU - gUᵀU)) S + S (F∘(VᵀgV - gVᵀV))] Vᵀ
    #           + (I - UUᵀ) gU S⁻¹ Vᵀ + U S⁻¹ gVᵀ (I - VVᵀ)
    def forward(ctx, a):
        u, s, vh = xp(a).linalg.svd(a, full_matrices=False)
        v = vh.swapaxes(-1, -2)
        ctx.save_for_backward(u, s, v)
        return xp(a).concatenate([u, s[..., None, :], v], axis=-2)

    def backward(ctx, grad):
        ctx.once_differentiable()
        u, s, v = ctx.saved
        rows = u.shape[-2]
        g_u, g_s, g_v = grad[..., :rows, :], grad[..., rows, :], grad[..., rows + 1:, :]
        u_t, v_t = u.swapaxes(-1, -2), v.swapaxes(-1, -2)
        gap = s[..., None, :] ** 2 - s[..., :, None] ** 2
        f = xp(s).divide(1.0, gap, out=xp(s).zeros_like(gap), where=gap != 0)
        core = (f * (u_t @ g_u - g_u.swapaxes(-1, -2) @ u)) * s[..., None, :] \
            + s[..., :, None] * (f * (v_t @ g_v - g_v.swapaxes(-1, -2) @ v)) \
            + g_s[..., :, None] * xp(s).eye(s.shape[-1], dtype=s.dtype)
        beside_u = (g_u - u @ (u_t @ g_u)) / s[..., None, :]
        beside_v = (g_v - v @ (v_t @ g_v)) / s[..., None, :]
        return (u @ core @ v_t + beside_u @ v_t + u @ beside_v.swapaxes(-1, -2),)
