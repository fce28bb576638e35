"""Sparse COO tensors, held densely: `torch.sparse_coo_tensor(indices, values, size)`,
`x.to_sparse()`, `x.to_dense()`, `torch.spmm(a, b)`.

chainrule has no sparse layouts (Embedding's row-sparse gradients in chainrule.sparse
aside). Programs that build a graph's adjacency matrix as a sparse COO tensor and multiply
by it (pytorch/examples' gcn and gat) get the same numbers and gradients with the matrix
held as an ordinary tensor: the entries a sparse tensor leaves out are zeros, and repeated
coordinates add up, as PyTorch's coalesce adds them. What is not there is the memory
saving, so a matrix too large to hold densely stays out of reach; `is_sparse` stays False
and `layout` strided, which is what the tensor is.
"""
from __future__ import annotations

from .. import creation
from ..tensor import Tensor
from . import functions as f
from .tensor_methods import index_put


def sparse_coo_tensor(indices, values, size=None, *, dtype=None, device=None,
                      requires_grad: bool = False, check_invariants=None,
                      is_coalesced=None) -> Tensor:
    """The dense tensor whose entry at each column of `indices` (sparse_dim, nnz) is the
    sum of the `values` (nnz, *dense_shape) given there, zero elsewhere."""
    index = indices.numpy() if isinstance(indices, Tensor) else creation.tensor(indices).numpy()
    values = values if isinstance(values, Tensor) else creation.tensor(values)
    if index.ndim != 2 or index.shape[1] != values.shape[0]:
        raise ValueError(f"sparse_coo_tensor: indices of shape {tuple(index.shape)} do not "
                         f"match {values.shape[0] if values.ndim else 0} values")
    if size is None:
        size = tuple(int(i) + 1 for i in index.max(axis=1)) + tuple(values.shape[1:])
    if dtype is not None:
        values = values.to(dtype)
    empty = creation.zeros(tuple(size), dtype=values.dtype, device=device)
    dense = index_put(empty, tuple(index.astype("int64")), values, accumulate=True)
    return dense.requires_grad_(True) if requires_grad else dense


def to_sparse(self, sparse_dim=None, *, layout=None, blocksize=None, dense_dim=None) -> Tensor:
    """The same numbers (held densely: see the module's docstring)."""
    return f.clone(self)


def to_dense(self, dtype=None, *, masked_grad=None) -> Tensor:
    return self if dtype is None else self.to(dtype)


FUNCTIONS = {"sparse_coo_tensor": sparse_coo_tensor, "spmm": f.matmul}
METHODS = {"to_sparse": to_sparse, "to_sparse_coo": to_sparse, "to_dense": to_dense}
