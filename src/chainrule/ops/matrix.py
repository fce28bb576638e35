"""Square-matrix functions with their gradients: inverse and determinant (batched over
leading dimensions). logdet and slogdet are the logarithm of the determinant."""
from __future__ import annotations

from ..autograd.op import Op
from ..backend import xp
from ..tensor import Tensor
from . import functions as f


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


def _square(name: str, a: Tensor) -> None:
    if a.ndim < 2 or a.shape[-1] != a.shape[-2]:
        raise RuntimeError(f"{name}: expected a batch of square matrices, got shape "
                           f"{tuple(a.shape)}")


def inverse(input: Tensor) -> Tensor:  # noqa: A002
    _square("inverse", input)
    return Inverse.apply(f._floating(input))


def det(input: Tensor) -> Tensor:  # noqa: A002
    _square("det", input)
    return Det.apply(f._floating(input))


def logdet(input: Tensor) -> Tensor:  # noqa: A002
    """log det A (NaN where the determinant is negative, as PyTorch)."""
    return f.log(det(input))


def slogdet(input: Tensor):  # noqa: A002
    """(sign of det A, log |det A|)."""
    d = det(input)
    return Tensor._wrap(xp(d.array).sign(d.array)), f.log(f.abs(d))


FUNCTIONS = {"inverse": inverse, "det": det, "logdet": logdet, "slogdet": slogdet}
