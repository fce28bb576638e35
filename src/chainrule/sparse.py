"""Row-sparse gradients: what `Embedding(sparse=True)` and `EmbeddingBag(sparse=True)` put
in `weight.grad`.

A batch reads a few thousand rows of a table that may hold millions. The table's gradient
is zero on every other row, so instead of a dense (V, D) array it is kept as the rows
that were read and their sums:

    dense[indices[i]] = values[i]      (every other row 0; indices unique and ascending)

Plain SGD then updates only those rows (`p[indices] -= lr * values`), which is what makes
large vocabularies cheap to train. The layout is PyTorch's coalesced sparse COO tensor
with one sparse dimension (`indices()` has shape (1, nnz)).

A row-sparse gradient stays sparse only while it is on its way to a leaf: summed with
another sparse gradient it stays sparse, summed with a dense one it becomes dense, and
an op that needs it as an input (the weight was itself computed) gets the dense array.

An embedding whose rows were reduced per bag (EmbeddingBag, or `.mean(1)` after
Embedding) hands over its tokens instead: each token's id and its bag's one gradient row.
The rows are summed per id when first read; plain SGD never reads them, and adds the
tokens straight into the table's rows in one pass (`add_to`).
"""
from __future__ import annotations

from . import backend
from .backend import xp
from .kernels.rows import add_rows
from .kernels.segments import add_scattered, sum_rows
from .tensor import Tensor


class RowSparseTensor:
    __slots__ = ("_summed", "_tokens", "shape")

    # NumPy hands `ndarray + RowSparseTensor` to our __radd__ instead of looping over us.
    __array_ufunc__ = None
    is_sparse = True
    layout = "sparse_coo"
    grad_fn = None
    requires_grad = False

    def __init__(self, indices, values, shape: tuple) -> None:
        """`indices` (nnz,) unique ascending row numbers, `values` (nnz, *shape[1:])."""
        if values.shape[1:] != tuple(shape[1:]) or indices.shape != values.shape[:1]:
            raise ValueError(f"RowSparseTensor: {indices.shape[0]} indices and values of "
                             f"shape {tuple(values.shape)} do not describe rows of shape {shape}")
        self._summed = (indices, values)
        self._tokens = None
        self.shape = tuple(shape)

    @classmethod
    def of_tokens(cls, ids, values, shape: tuple, source=None, coef=None) -> RowSparseTensor:
        """Rows holding Σ coef[t]·values[source[t]] over the tokens t of each id ids[t],
        summed when first read (the arrays are kept: pass copies of any that may change)."""
        grad = cls.__new__(cls)
        grad._summed, grad._tokens, grad.shape = None, (ids, values, source, coef), tuple(shape)
        return grad

    @property
    def _indices(self):
        return self._rows()[0]

    @property
    def _values(self):
        return self._rows()[1]

    def _rows(self):
        """(indices, values), summing the tokens the first time."""
        if self._summed is None:
            ids, values, source, coef = self._tokens
            self._summed, self._tokens = sum_rows(self.shape[0], ids, values, source, coef), None
        return self._summed

    @classmethod
    def no_rows(cls, shape: tuple, like) -> RowSparseTensor:
        """The zero gradient: no stored rows (dtype and device of the array `like`)."""
        return cls(xp(like).zeros(0, dtype=xp(like).intp),
                   xp(like).zeros((0,) + tuple(shape[1:]), dtype=like.dtype), shape)

    @classmethod
    def from_rows(cls, indices, values, shape: tuple) -> RowSparseTensor:
        """Rows that may repeat and come in any order, summed per row (coalesced)."""
        if indices.size == 0:
            return cls.no_rows(shape, values)
        return cls(*sum_rows(shape[0], indices, values), shape)

    # --- what it is ----------------------------------------------------------------------
    @property
    def dtype(self):
        return (self._summed or self._tokens)[1].dtype

    @property
    def device(self) -> str:
        return backend.device_of((self._summed or self._tokens)[0])

    @property
    def ndim(self) -> int:
        return len(self.shape)

    def size(self, dim: int | None = None):
        return self.shape if dim is None else self.shape[dim]

    def dim(self) -> int:
        return len(self.shape)

    def _nnz(self) -> int:
        return int(self._indices.shape[0])

    def indices(self):
        """The row numbers, shape (1, nnz), as PyTorch's COO indices."""
        return Tensor._wrap(self._indices.reshape(1, -1))

    def values(self):
        """The rows' values, shape (nnz, *shape[1:])."""
        return Tensor._wrap(self._values)

    def is_coalesced(self) -> bool:
        return True

    def coalesce(self) -> RowSparseTensor:
        return self

    def __repr__(self) -> str:
        return (f"RowSparseTensor(indices={self._indices.tolist()}, values of shape "
                f"{tuple(self._values.shape)}, size={tuple(self.shape)}, nnz={self._nnz()})")

    # --- to and from dense ---------------------------------------------------------------
    def dense_array(self):
        out = xp(self._values).zeros(self.shape, dtype=self._values.dtype)
        out[self._indices] = self._values
        return out

    def to_dense(self):
        return Tensor._wrap(self.dense_array())

    def to(self, device) -> RowSparseTensor:
        return RowSparseTensor(backend.to_device(self._indices, device),
                               backend.to_device(self._values, device), self.shape)

    def with_values(self, values) -> RowSparseTensor:
        """The same rows holding other values (a scaled or clipped gradient)."""
        return RowSparseTensor(self._indices, values, self.shape)

    # --- sums ----------------------------------------------------------------------------
    def __add__(self, other):
        if isinstance(other, RowSparseTensor):
            return RowSparseTensor.from_rows(
                xp(self._values).concatenate([self._indices, other._indices]),
                xp(self._values).concatenate([self._values, other._values]), self.shape)
        return other + self  # dense + sparse is dense

    def __radd__(self, other):
        """dense + sparse: a new dense array."""
        out = backend.xp(other).array(other, dtype=self._values.dtype, copy=True)
        self.add_to(out)
        return out

    def add_to(self, dense, alpha: float = 1.0) -> None:
        """dense += alpha · self, in place, touching only the stored rows."""
        if self._summed is None:  # not summed yet: the tokens go straight into the rows
            ids, values, source, coef = self._tokens
            add_scattered(dense, ids, values, source, coef, alpha)
            return
        indices, values = self._summed
        add_rows(dense, indices, values if alpha == 1.0 else values * dense.dtype.type(alpha))

def dense(grad):
    """The gradient as an array: a dense array as it is, a row-sparse one spread out."""
    return grad.dense_array() if isinstance(grad, RowSparseTensor) else grad


def dense_tensor(grad):
    """The gradient as a Tensor: a dense one as it is, a row-sparse one spread out (for
    code that reads every element, such as checks against finite differences)."""
    return grad.to_dense() if grad.is_sparse else grad
