"""Gathering and scattering whole rows of a 2-D array, the inner loop of embedding
gradients and of sparse updates.

`a.take(ids, axis=0)` copies each row with one memory copy. The assignment `a[ids] = r`
and the read `a[ids]` go through NumPy's general fancy-indexing machinery and cost about
twice as much for rows of a few hundred bytes. Seen as a 1-D array of opaque items, one
row per item (a `void` dtype as wide as the row), a C-contiguous array can be written
with `put`, which copies each row as one item: the speed of `take`, in the other
direction. On a GPU (CuPy) the plain assignment is used.
"""
from __future__ import annotations

from ..backend import device_of, xp


def put_rows(array, ids, rows) -> None:
    """array[ids[i]] = rows[i] for every i (ids unique)."""
    if not _as_items(array, rows):
        array[ids] = rows
        return
    row = xp(array).dtype((xp(array).void, array.itemsize * array.shape[1]))
    xp(array).put(array.view(row).reshape(-1), ids, rows.view(row).reshape(-1))


def _as_items(array, rows) -> bool:
    """Whether both can be seen as 1-D arrays of whole rows (same row type, no strides)."""
    return (device_of(array) == "cpu" and array.ndim == 2 and rows.dtype == array.dtype
            and rows.shape[1:] == array.shape[1:] and array.flags.c_contiguous
            and rows.flags.c_contiguous)


def add_rows(array, ids, rows) -> None:
    """array[ids[i]] += rows[i] for every i (ids unique)."""
    total = array.take(ids, axis=0)
    total += rows
    put_rows(array, ids, total)
