"""Running sums and products, and the product of all elements.

The gradient of a running sum is the running sum of the gradient taken from the other
end; products divide the output by each input (where that input is not zero)."""
from __future__ import annotations

from ..autograd.op import Op
from ..backend import xp


def _cumsum(x, dim: int, reverse: bool):
    if not reverse:
        return xp(x).cumsum(x, axis=dim)
    return xp(x).flip(xp(x).cumsum(xp(x).flip(x, dim), axis=dim), dim)


class CumSum(Op):
    # y_i = Σ_{j≤i} x_j;  dL/dx_j = Σ_{i≥j} dL/dy_i  (a running sum from the end)
    torch_name = "CumsumBackward0"

    def forward(ctx, x, dim=0, reverse=False):
        ctx.dim, ctx.reverse = dim, reverse
        return _cumsum(x, dim, reverse)

    def backward(ctx, grad):
        return (CumSum.call(grad, dim=ctx.dim, reverse=not ctx.reverse),)


class CumProd(Op):
    # y_i = Π_{j≤i} x_j;  dL/dx_j = Σ_{i≥j} dL/dy_i · y_i / x_j  (for x_j ≠ 0)
    torch_name = "CumprodBackward0"

    def forward(ctx, x, dim=0):
        y = xp(x).cumprod(x, axis=dim)
        ctx.dim = dim
        ctx.save_for_backward(x, y)
        return y

    def backward(ctx, grad):
        ctx.once_differentiable()
        x, y = ctx.saved
        if bool((x == 0).any()):
            return (_cumprod_grad_with_zeros(x, grad, ctx.dim),)
        return (_cumsum(grad * y, ctx.dim, reverse=True) / x,)


def _cumprod_grad_with_zeros(x, grad, dim):
    """dL/dx_j = Σ_{i≥j} dL/dy_i Π_{k≤i, k≠j} x_k, term by term (exact with zeros)."""
    moved_x, moved_g = xp(x).moveaxis(x, dim, -1), xp(x).moveaxis(grad, dim, -1)
    n = moved_x.shape[-1]
    out = xp(x).zeros_like(moved_x)
    for j in range(n):
        others = moved_x.copy()
        others[..., j] = 1
        out[..., j] = (xp(x).cumprod(others, axis=-1)[..., j:] * moved_g[..., j:]).sum(-1)
    return xp(x).moveaxis(out, -1, dim)


class Prod(Op):
    # y = Π x_i;  dy/dx_j = Π_{i≠j} x_i  (y / x_j when x_j ≠ 0)
    def forward(ctx, x, dim=None, keepdim=False):
        ctx.dim, ctx.keepdim = dim, keepdim
        ctx.save_for_backward(x)
        return xp(x).prod(x, axis=dim, keepdims=keepdim)

    def backward(ctx, grad):
        ctx.once_differentiable()
        (x,) = ctx.saved
        axis = ctx.dim
        if axis is not None and not ctx.keepdim:
            grad = xp(x).expand_dims(grad, axis)
        zeros = (x == 0)
        nonzero_product = xp(x).prod(xp(x).where(zeros, 1, x), axis=axis, keepdims=True)
        count = zeros.sum(axis=axis, keepdims=True)
        others = xp(x).where(count == 0, nonzero_product / xp(x).where(zeros, 1, x),
                             xp(x).where((count == 1) & zeros, nonzero_product, 0))
        return (grad * others,)
