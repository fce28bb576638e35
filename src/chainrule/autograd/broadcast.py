"""Broadcasting and its adjoint, the pair of ops the engine itself needs.

An elementwise op on a (3, 1) and a (1, 4) array makes a (3, 4) result: NumPy broadcast
both inputs. Each op's backward returns gradients shaped like the result, and the engine
sums each one back to its input's shape (`sum_to`), in this one place for every op.
Expanding and summing back are each other's adjoints, so each op's backward is the other.
"""
from __future__ import annotations

from ..backend import xp
from .op import Op


class Expand(Op):
    # y = x broadcast to a larger shape;  the adjoint of copying is summing: sum_to(grad, x.shape)
    def forward(ctx, x, shape=()):
        ctx.source = x.shape
        return xp(x).broadcast_to(x, shape)

    def backward(ctx, grad):
        return (SumTo.call(grad, shape=ctx.source),)


class SumTo(Op):
    # y = grad summed over the axes that broadcasting added or stretched;  adjoint: expand
    def forward(ctx, x, shape=()):
        ctx.source = x.shape
        return sum_to_array(x, shape)

    def backward(ctx, grad):
        return (Expand.call(grad, shape=ctx.source),)


def sum_to_array(x, shape):
    """Sum `x` down to `shape`, undoing NumPy broadcasting (the one place this is done)."""
    lead = x.ndim - len(shape)
    axes = tuple(range(lead)) + tuple(
        lead + i for i, n in enumerate(shape) if n == 1 and x.shape[lead + i] != 1)
    if axes:
        x = x.sum(axis=axes, keepdims=True)
    if lead:
        x = x.reshape(shape)
    return x


def sum_to(x, shape):
    """Array or tensor summed back to `shape` (used by the engine for broadcast inputs)."""
    return SumTo.call(x, shape=shape)
