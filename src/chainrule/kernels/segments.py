"""Sums of rows by id: the scatter-add under embedding gradients and sparse updates.

    Z[v] = Σ_{t: ids_t = v} coef_t · values[source_t]

is a product Z = A @ values with a sparse matrix A holding coef_t at (ids_t, source_t)
for every token t (a repeated position adds up). NumPy's `add.at(Z, ids, rows)` would do
the same one row at a time through its general machinery (about 1 µs a row); SciPy's
product with a COO matrix runs the same loop, one row update per token, in compiled
code, with no sort. Its rows come from `values` directly, so an EmbeddingBag or a
`.mean(1)` passes one gradient row per bag and the (tokens, D) rows are never built.

A sparse gradient wants only the rows of the ids that occur: A then gets one row per
distinct id (the ids renumbered 0, 1, … in ascending order). On a GPU, CuPy's `add.at`
is an atomic kernel and is used directly.
"""
from __future__ import annotations

import scipy.sparse

from ..backend import device_of, float32, float64, xp

_PRODUCT_TYPES = (float32, float64)  # what SciPy's product takes; others go through float32


def scatter_rows(num_rows, ids, values, source=None, coef=None):
    """zeros((num_rows, D)) with row ids[t] += coef[t]·values[source[t]] for every t
    (source[t] = t and coef[t] = 1 when not given)."""
    if device_of(values) != "cpu":
        total = xp(values).zeros((num_rows, values.shape[-1]), dtype=values.dtype)
        xp(values).add.at(total, ids, _token_rows(values, source, coef))
        return total
    return _product(num_rows, ids, values, source, coef)


def sum_rows(num_rows, ids, values, source=None, coef=None):
    """The distinct ids (all below num_rows), ascending, and for each one
    Σ coef[t]·values[source[t]] over the tokens t with that id (one row per id)."""
    if device_of(values) != "cpu":
        distinct, slot = xp(values).unique(ids, return_inverse=True)
        return distinct, scatter_rows(distinct.size, slot.reshape(-1), values, source, coef)
    distinct, slot = distinct_ids(num_rows, ids)
    return distinct, _product(distinct.size, slot, values, source, coef)


def distinct_ids(num_rows, ids):
    """The ids that occur, ascending, and each token's place among them. Marking them in
    a table of num_rows flags costs one pass when the table is not much larger than the
    tokens; a sort (np.unique) otherwise."""
    if num_rows > 16 * ids.size:
        distinct, slot = xp(ids).unique(ids, return_inverse=True)
        return distinct, slot.reshape(-1)
    seen = xp(ids).zeros(num_rows, dtype=bool)
    seen[ids] = True
    distinct = xp(ids).flatnonzero(seen)
    place = xp(ids).empty(num_rows, dtype=xp(ids).intp)
    place[distinct] = xp(ids).arange(distinct.size)
    return distinct, place.take(ids)


def _product(num_rows, ids, values, source, coef):
    """A @ values for A[ids_t, source_t] = coef_t (summed over repeats), on the CPU."""
    work = values if values.dtype in _PRODUCT_TYPES else values.astype(float32)
    tokens = ids.size
    sources = xp(ids).arange(tokens) if source is None else source
    weights = (xp(ids).ones(tokens, dtype=work.dtype) if coef is None
               else coef.astype(work.dtype, copy=False))
    matrix = scipy.sparse.coo_array((weights, (ids, sources)), shape=(num_rows, work.shape[0]))
    total = matrix @ work
    # SciPy hands back a view of the fresh array it wrote: pass on that array itself, so
    # that the autograd engine sees a gradient it need not copy before keeping it
    total = total if total.base is None else total.base
    return total.astype(values.dtype, copy=False)


def _token_rows(values, source, coef):
    """coef[t]·values[source[t]] for every token t (source[t] = t, coef 1 if None)."""
    rows = values if source is None else values.take(source, axis=0)
    return rows if coef is None else rows * coef[:, None]
