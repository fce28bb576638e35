"""Sums of rows by id: the scatter-add under embedding gradients and sparse updates.

    Z[ids_t] += coef_t · values[source_t]      for every token t

is Z += A @ values for a sparse matrix A holding coef_t at (ids_t, source_t) (repeated
positions add up). NumPy's `add.at(Z, ids, rows)` does it one row at a time through its
general machinery (about 1 µs a row). SciPy's kernel for a COO matrix times a dense one
runs the same loop in compiled code, one row update per token, with no sort, and takes
its rows from `values` directly: an EmbeddingBag or a `.mean(1)` passes one gradient row
per bag, and the (tokens, D) rows are never built. `coo_array @ values` would allocate a
fresh Z; calling its kernel (`coo_matmat_dense`, SciPy ≥ 1.15) with our own Z adds into
it in place, so SGD can add a sparse gradient's tokens straight into the table's rows.
That kernel trusts its arguments (C-contiguous arrays of one float type, indices in
range), which `add_scattered` checks before every call.

A sparse gradient wants only the rows of the ids that occur: Z then gets one row per
distinct id (the ids renumbered 0, 1, … in ascending order). On a GPU, CuPy's `add.at`
is an atomic kernel and is used directly.
"""
from __future__ import annotations

from scipy.sparse._sparsetools import coo_matmat_dense

from ..backend import device_of, float32, float64, xp
from .rows import add_rows

_KERNEL_TYPES = (float32, float64)  # what the kernel adds; other floats go through float32


def scatter_rows(num_rows, ids, values, source=None, coef=None):
    """zeros((num_rows, D)) with row ids[t] += coef[t]·values[source[t]] for every t
    (source[t] = t and coef[t] = 1 when not given)."""
    dtype = values.dtype if device_of(values) != "cpu" or values.dtype in _KERNEL_TYPES else float32
    total = xp(values).zeros((num_rows, values.shape[-1]), dtype=dtype)
    add_scattered(total, ids, values, source, coef)
    return total.astype(values.dtype, copy=False)


def sum_rows(num_rows, ids, values, source=None, coef=None):
    """The distinct ids (all below num_rows), ascending, and for each one
    Σ coef[t]·values[source[t]] over the tokens t with that id (one row per id)."""
    distinct, slot = distinct_ids(num_rows, ids)
    return distinct, scatter_rows(distinct.size, slot, values, source, coef)


def distinct_ids(num_rows, ids):
    """The ids that occur, ascending, and each token's place among them. Marking them in
    a table of num_rows flags costs one pass when the table is not much larger than the
    tokens; a sort (unique) otherwise."""
    if num_rows > 16 * ids.size or device_of(ids) != "cpu":
        distinct, slot = xp(ids).unique(ids, return_inverse=True)
        return distinct, slot.reshape(-1)
    seen = xp(ids).zeros(num_rows, dtype=bool)
    seen[ids] = True
    distinct = xp(ids).flatnonzero(seen)
    place = xp(ids).empty(num_rows, dtype=xp(ids).intp)
    place[distinct] = xp(ids).arange(distinct.size)
    return distinct, place.take(ids)


def add_scattered(total, ids, values, source=None, coef=None, alpha: float = 1.0) -> None:
    """total[ids[t]] += alpha·coef[t]·values[source[t]] for every t, in place (`total`
    and `values` 2-D, rows of one width; ids, source and coef of one length)."""
    if values.ndim != 2 or total.ndim != 2 or values.shape[1] != total.shape[1]:
        raise ValueError(f"add_scattered: rows of shape {tuple(values.shape)} do not fit a table "
                         f"of shape {tuple(total.shape)}")
    if ids.size == 0:
        return
    if device_of(total) != "cpu":
        rows = alpha * (values if source is None else values.take(source, axis=0))
        xp(total).add.at(total, ids, rows if coef is None else rows * coef[:, None])
        return
    if not _kernel_fits(total):  # a strided or half-precision table
        distinct, sums = sum_rows(total.shape[0], ids, values, source, coef)
        add_rows(total, distinct, (alpha * sums).astype(total.dtype, copy=False))
        return
    rows = _within(ids, total.shape[0])
    sources = xp(ids).arange(ids.size) if source is None else _within(source, values.shape[0])
    weights = xp(ids).full(ids.size, alpha, dtype=total.dtype) if coef is None else (
        alpha * xp(ids).ascontiguousarray(coef).reshape(-1)).astype(total.dtype, copy=False)
    if not rows.size == sources.size == weights.size:
        raise ValueError(f"add_scattered: {rows.size} ids, {sources.size} sources and "
                         f"{weights.size} coefficients")
    # Z += A @ values, A[rows_t, sources_t] = weights_t
    coo_matmat_dense(rows.size, total.shape[1], rows, sources, weights,
                     xp(values).ascontiguousarray(values, dtype=total.dtype).reshape(-1), total)


def _kernel_fits(total) -> bool:
    """Whether SciPy's kernel can write `total` in place: C-contiguous, of a type it adds."""
    return total.flags.c_contiguous and total.dtype in _KERNEL_TYPES


def _within(indices, size: int):
    """The indices as one contiguous run of intp for the kernel, which reads and writes
    where it is told: an index outside 0 … size - 1 is refused."""
    lowest, highest = int(indices.min()), int(indices.max())
    if lowest < 0 or highest >= size:
        raise IndexError(f"add_scattered: indices from {lowest} to {highest} do not fit "
                         f"{size} rows")
    return xp(indices).ascontiguousarray(indices, dtype=xp(indices).intp).reshape(-1)
