"""Reductions: many numbers in, fewer out. The backward spreads the gradient back out."""
from __future__ import annotations

from ..autograd.broadcast import Expand
from ..autograd.op import Op
from ..backend import xp
from ..kernels.reduce import BLAS_TYPES, sum_over
from .shape import Reshape, axis


def _axes(dim, ndim):
    """`dim` (None, an int or a tuple) as a tuple of non-negative axes."""
    if dim is None:
        return tuple(range(ndim))
    dims = dim if isinstance(dim, (tuple, list)) else (dim,)
    axes = tuple(sorted(axis(d, ndim) for d in dims))
    return axes if ndim else ()  # a 0-d tensor: dim 0 (or -1) reduces nothing


def _kept_shape(shape, axes):
    return tuple(1 if i in axes else n for i, n in enumerate(shape))


def _spread(grad, ctx):
    """Reshape a reduced gradient to keepdim form, then broadcast it over the input shape."""
    grad = Reshape.call(grad, shape=_kept_shape(ctx.source, ctx.axes))
    return Expand.call(grad, shape=ctx.source)


class Sum(Op):
    # y = Σᵢ xᵢ;  dy/dxᵢ = 1, so every xᵢ receives the gradient of y
    def forward(ctx, x, dim=None, keepdim=False):
        ctx.source = x.shape
        ctx.axes = _axes(dim, x.ndim)
        ctx.torch_name = "SumBackward0" if dim is None else "SumBackward1"
        return sum_over(x, ctx.axes, keepdim)

    def backward(ctx, grad):
        return (_spread(grad, ctx),)


class Mean(Op):
    # y = (1/n) Σᵢ xᵢ;  dy/dxᵢ = 1/n
    def forward(ctx, x, dim=None, keepdim=False):
        ctx.source = x.shape
        ctx.axes = _axes(dim, x.ndim)
        ctx.torch_name = "MeanBackward0" if dim is None else "MeanBackward1"
        count = 1
        for a in ctx.axes:
            count *= x.shape[a]
        ctx.count = count
        if x.dtype not in BLAS_TYPES:
            return x.mean(axis=ctx.axes, keepdims=keepdim)
        total = sum_over(x, ctx.axes, keepdim)
        return total / x.dtype.type(count)

    def backward(ctx, grad):
        return (_spread(grad / ctx.count, ctx),)


class Extreme(Op):
    # y = max (or min) over all elements;  ties share the gradient evenly: dy/dxᵢ = [xᵢ = y] / #ties
    def forward(ctx, x, largest=True):
        y = x.max() if largest else x.min()
        ctx.torch_name = "MaxBackward1" if largest else "MinBackward1"
        ties = x == y
        ctx.save_for_backward(ties / ties.sum(dtype=x.dtype))
        return y

    def backward(ctx, grad):
        (share,) = ctx.saved
        return (grad * share,)


def argextreme(x, dim, keepdim, largest):
    """Index of the max (or min) along `dim` (an array; no gradient)."""
    if dim is None:
        flat = xp(x).argmax(x) if largest else xp(x).argmin(x)
        return flat.reshape((1,) * x.ndim) if keepdim else flat
    index = xp(x).argmax(x, axis=dim) if largest else xp(x).argmin(x, axis=dim)
    return xp(x).expand_dims(index, dim) if keepdim else index
