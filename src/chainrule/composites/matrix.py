"""Square-matrix functions (ops/matrix.py): inverse and determinant of a batch of square
matrices; logdet and slogdet are the logarithm of the determinant."""
from __future__ import annotations

from ..backend import xp
from ..ops.matrix import Det, Inverse
from ..tensor import Tensor
from . import functions as f
from .return_types import returns


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


@returns("slogdet", "sign logabsdet")
def slogdet(input: Tensor):  # noqa: A002
    """(sign of det A, log |det A|)."""
    d = det(input)
    return Tensor._wrap(xp(d.array).sign(d.array)), f.log(f.abs(d))


FUNCTIONS = {"inverse": inverse, "det": det, "logdet": logdet, "slogdet": slogdet}
