"""LU factorisation with partial pivoting: `torch.lu` / `x.lu()` pack A = P L U into one
matrix and the row swaps (1-based, as LAPACK and PyTorch give them); `torch.lu_unpack`
takes them apart. The factorisation itself carries no gradient here (it refuses a tensor
that needs one, in one line); lu_unpack's L and U are differentiable parts of the packed
factors. CPU, through SciPy's LAPACK."""
from __future__ import annotations

import numpy
import scipy.linalg

from ..autograd.grad_mode import is_grad_enabled
from ..tensor import Tensor
from . import functions as f
from .out_forms import with_out
from .shape import tril, triu


def lu(A: Tensor, pivot: bool = True, get_infos: bool = False):  # noqa: N803
    """(LU, pivots[, infos]) of a batch of matrices: LU holds L below the diagonal (its
    unit diagonal left out) and U on and above it."""
    if not pivot:
        raise RuntimeError("lu without pivoting is not implemented on the CPU")
    if A.requires_grad and is_grad_enabled():
        raise RuntimeError("lu: chainrule has no gradient through the LU factorisation; "
                           "factorise under torch.no_grad() or A.detach()")
    matrices = A.detach().cpu().numpy()
    batch, (m, n) = matrices.shape[:-2], matrices.shape[-2:]
    packed, swaps = [], []
    for matrix in matrices.reshape(-1, m, n):
        factors, pivots = scipy.linalg.lu_factor(matrix)
        packed.append(factors)
        swaps.append(pivots + 1)
    result = (numpy.stack(packed).reshape(matrices.shape).astype(A.dtype),
              numpy.stack(swaps).reshape(*batch, min(m, n)).astype(numpy.int32))
    if get_infos:
        result += (numpy.zeros(batch, numpy.int32),)
    return tuple(Tensor._wrap(array).to(A.device) for array in result)


def lu_unpack(LU_data: Tensor, LU_pivots: Tensor, unpack_data: bool = True,  # noqa: N803
              unpack_pivots: bool = True):
    """(P, L, U) with A = P @ L @ U from lu()'s packed factors and 1-based row swaps."""
    m, n = LU_data.shape[-2:]
    k = min(m, n)
    lower = upper = permutation = None
    if unpack_data:
        eye = Tensor._wrap(numpy.eye(m, k, dtype=LU_data.dtype))
        lower = f.add(f.index(tril(LU_data, -1), (..., slice(None), slice(0, k))), eye)
        upper = f.index(triu(LU_data), (..., slice(0, k), slice(None)))
    if unpack_pivots:
        permutation = Tensor._wrap(_permutations(numpy.asarray(LU_pivots.array), m,
                                                 LU_data.dtype))
    return permutation, lower, upper


def _permutations(pivots: numpy.ndarray, m: int, dtype) -> numpy.ndarray:
    """P for each row-swap list: row i was swapped with row pivots[i] - 1, in order."""
    batch = pivots.shape[:-1]
    result = []
    for swaps in pivots.reshape(-1, pivots.shape[-1]):
        order = numpy.arange(m)
        for i, j in enumerate(swaps - 1):
            order[[i, j]] = order[[j, i]]
        result.append(numpy.eye(m, dtype=dtype)[order].T)
    return numpy.stack(result).reshape(*batch, m, m) if result else numpy.eye(m, dtype=dtype)


FUNCTIONS = {"lu": with_out(lu), "lu_unpack": with_out(lu_unpack)}  # out=(tensors, ...)
