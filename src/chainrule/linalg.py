"""`torch.linalg`: PyTorch's linear-algebra namespace, over chainrule's matrix functions
(composites/matrix.py: inverse, determinant, the singular value decomposition) and norms.
What chainrule lacks here (eig, qr, cholesky, lstsq, ...) is absent, not approximated."""
from __future__ import annotations

from .composites import TOP_LEVEL, matrix
from .composites import functions as f
from .composites.return_types import returns
from .tensor import Tensor

det = TOP_LEVEL["det"]
inv = TOP_LEVEL["inverse"]
matrix_power = TOP_LEVEL["matrix_power"]
slogdet = returns("linalg_slogdet", "sign logabsdet")(TOP_LEVEL["slogdet"])


@returns("linalg_svd", "U S Vh")
def svd(A: Tensor, full_matrices: bool = True, *, driver=None):  # noqa: N803 - PyTorch's name
    """(U, S, Vh) with A = U diag(S) Vh; full_matrices=False gives the reduced form."""
    u, s, v = matrix.full_svd(A) if full_matrices else matrix.reduced_svd(A)
    return u, s, f.transpose(v, -2, -1)


def svdvals(A: Tensor, *, driver=None) -> Tensor:  # noqa: N803
    """The singular values, largest first."""
    return matrix.reduced_svd(A)[1]


def vector_norm(x: Tensor, ord=2, dim=None, keepdim: bool = False, *, dtype=None) -> Tensor:  # noqa: A002
    """(Σ |x|^ord)^(1/ord) over `dim` (all elements when None)."""
    return TOP_LEVEL["norm"](x, 2 if ord == 2 else ord, dim, keepdim, dtype)


def matrix_norm(A: Tensor, ord="fro", dim=(-2, -1), keepdim: bool = False, *,  # noqa: N803, A002
                dtype=None) -> Tensor:
    """The Frobenius norm ("fro"), the nuclear norm ("nuc": the sum of the singular
    values) or the spectral norm (2: the largest), over the two dims `dim`."""
    if ord == "fro":
        return vector_norm(A, 2, dim, keepdim, dtype=dtype)
    if ord not in ("nuc", 2):
        raise NotImplementedError(f"linalg.matrix_norm: ord={ord!r} is not supported "
                                  "(only 'fro', 'nuc' and 2)")
    values = svdvals(f.permute(A, *_to_end(A.ndim, dim)))
    result = f.sum(values, -1) if ord == "nuc" else f.max(values, -1).values
    for d in sorted(a % A.ndim for a in dim) if keepdim else ():
        result = f.unsqueeze(result, d)
    return result


def _to_end(ndim: int, dim) -> list:
    """The axes with the two of `dim` last, in their order."""
    pair = [d % ndim for d in dim]
    return [d for d in range(ndim) if d not in pair] + pair


def norm(A: Tensor, ord=None, dim=None, keepdim: bool = False, *, dtype=None) -> Tensor:  # noqa: N803, A002
    """A vector norm (one dim, or every element of a tensor when ord is None) or a
    matrix norm (two dims, or a 2-d tensor with ord given), as torch.linalg.norm."""
    two_dims = (isinstance(dim, (tuple, list)) and len(dim) == 2) or \
        (dim is None and ord is not None and A.ndim == 2)
    if two_dims:
        return matrix_norm(A, "fro" if ord is None else ord, dim or (-2, -1), keepdim,
                           dtype=dtype)
    return vector_norm(A, 2 if ord is None else ord, dim, keepdim, dtype=dtype)


def solve(A: Tensor, B: Tensor, *, left: bool = True) -> Tensor:  # noqa: N803
    """X with A X = B (X A = B when left=False), through A's inverse."""
    return f.matmul(inv(A), B) if left else f.matmul(B, inv(A))


def cross(input: Tensor, other: Tensor, *, dim: int = -1) -> Tensor:  # noqa: A002
    return TOP_LEVEL["cross"](input, other, dim)


def multi_dot(tensors) -> Tensor:
    """The product of the matrices in order (1-d ends as a row and a column vector)."""
    result = tensors[0]
    for t in tensors[1:]:
        result = f.matmul(result, t)
    return result
