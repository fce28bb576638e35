"""Ops that move numbers around without changing them: their backward moves the gradient back.

Each op here has a partner that undoes it, and each backward is that partner:
reshape ↔ reshape, permute ↔ inverse permute, cat ↔ slicing. (Expand ↔ SumTo live in
autograd/broadcast.py: the engine itself sums broadcast gradients with SumTo.)
"""
from __future__ import annotations

from ..autograd.op import Op
from ..backend import xp


def axis(dim: int, ndim: int, op: str = "") -> int:
    """`dim` (negative counts from the end) as an axis in [0, ndim). Out of range is an
    error, as in PyTorch, never wrapped around. A 0-d tensor accepts dim 0 and -1."""
    n = ndim if ndim else 1
    if not -n <= dim < n:
        raise IndexError(f"{op + ': ' if op else ''}dim {dim} is out of range (expected "
                         f"{-n} to {n - 1})")
    return dim % n


class Reshape(Op):
    # y = x viewed with another shape;  the gradient is reshaped back
    torch_name = "ViewBackward0"

    def forward(ctx, x, shape=()):
        ctx.source = x.shape
        return x.reshape(shape)

    def backward(ctx, grad):
        return (Reshape.call(grad, shape=ctx.source),)


class Permute(Op):
    # y = x with axes reordered;  the gradient goes through the inverse order
    def forward(ctx, x, axes=()):
        ctx.axes = axes
        return x.transpose(axes)

    def backward(ctx, grad):
        inverse = tuple(sorted(range(len(ctx.axes)), key=ctx.axes.__getitem__))
        return (Permute.call(grad, axes=inverse),)


class Cat(Op):
    # y = [x₁ x₂ …] joined along `dim`;  each xᵢ gets its own slice of the gradient
    def forward(ctx, *xs, dim=0):
        ctx.dim = dim
        ctx.sizes = [x.shape[dim] for x in xs]
        return xp(xs[0]).concatenate(xs, axis=dim)

    def backward(ctx, grad):
        lead = (slice(None),) * (ctx.dim % grad.ndim)
        grads, start = [], 0
        for size in ctx.sizes:
            grads.append(grad[lead + (slice(start, start + size),)])
            start += size
        return tuple(grads)


class Stack(Op):
    # y = [x₁, x₂, …] stacked on a new axis `dim`;  xᵢ gets grad[…, i, …]
    def forward(ctx, *xs, dim=0):
        ctx.count = len(xs)
        out = xp(xs[0]).stack(xs, axis=dim)
        ctx.dim = dim % out.ndim
        return out

    def backward(ctx, grad):
        lead = (slice(None),) * ctx.dim
        return tuple(grad[lead + (i,)] for i in range(ctx.count))
