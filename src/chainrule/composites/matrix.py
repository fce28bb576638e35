"""Matrix functions (ops/matrix.py): inverse and determinant of a batch of square
matrices, logdet and slogdet the logarithm of the determinant; the singular value
decomposition of any batch of matrices."""
from __future__ import annotations

from ..autograd.grad_mode import is_grad_enabled
from ..backend import xp
from ..ops.matrix import Det, Inverse, Svd
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


def reduced_svd(a: Tensor) -> tuple:
    """(U, S, V) with A = U diag(S) Vᵀ, U (m, k), V (n, k), k = min(m, n): differentiable
    (one Svd node, sliced)."""
    if a.ndim < 2:
        raise RuntimeError(f"svd: expected a matrix or a batch of matrices, got shape "
                           f"{tuple(a.shape)}")
    rows = a.shape[-2]
    packed = Svd.apply(f._floating(a))
    return (f.index(packed, (Ellipsis, slice(0, rows), slice(None))),
            f.index(packed, (Ellipsis, rows, slice(None))),
            f.index(packed, (Ellipsis, slice(rows + 1, None), slice(None))))


def full_svd(a: Tensor) -> tuple:
    """(U, S, V) with square U (m, m) and V (n, n). Its derivative is not defined where
    m != n (PyTorch refuses it too), so an input that requires grad is refused."""
    if a.shape[-1] == a.shape[-2]:
        return reduced_svd(a)
    if a.requires_grad and is_grad_enabled():
        raise RuntimeError("svd: the full decomposition of a non-square matrix "
                           "(some=False, full_matrices=True) has no derivative; ask for "
                           "the reduced one")
    u, s, vh = xp(a.array).linalg.svd(f._floating(a).array, full_matrices=True)
    return Tensor._wrap(u), Tensor._wrap(s), Tensor._wrap(vh.swapaxes(-1, -2))


@returns("svd", "U S V")
def svd(input: Tensor, some: bool = True, compute_uv: bool = True):  # noqa: A002
    """torch.svd: (U, S, V), reduced unless some=False; without compute_uv, U and V are
    zeros of shape (m, m) and (n, n), as PyTorch's."""
    if not compute_uv:
        _, s, _ = reduced_svd(input)
        *batch, m, n = input.shape
        zeros = xp(input.array).zeros
        return (Tensor._wrap(zeros((*batch, m, m), dtype=s.dtype)), s,
                Tensor._wrap(zeros((*batch, n, n), dtype=s.dtype)))
    return reduced_svd(input) if some else full_svd(input)


FUNCTIONS = {"inverse": inverse, "det": det, "logdet": logdet, "slogdet": slogdet, "svd": svd}
