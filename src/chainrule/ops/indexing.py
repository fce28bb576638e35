"""Indexing and its adjoint, scattering: reading x[key] sends the gradient back into x's slots.

Integer-array keys may repeat an index (`x[[0, 0, 1]]`): each read of x[0] adds its gradient,
so the scatter uses an unbuffered add (`add.at`), not an assignment.
"""
from __future__ import annotations

from ..autograd.op import Op
from ..backend import xp


class Index(Op):
    # y = x[key];  dL/dx = scatter-add of dL/dy into zeros shaped like x
    def forward(ctx, x, key=()):
        ctx.source = x.shape
        ctx.key = key
        return x[key]

    def backward(ctx, grad):
        return (IndexAdd.call(grad, shape=ctx.source, key=ctx.key),)


class IndexAdd(Op):
    # y = zeros(shape) with y[key] += x;  dL/dx = dL/dy[key]
    def forward(ctx, x, shape=(), key=()):
        ctx.key = key
        out = xp(x).zeros(shape, dtype=x.dtype)
        if _is_advanced(key):
            xp(x).add.at(out, key, x)
        else:
            out[key] = x
        return out

    def backward(ctx, grad):
        return (Index.call(grad, key=ctx.key),)


def _is_advanced(key) -> bool:
    """Whether a key holds an integer array, where indices may repeat."""
    parts = key if isinstance(key, tuple) else (key,)
    return any(hasattr(p, "dtype") and p.dtype.kind in "iu" and p.ndim > 0 for p in parts)


class TakeAlongDim(Op):
    # y = x gathered at `index` along `dim`;  dL/dx = dL/dy put back at the same places
    torch_name = "GatherBackward0"

    def forward(ctx, x, index=None, dim=0):
        ctx.source = x.shape
        ctx.index = index
        ctx.dim = dim
        return xp(x).take_along_axis(x, index, axis=dim)

    def backward(ctx, grad):
        return (PutAlongDim.call(grad, shape=ctx.source, index=ctx.index, dim=ctx.dim),)


class ExtremeAlong(TakeAlongDim):
    # y = max (or min) of x along `dim`, read at `index` (the argmax or argmin);
    # dL/dx = dL/dy put back at the winners (a TakeAlongDim whose indices are the winners)
    def forward(ctx, x, index=None, dim=0, largest=True):
        return TakeAlongDim.forward(ctx, x, index=index, dim=dim)


class PutAlongDim(Op):
    # y = zeros(shape) with x added at `index` along `dim`;  dL/dx = dL/dy gathered there
    def forward(ctx, x, shape=(), index=None, dim=0):
        ctx.index = index
        ctx.dim = dim
        out = xp(x).zeros(shape, dtype=x.dtype)
        # Indices along `dim` are distinct per row in every use (max, gather of targets),
        # but add, not assign, keeps this correct if they are not.
        xp(x).add.at(out, _full_index(index, dim, shape), x)
        return out

    def backward(ctx, grad):
        return (TakeAlongDim.call(grad, index=ctx.index, dim=ctx.dim),)


def _full_index(index, dim, shape):
    """Turn a take_along_axis index into a full advanced-index tuple for add.at."""
    dim = dim % len(shape)
    grids = xp(index).ix_(*[xp(index).arange(n) for n in index.shape])
    return tuple(index if d == dim else grids[d] for d in range(len(shape)))
