"""PyTorch's reductions beyond sum/mean/max: products and running sums (ops/cumulative.py),
and composites of the primitives: logsumexp, amax/amin, norms, sorting and selection.

Sorting and selection (sort, topk, kthvalue, median, mode, cummax) find their indices on
the array without a gradient, then take the values with `take_along_dim`, whose
gradient puts each incoming gradient back where its value came from.
"""
from __future__ import annotations

from collections import namedtuple

import numpy

from .. import backend
from ..backend import xp
from ..ops.cumulative import CumProd, CumSum, Prod
from ..tensor import Tensor
from . import functions as f
from .node_names import pytorch_node
from .return_types import returns

ValuesIndices = f.ValuesIndices
MinMax = namedtuple("MinMax", ["min", "max"])


def _dims(dim, ndim):
    if dim is None:
        return tuple(range(ndim))
    return tuple(d % ndim for d in ((dim,) if isinstance(dim, int) else dim)) if ndim else ()


def _axis(dim):
    return tuple(dim) if isinstance(dim, (list, tuple)) else dim


def _keep(keepdim, keepdims):
    return bool(keepdim or keepdims)


# --- sums and means with PyTorch's spellings ------------------------------------------
def sum(input: Tensor, dim=None, keepdim=False, *, dtype=None, keepdims=False):  # noqa: A001, A002
    """Σ over `dim` (all when None); `keepdims=` and `dtype=` as PyTorch accepts them."""
    if dtype is None and not keepdims and input.dtype.kind != "b" and not isinstance(dim, list):
        return f.sum(input, dim, keepdim)  # the common case, without the checks below
    x = input if dtype is None else f.cast(input, numpy.dtype(dtype))
    if x.dtype.kind == "b":
        x = f.cast(x, backend.int64)
    return f.sum(x, _axis(dim), _keep(keepdim, keepdims))


def mean(input: Tensor, dim=None, keepdim=False, *, dtype=None, keepdims=False):  # noqa: A002
    if dtype is None and not keepdims and not isinstance(dim, list):
        return f.mean(input, dim, keepdim)
    x = input if dtype is None else f.cast(input, numpy.dtype(dtype))
    return f.mean(x, _axis(dim), _keep(keepdim, keepdims))


def nansum(input: Tensor, dim=None, keepdim=False, *, dtype=None):  # noqa: A002
    return sum(_nan_to_zero(input), dim, keepdim, dtype=dtype)


def nanmean(input: Tensor, dim=None, keepdim=False, *, dtype=None):  # noqa: A002
    counted = Tensor._wrap(~backend.xp(input.array).isnan(input.array))
    return f.div(nansum(input, dim, keepdim, dtype=dtype), sum(counted, dim, keepdim))


def _nan_to_zero(x: Tensor) -> Tensor:
    if x.dtype.kind != "f":
        return x
    nan = Tensor._wrap(backend.xp(x.array).isnan(x.array))
    return f.where(nan, Tensor._wrap(numpy.zeros((), x.dtype)), x)


def _correction(unbiased, correction):
    return (1 if unbiased is None or unbiased else 0) if correction is None else correction


def var_mean(input, dim=None, *, unbiased=None, correction=None, keepdim=False):  # noqa: A002
    return (f.var(input, _axis(dim), keepdim, correction=_correction(unbiased, correction)),
            f.mean(input, _axis(dim), keepdim))


def std_mean(input, dim=None, *, unbiased=None, correction=None, keepdim=False):  # noqa: A002
    return (f.std(input, _axis(dim), keepdim, correction=_correction(unbiased, correction)),
            f.mean(input, _axis(dim), keepdim))


# --- products and running sums -------------------------------------------------------
def prod(input: Tensor, dim=None, keepdim=False, *, dtype=None):  # noqa: A002
    x = input if dtype is None else f.cast(input, numpy.dtype(dtype))
    if x.dtype.kind == "b":
        x = f.cast(x, backend.int64)
    return Prod.apply(x, dim=dim, keepdim=keepdim)


def cumsum(input: Tensor, dim: int, *, dtype=None):  # noqa: A002
    x = input if dtype is None else f.cast(input, numpy.dtype(dtype))
    if x.dtype.kind == "b" or (x.dtype.kind in "iu" and x.dtype.itemsize < 8):
        x = f.cast(x, backend.int64)
    return CumSum.apply(x, dim=dim % max(x.ndim, 1))


def cumprod(input: Tensor, dim: int, *, dtype=None):  # noqa: A002
    x = input if dtype is None else f.cast(input, numpy.dtype(dtype))
    return CumProd.apply(x, dim=dim % max(x.ndim, 1))


def logcumsumexp(input: Tensor, dim: int):  # noqa: A002
    """log Σ_{j≤i} e^{x_j}, shifted by the (constant) maximum for stability."""
    shift = Tensor._wrap(backend.xp(input.array).max(input.array))
    return f.add(f.log(cumsum(f.exp(f.sub(input, shift)), dim)), shift)


def _running(input: Tensor, dim: int, better) -> ValuesIndices:
    """cummax/cummin: the running best and where it was first reached."""
    x = xp(input.array).moveaxis(input.array, dim, -1)
    positions = xp(x).broadcast_to(xp(x).arange(x.shape[-1]), x.shape)
    best = better.accumulate(x, axis=-1)
    # the index of the latest position holding the running best (PyTorch's tie rule)
    index = xp(x).maximum.accumulate(xp(x).where(x == best, positions, 0), axis=-1)
    index = xp(x).moveaxis(index, -1, dim)
    return ValuesIndices(f.gather(input, dim, Tensor._wrap(index)), Tensor._wrap(index))


@returns("cummax")
def cummax(input: Tensor, dim: int) -> ValuesIndices:  # noqa: A002
    return _running(input, dim, numpy.maximum)


@returns("cummin")
def cummin(input: Tensor, dim: int) -> ValuesIndices:  # noqa: A002
    return _running(input, dim, numpy.minimum)


def diff(input: Tensor, n: int = 1, dim: int = -1, prepend=None, append=None):  # noqa: A002
    parts = [t for t in (prepend, input, append) if t is not None]
    x = f.cat(parts, dim) if len(parts) > 1 else input
    for _ in range(n):
        length = x.shape[dim]
        x = f.sub(_slice(x, dim, 1, length), _slice(x, dim, 0, length - 1))
    return x


def _slice(x, dim, start, stop):
    return f.index(x, (slice(None),) * (dim % x.ndim) + (slice(start, stop),))


# --- extremes and norms ---------------------------------------------------------------
def _extreme(input: Tensor, dim, keepdim, pick) -> Tensor:
    """amax/amin: ties share the gradient evenly (as PyTorch), through a constant mask."""
    best = pick(input.array, axis=_dims(dim, input.ndim), keepdims=True)
    ties = (input.array == best).astype(input.dtype)
    share = Tensor._wrap(ties / ties.sum(axis=_dims(dim, input.ndim), keepdims=True))
    return f.sum(f.mul(input, share), _dims(dim, input.ndim), keepdim)


@pytorch_node("AmaxBackward0")
def amax(input: Tensor, dim=None, keepdim=False):  # noqa: A002
    return _extreme(input, dim, keepdim, backend.xp(input.array).max)


@pytorch_node("AminBackward0")
def amin(input: Tensor, dim=None, keepdim=False):  # noqa: A002
    return _extreme(input, dim, keepdim, backend.xp(input.array).min)


@returns("aminmax", "min max")
def aminmax(input: Tensor, *, dim=None, keepdim=False) -> MinMax:  # noqa: A002
    return MinMax(amin(input, dim, keepdim), amax(input, dim, keepdim))


@pytorch_node("LogsumexpBackward0")
def logsumexp(input: Tensor, dim, keepdim=False):  # noqa: A002
    """log Σ e^x = m + log Σ e^(x - m), with m the (constant) maximum: no overflow."""
    axes = _dims(dim, input.ndim)
    shift = backend.xp(input.array).max(input.array, axis=axes, keepdims=True)
    shift = Tensor._wrap(backend.xp(shift).where(backend.xp(shift).isfinite(shift), shift, 0))
    total = f.log(f.sum(f.exp(f.sub(input, shift)), axes, True))
    result = f.add(total, shift)
    return result if keepdim else f.reshape(result, tuple(
        n for d, n in enumerate(result.shape) if d not in axes))


@pytorch_node("LinalgVectorNormBackward0")
def norm(input: Tensor, p="fro", dim=None, keepdim=False, dtype=None):  # noqa: A002
    """The vector p-norm over `dim` (all elements when None): (Σ |x|^p)^(1/p); "fro" and
    2 are the Euclidean norm, inf the largest |x|, 0 the count of non-zeros."""
    x = input if dtype is None else f.cast(input, numpy.dtype(dtype))
    axes = _dims(dim, x.ndim)
    if p in ("fro", 2, 2.0, None):
        return f.sqrt(f.sum(f.mul(x, x), axes, keepdim))
    if p in (float("inf"), "inf"):
        return amax(f.abs(x), axes, keepdim)
    if p in (float("-inf"), "-inf"):
        return amin(f.abs(x), axes, keepdim)
    if p == 0:
        return f.sum(f.cast(Tensor._wrap(x.array != 0), x.dtype), axes, keepdim)
    if p == 1:
        return f.sum(f.abs(x), axes, keepdim)
    if p == "nuc":
        raise NotImplementedError("norm(p='nuc'): the nuclear norm needs an SVD, which "
                                  "chainrule does not have")
    return f.pow(f.sum(f.pow(f.abs(x), p), axes, keepdim), 1.0 / p)


def dist(input: Tensor, other: Tensor, p=2):  # noqa: A002
    return norm(f.sub(input, other), p)


# --- sorting and selection --------------------------------------------------------------
def _taken(input: Tensor, index, dim: int) -> ValuesIndices:
    index = Tensor._wrap(index.astype(backend.int64, copy=False))
    return ValuesIndices(f.gather(input, dim, index), index)


@returns("sort")
def sort(input: Tensor, dim: int = -1, descending: bool = False, stable: bool = False):  # noqa: A002
    if input.ndim == 0:
        return ValuesIndices(input, Tensor._wrap(xp(input.array).zeros((), backend.int64)))
    key = -input.array if descending and input.dtype.kind != "b" else input.array
    order = xp(key).argsort(key, axis=dim, kind="stable")
    if descending and input.dtype.kind == "b":
        order = xp(key).flip(xp(key).argsort(input.array, axis=dim, kind="stable"), dim)
    return _taken(input, order, dim)


def argsort(input: Tensor, dim: int = -1, descending: bool = False,  # noqa: A002
            stable: bool = False) -> Tensor:
    return sort(input, dim, descending, stable).indices


def msort(input: Tensor) -> Tensor:  # noqa: A002
    return sort(input, 0).values


@returns("topk")
def topk(input: Tensor, k: int, dim: int = -1, largest: bool = True,  # noqa: A002
         sorted: bool = True) -> ValuesIndices:
    if k > (input.shape[dim] if input.ndim else 1):
        raise RuntimeError(f"topk: k ({k}) is larger than the size of dim {dim} "
                           f"({input.shape[dim]})")
    order = sort(input, dim, descending=largest).indices.array
    index = f.index(Tensor._wrap(order), (slice(None),) * (dim % input.ndim) +
                    (slice(0, k),)).array
    return _taken(input, index, dim)


@returns("kthvalue")
def kthvalue(input: Tensor, k: int, dim: int = -1, keepdim: bool = False):  # noqa: A002
    """The k-th smallest value (k from 1) along `dim`, and its index."""
    order = sort(input, dim).indices.array
    index = backend.xp(order).take(order, [k - 1], axis=dim)
    values, indices = _taken(input, index, dim)
    return ValuesIndices(values if keepdim else f.squeeze(values, dim),
                         indices if keepdim else Tensor._wrap(indices.array.squeeze(dim)))


@returns("median")
def median(input: Tensor, dim=None, keepdim: bool = False):  # noqa: A002
    """The lower median (as PyTorch); with `dim`, (values, indices)."""
    if dim is None:
        flat = f.reshape(input, -1)
        return kthvalue(flat, (flat.shape[0] + 1) // 2, 0).values
    return kthvalue(input, (input.shape[dim] + 1) // 2, dim, keepdim)


@returns("nanmedian")
def nanmedian(input: Tensor, dim=None, keepdim: bool = False):  # noqa: A002
    if not bool(backend.xp(input.array).isnan(input.array).any()):
        return median(input, dim, keepdim)
    raise NotImplementedError("nanmedian: tensors holding NaN are not supported yet")


@returns("mode")
def mode(input: Tensor, dim: int = -1, keepdim: bool = False) -> ValuesIndices:  # noqa: A002
    """The most frequent value along `dim` (the smallest among equally frequent ones), and
    the index of its last occurrence, as PyTorch."""
    x = numpy.moveaxis(backend.to_device(input.array, "cpu"), dim, -1)
    flat = x.reshape(-1, x.shape[-1]) if x.ndim else x.reshape(1, 1)
    picks = []
    for row in flat:
        values, counts = numpy.unique(row, return_counts=True)
        value = values[counts.argmax()]
        picks.append(len(row) - 1 - numpy.flatnonzero(row[::-1] == value)[0])
    index = numpy.asarray(picks, dtype=backend.int64).reshape(x.shape[:-1] + (1,))
    index = backend.to_device(numpy.moveaxis(index, -1, dim), input.device)
    values, indices = _taken(input, index, dim)
    return ValuesIndices(values if keepdim else f.squeeze(values, dim),
                         indices if keepdim else Tensor._wrap(indices.array.squeeze(dim)))


# --- truth and counting: no gradient -------------------------------------------------------
def _boolean(name):
    def function(input: Tensor, dim=None, keepdim: bool = False) -> Tensor:  # noqa: A002
        array = input.array
        return Tensor._wrap(xp(array).asarray(getattr(xp(array), name)(array, axis=_axis(dim),
                                                                       keepdims=keepdim)))
    function.__name__ = name
    function.__doc__ = f"{name}(input, dim=None, keepdim=False): a bool tensor."
    return function


def count_nonzero(input: Tensor, dim=None) -> Tensor:  # noqa: A002
    array = input.array
    return Tensor._wrap(xp(array).asarray(xp(array).count_nonzero(array, axis=_axis(dim)),
                                          dtype=backend.int64))


FUNCTIONS = {name: globals()[name] for name in (
    "sum mean nansum nanmean var_mean std_mean prod cumsum cumprod logcumsumexp "
    "cummax cummin diff amax amin aminmax logsumexp norm dist sort argsort msort topk "
    "kthvalue median nanmedian mode count_nonzero").split()}
FUNCTIONS.update(all=_boolean("all"), any=_boolean("any"))
