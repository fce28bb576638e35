"""PyTorch's indexing functions, composed from the indexing ops (ops/indexing.py):
selecting (`index_select`, `masked_select`, `take`), filling (`masked_fill`,
`index_fill`), scattering (`scatter`, `scatter_add`, `index_add`, `index_copy`), and
the index finders without a gradient (`nonzero`, `argwhere`, `searchsorted`, `unique`,
`bincount`, ...).

A scatter adds its source into zeros at the indices (`PutAlongDim`, `IndexAdd`), whose
gradient gathers from the same places; "replace" versions choose between that and the
input with a constant mask of the positions written.
"""
from __future__ import annotations

import numpy

from .. import backend
from ..backend import xp
from ..ops.indexing import IndexAdd, PutAlongDim
from ..tensor import Tensor, lift
from . import functions as f
from .node_names import pytorch_node


def _key(dim: int, ndim: int, index) -> tuple:
    return (slice(None),) * (dim % ndim) + (index,)


def _indices(index):
    return index.array if isinstance(index, Tensor) else numpy.asarray(index)


def _value(value, like: Tensor) -> Tensor:
    return value if isinstance(value, Tensor) else lift(value, like)


@pytorch_node("IndexSelectBackward0")
def index_select(input: Tensor, dim: int, index) -> Tensor:  # noqa: A002
    return f.index(input, _key(dim, input.ndim, _indices(index).reshape(-1)))


@pytorch_node("MaskedFillBackward0")
def masked_fill(input: Tensor, mask, value) -> Tensor:  # noqa: A002
    """input with `value` where `mask` is true (broadcast); no gradient flows to the
    masked places."""
    mask = mask if isinstance(mask, Tensor) else Tensor(numpy.asarray(mask, bool))
    return f.where(mask, f.cast(_value(value, input), input.dtype), input)


def masked_select(input: Tensor, mask) -> Tensor:  # noqa: A002
    """The elements where `mask` (broadcast) is true, as a 1-d tensor."""
    mask = _indices(mask)
    shape = numpy.broadcast_shapes(input.shape, mask.shape)
    whole = f.expand(input, shape) if input.shape != shape else input
    return f.index(whole, backend.xp(mask).broadcast_to(mask, shape))


def take(input: Tensor, index) -> Tensor:  # noqa: A002
    return f.index(f.reshape(input, -1), _indices(index))


def take_along_dim(input: Tensor, indices, dim=None) -> Tensor:  # noqa: A002
    if dim is None:
        return take(input, indices)
    return f.gather(input, dim, indices)


def index_fill(input: Tensor, dim: int, index, value) -> Tensor:  # noqa: A002
    hit = _hit(input, _key(dim, input.ndim, _indices(index)))
    return f.where(hit, f.cast(_value(value, input), input.dtype), input)


def assigned(input: Tensor, key, value) -> Tensor:  # noqa: A002
    """input with input[key] = value, as a new tensor: what `x[key] = value` records inside
    the graph (gradients reach the value at those places and the input elsewhere)."""
    key = f._array_key(key)
    value = f.cast(_value(value, input), input.dtype)
    placed = IndexAdd.apply(f.expand(value, input.array[key].shape), shape=input.shape, key=key)
    return f.where(_hit(input, key), placed, input)


def _hit(input: Tensor, key) -> Tensor:
    hit = xp(input.array).zeros(input.shape, bool)
    hit[key] = True
    return Tensor._wrap(hit)


def index_add(input: Tensor, dim: int, index, source: Tensor, *, alpha=1) -> Tensor:  # noqa: A002
    """input with alpha · source[i] added at position index[i] along `dim` (repeats add)."""
    key = _key(dim, input.ndim, _indices(index))
    added = IndexAdd.apply(source, shape=input.shape, key=key)
    return f.add(input, added if alpha == 1 else f.mul(added, alpha))


def index_copy(input: Tensor, dim: int, index, source: Tensor) -> Tensor:  # noqa: A002
    key = _key(dim, input.ndim, _indices(index))
    return f.where(_hit(input, key), IndexAdd.apply(source, shape=input.shape, key=key), input)


def _scatter_parts(input: Tensor, dim: int, index, src):
    index = _indices(index).astype(backend.int64, copy=False)
    dim = dim % input.ndim
    if not isinstance(src, Tensor):
        src = f.expand(lift(src, input), index.shape)
    elif src.shape != index.shape:  # only the part of src that index covers is used
        src = f.index(src, tuple(slice(0, n) for n in index.shape))
    return index, dim, src


def scatter_add(input: Tensor, dim: int, index, src: Tensor) -> Tensor:  # noqa: A002
    """input with src[i][j] added at index[i][j] along `dim` (repeats add)."""
    index, dim, src = _scatter_parts(input, dim, index, src)
    return f.add(input, PutAlongDim.apply(src, shape=input.shape, index=index, dim=dim))


def scatter(input: Tensor, dim: int, index, src=None, *, value=None,  # noqa: A002
            reduce=None) -> Tensor:
    """input with src (or `value`) written at index along `dim`; reduce="add" adds,
    "multiply" multiplies (repeated indices: PyTorch leaves the order unspecified)."""
    index, dim, src = _scatter_parts(input, dim, index, value if src is None else src)
    if reduce == "add":
        return f.add(input, PutAlongDim.apply(src, shape=input.shape, index=index, dim=dim))
    written = PutAlongDim.apply(src, shape=input.shape, index=index, dim=dim)
    hit = PutAlongDim.call(backend.xp(index).ones(index.shape, input.dtype),
                           shape=input.shape, index=index, dim=dim) > 0
    if reduce == "multiply":
        return f.mul(input, f.where(Tensor._wrap(hit), written,
                                    Tensor._wrap(numpy.ones((), input.dtype))))
    if reduce is not None:
        raise ValueError(f"scatter: reduce must be 'add' or 'multiply', got {reduce!r}")
    return f.where(Tensor._wrap(hit), written, input)


def scatter_reduce(input: Tensor, dim: int, index, src: Tensor, reduce: str,  # noqa: A002
                   *, include_self: bool = True) -> Tensor:
    """reduce="sum" or "mean" of the values scattered to each place (and the input's own
    value, with include_self)."""
    index, dim, src = _scatter_parts(input, dim, index, src)
    if reduce not in ("sum", "mean"):
        raise NotImplementedError(f"scatter_reduce: reduce={reduce!r} (sum and mean are "
                                  "supported)")
    total = PutAlongDim.apply(src, shape=input.shape, index=index, dim=dim)
    counts = PutAlongDim.call(backend.xp(index).ones(index.shape, input.dtype),
                              shape=input.shape, index=index, dim=dim)
    hit = Tensor._wrap(counts > 0)
    if include_self:
        total, counts = f.add(total, input), counts + 1
    if reduce == "mean":
        total = f.div(total, Tensor._wrap(backend.xp(counts).maximum(counts, 1)))
    return f.where(hit, total, input)


# --- finding indices: no gradient ----------------------------------------------------
def nonzero(input: Tensor, *, as_tuple: bool = False):  # noqa: A002
    found = backend.xp(input.array).nonzero(input.array)
    if as_tuple:
        return tuple(Tensor._wrap(i.astype(backend.int64)) for i in found)
    return Tensor._wrap(backend.xp(input.array).stack(found, axis=1).astype(backend.int64))


def argwhere(input: Tensor) -> Tensor:  # noqa: A002
    return nonzero(input)


def searchsorted(sorted_sequence: Tensor, values, *, right: bool = False, side=None,
                 out_int32: bool = False, sorter=None) -> Tensor:
    """Where each value would be inserted to keep the (last dimension's) order."""
    side = side or ("right" if right else "left")
    seq = sorted_sequence.array
    vals = values.array if isinstance(values, Tensor) else xp(seq).asarray(values)
    if seq.ndim == 1:
        found = xp(seq).searchsorted(seq, vals, side=side)
    else:
        found = xp(seq).stack([xp(seq).searchsorted(s, v, side=side)
                               for s, v in zip(seq.reshape(-1, seq.shape[-1]),
                                               vals.reshape(-1, vals.shape[-1]))]).reshape(vals.shape)
    return Tensor._wrap(xp(seq).asarray(found, dtype=backend.int32 if out_int32 else backend.int64))


def bucketize(input, boundaries: Tensor, *, out_int32: bool = False,  # noqa: A002
              right: bool = False) -> Tensor:
    return searchsorted(boundaries, input, right=right, out_int32=out_int32)


def unique(input: Tensor, sorted: bool = True, return_inverse: bool = False,  # noqa: A002
           return_counts: bool = False, dim=None):
    array = input.array if dim is not None else input.array.reshape(-1)
    values, inverse, counts = xp(array).unique(array, return_inverse=True, return_counts=True,
                                               axis=dim)
    out = [Tensor._wrap(values)]
    if return_inverse:
        out.append(Tensor._wrap(inverse.reshape(input.shape if dim is None else -1)
                                .astype(backend.int64)))
    if return_counts:
        out.append(Tensor._wrap(counts.astype(backend.int64)))
    return out[0] if len(out) == 1 else tuple(out)


def unique_consecutive(input: Tensor, return_inverse: bool = False,  # noqa: A002
                       return_counts: bool = False, dim=None):
    if dim is not None:
        raise NotImplementedError("unique_consecutive: dim= is not supported")
    flat = input.array.reshape(-1)
    starts = xp(flat).concatenate([xp(flat).ones(min(flat.size, 1), bool), flat[1:] != flat[:-1]])
    out = [Tensor._wrap(flat[starts])]
    if return_inverse:
        out.append(Tensor._wrap((xp(flat).cumsum(starts) - 1).reshape(input.shape)
                                .astype(backend.int64)))
    if return_counts:
        bounds = xp(flat).concatenate([xp(flat).flatnonzero(starts), xp(flat).asarray([flat.size])])
        out.append(Tensor._wrap(xp(flat).diff(bounds).astype(backend.int64)))
    return out[0] if len(out) == 1 else tuple(out)


def bincount(input: Tensor, weights=None, minlength: int = 0) -> Tensor:  # noqa: A002
    w = weights.array if isinstance(weights, Tensor) else weights
    counts = xp(input.array).bincount(input.array, weights=w, minlength=minlength)
    return Tensor._wrap(counts if w is not None else counts.astype(backend.int64))


def histc(input: Tensor, bins: int = 100, min=0, max=0) -> Tensor:  # noqa: A002
    lo, hi = (min, max) if (min, max) != (0, 0) else (input.array.min(), input.array.max())
    if lo == hi:
        lo, hi = lo - 1, hi + 1
    counts, _ = xp(input.array).histogram(input.array, bins=bins, range=(float(lo), float(hi)))
    return Tensor._wrap(counts.astype(input.dtype))


FUNCTIONS = {name: globals()[name] for name in (
    "index_select masked_fill masked_select take take_along_dim index_fill index_add "
    "index_copy scatter scatter_add scatter_reduce nonzero argwhere searchsorted bucketize "
    "unique unique_consecutive bincount histc").split()}
