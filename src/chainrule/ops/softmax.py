"""Softmax and log-softmax, shifted by the maximum so exp never overflows."""
from __future__ import annotations

from ..autograd.op import Op
from ..backend import xp
from .elementwise import Exp
from .reduction import Sum


class Softmax(Op):
    # y = e^x / Σ e^x;  dL/dx = y ⊙ (g - Σ g⊙y)  (the Jacobian diag(y) - y yᵀ applied to g)
    def forward(ctx, x, dim=-1):
        e = xp(x).exp(x - x.max(axis=dim, keepdims=True))
        y = e / e.sum(axis=dim, keepdims=True)
        ctx.dim = dim
        ctx.save_for_backward(y)
        return y

    def backward(ctx, grad):
        (y,) = ctx.saved
        return (y * (grad - Sum.call(grad * y, dim=ctx.dim, keepdim=True)),)


class LogSoftmax(Op):
    # y = x - log Σ e^x;  dL/dx = g - softmax(x) · Σ g = g - e^y Σ g
    def forward(ctx, x, dim=-1):
        shifted = x - x.max(axis=dim, keepdims=True)
        y = shifted - xp(x).log(xp(x).exp(shifted).sum(axis=dim, keepdims=True))
        ctx.dim = dim
        ctx.save_for_backward(y)
        return y

    def backward(ctx, grad):
        (y,) = ctx.saved
        return (grad - Exp.call(y) * Sum.call(grad, dim=ctx.dim, keepdim=True),)
