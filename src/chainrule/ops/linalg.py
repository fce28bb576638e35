"""Matrix products."""
from __future__ import annotations

from ..autograd.op import Op


class MatMul(Op):
    # Z = A @ B;  dL/dA = dL/dZ @ Bᵀ,  dL/dB = Aᵀ @ dL/dZ  (batch dims summed by the engine)
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return a @ b

    def backward(ctx, grad):
        a, b = ctx.saved
        return (grad @ b.swapaxes(-1, -2) if ctx.needs_grad(0) else None,
                a.swapaxes(-1, -2) @ grad if ctx.needs_grad(1) else None)
