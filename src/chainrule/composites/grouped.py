"""Functions over groups of values: `index_reduce` (the product, mean, largest or smallest
of the source slices sent to each index, composed from gathers and reductions, so its
gradient follows from theirs), `histogramdd` (counts of points in a grid of bins), and
`map2_` (a Python function of three tensors' elements)."""
from __future__ import annotations

import builtins
from collections import namedtuple

import numpy

from .. import backend, creation, versions
from ..tensor import Tensor
from . import functions as f
from .pointwise import into
from .reduction import amax, amin, prod

__all__ = ["index_reduce", "histogramdd", "map2_"]

_FILLER = {"prod": 1.0, "mean": 0.0, "amax": -numpy.inf, "amin": numpy.inf}


def index_reduce(input: Tensor, dim: int, index, source: Tensor, reduce: str,  # noqa: A002
                 *, include_self: bool = True) -> Tensor:
    """input with each slice input[index[k]] (along `dim`) replaced by the `reduce`
    ("prod", "mean", "amax", "amin") of the source slices k sent to it, and of its own
    value with include_self. Slices no index names are kept."""
    if reduce not in _FILLER:
        raise ValueError(f"index_reduce: reduce must be one of 'prod', 'mean', 'amax', "
                         f"'amin', got {reduce!r}")
    dim = dim % max(input.ndim, 1)
    positions = _positions(index, source.shape[dim] if source.ndim else 1)
    if positions.size and (positions.min() < -input.shape[dim] or
                           positions.max() >= input.shape[dim]):
        raise IndexError(f"index_reduce: index out of range for dimension {dim} of size "
                         f"{input.shape[dim]}")
    positions %= input.shape[dim]
    rows, table = _groups(positions)
    x, s = input.movedim(dim, 0), source.movedim(dim, 0)
    filler = creation.full((1, *s.shape[1:]), _filler(reduce, s.dtype), dtype=s.dtype,
                           device=s.device)
    slots = f.cat([s, filler]).index_select(0, _on(table.reshape(-1), s))
    slots = f.reshape(slots, (*table.shape, *s.shape[1:]))         # (targets, most, ...)
    count = (table < s.shape[0]).sum(1)
    if include_self:
        slots = f.cat([x.index_select(0, _on(rows, x)).unsqueeze(1), slots], 1)
        count = count + 1
    reduced = _reduce(slots, reduce, count)
    reduced = reduced if reduced.dtype == x.dtype else f.cast(reduced, x.dtype)
    result = x.index_copy(0, _on(rows, x), reduced) if rows.size else x
    return result.movedim(0, dim)


def _reduce(slots: Tensor, reduce: str, count: numpy.ndarray) -> Tensor:
    if reduce == "prod":
        return prod(slots, 1)
    if reduce == "amax":
        return amax(slots, 1)
    if reduce == "amin":
        return amin(slots, 1)
    counts = count.reshape(-1, *[1] * (slots.ndim - 2)).astype(numpy.float64)
    total = f.sum(slots, 1)
    if slots.dtype.kind != "f":                 # integer means round down, as PyTorch's
        return Tensor._wrap(backend.xp(total.array).floor_divide(total.array, _on(
            counts, total).array.astype(total.dtype)))
    return f.div(total, _on(counts.astype(slots.dtype), total))


def _positions(index, expected: int) -> numpy.ndarray:
    positions = backend.to_device(index.array, "cpu") if isinstance(index, Tensor) \
        else numpy.asarray(index)
    positions = positions.astype(numpy.int64).reshape(-1)
    if positions.size != expected:
        raise ValueError(f"index_reduce: index has {positions.size} entries, the source "
                         f"{expected} slices along dim")
    return positions


def _groups(positions: numpy.ndarray) -> tuple:
    """The indexed slices, and for each the source slices sent to it, padded with the
    filler row's number (len(positions)) to a table (targets, most)."""
    rows, group = numpy.unique(positions, return_inverse=True)
    order = numpy.argsort(group, kind="stable")
    sizes = numpy.bincount(group, minlength=rows.size)
    table = numpy.full((rows.size, sizes.max(initial=0)), positions.size, dtype=numpy.int64)
    starts = numpy.concatenate([[0], numpy.cumsum(sizes)[:-1]])
    slot = numpy.arange(positions.size) - numpy.repeat(starts, sizes)
    table[group[order], slot] = order
    return rows, table


def _filler(reduce: str, dtype):
    """What an empty slot holds: the reduction's neutral value, the dtype's extreme finite
    number for amax and amin (an infinity would meet a zero in their masks)."""
    value = _FILLER[reduce]
    if numpy.isinf(value):
        info = numpy.iinfo(dtype) if numpy.dtype(dtype).kind in "iu" else numpy.finfo(dtype)
        return info.min if value < 0 else info.max
    return value


def _on(array, like: Tensor) -> Tensor:
    return creation.as_tensor(numpy.asarray(array), device=like.device)


Histogramdd = namedtuple("histogramdd", ["hist", "bin_edges"])


def histogramdd(input: Tensor, bins=10, *, range=None, weight=None,  # noqa: A002
                density: bool = False, out=None) -> Histogramdd:
    """Counts of the points (rows of the last dim) in a D-dimensional grid of bins: bins
    an int, one int per dim or one edge tensor per dim; range a flat (min, max) per dim.
    out=(hist, [edges, ...]) receives the results, as the signature PyTorch documents."""
    points = backend.to_device(input.array, "cpu")
    points = points.reshape(-1, points.shape[-1])
    dims = points.shape[1]
    if isinstance(bins, (list, tuple)) and bins and isinstance(bins[0], Tensor):
        bins = [backend.to_device(b.array, "cpu") for b in bins]
    limits = None if range is None else [tuple(range[2 * d:2 * d + 2]) for d in
                                         builtins.range(dims)]
    weights = None if weight is None else backend.to_device(weight.array, "cpu").reshape(-1)
    hist, edges = numpy.histogramdd(points, bins=bins, range=limits, weights=weights,
                                    density=density)

    def made(array) -> Tensor:
        return creation.as_tensor(array.astype(input.dtype), device=input.device)
    result = Histogramdd(made(hist), tuple(made(e) for e in edges))
    if out is None:
        return result
    hist_out, edges_out = out
    return Histogramdd(into(hist_out, result.hist),
                       tuple(into(o, e) for o, e in zip(edges_out, result.bin_edges,
                                                        strict=True)))


def map2_(self: Tensor, x: Tensor, y: Tensor, callable) -> Tensor:  # noqa: A002
    """self[i] = callable(self[i], x[i], y[i]) for every element, in place (CPU tensors;
    x and y broadcast to self's shape)."""
    mine = self.array.reshape(-1)
    others = [numpy.broadcast_to(t.array, self.shape).reshape(-1) for t in (x, y)]
    for i, (a, b, c) in enumerate(zip(mine.tolist(), *(o.tolist() for o in others))):
        mine[i] = callable(a, b, c)
    versions.bump(self.array)
    return self
