"""The rest of PyTorch's function surface, composed from ops that already have gradients:
clamp_min/max, polygamma, mvlgamma, heaviside, gcd/lcm, ldexp, isin; selections (select,
unfold, hsplit, ...); statistics (quantile, cov, corrcoef, trapezoid); small linear algebra
(inverse, det, logdet, matrix_power, cdist, block_diag); window functions."""
from __future__ import annotations

import itertools
import math

import numpy

from .. import backend, creation
from ..backend import xp
from ..ops.indexing import IndexAdd
from ..ops.pointwise import OPS
from ..tensor import Tensor, lift
from . import functions as f
from . import pointwise as pf
from . import shape as sf
from .matrix import inverse
from .reduction import cumsum, norm
from .return_types import returns

# --- pointwise ----------------------------------------------------------------------------


def clamp_min(input: Tensor, min) -> Tensor:  # noqa: A002
    return f.clamp(input, min=min)


def clamp_max(input: Tensor, max) -> Tensor:  # noqa: A002
    return f.clamp(input, max=max)


def rsub(input, other, *, alpha=1) -> Tensor:  # noqa: A002
    """other - alpha · input."""
    return pf.sub(other if isinstance(other, Tensor) else lift(other, input), input,
                  alpha=alpha)


def polygamma(n: int, input: Tensor) -> Tensor:  # noqa: A002
    """The n-th derivative of digamma (n = 0: digamma itself)."""
    names = ("digamma", "trigamma", "tetragamma", "pentagamma")
    if n >= len(names):
        raise NotImplementedError(f"polygamma: order {n} (0 to 3 are supported)")
    return OPS[names[n]].apply(f._floating(input))


def mvlgamma(input: Tensor, p: int) -> Tensor:  # noqa: A002
    """log of the multivariate gamma: p(p-1)/4 · log π + Σ_{j<p} lgamma(x - j/2)."""
    terms = [pf.FUNCTIONS["lgamma"](f.sub(input, j / 2)) for j in range(p)]
    total = terms[0]
    for term in terms[1:]:
        total = f.add(total, term)
    return f.add(total, p * (p - 1) / 4 * math.log(math.pi))


def heaviside(input: Tensor, values) -> Tensor:  # noqa: A002
    """0 for x < 0, `values` for x = 0, 1 for x > 0 (no gradient, as PyTorch)."""
    v = values.array if isinstance(values, Tensor) else values
    return Tensor._wrap(xp(input.array).heaviside(input.array, v).astype(input.dtype))


def _integers(name):
    def function(input: Tensor, other) -> Tensor:  # noqa: A002
        a, b = f._pair(input, other)
        return Tensor._wrap(getattr(backend.xp(a.array), name)(a.array, b.array))
    function.__name__ = name
    return function


def ldexp(input: Tensor, other) -> Tensor:  # noqa: A002
    """input · 2^other."""
    return f.mul(f._floating(input), pf.FUNCTIONS["exp2"](other if isinstance(other, Tensor)
                                                         else lift(float(other), input)))


def nextafter(input: Tensor, other) -> Tensor:  # noqa: A002
    a, b = f._pair(input, other)
    return Tensor._wrap(backend.xp(a.array).nextafter(a.array, b.array))


@returns("frexp", "mantissa exponent")
def frexp(input: Tensor):  # noqa: A002
    mantissa, exponent = backend.xp(input.array).frexp(input.array)
    return Tensor._wrap(mantissa), Tensor._wrap(exponent.astype(backend.int32))


def isin(elements, test_elements, *, assume_unique: bool = False,
         invert: bool = False) -> Tensor:
    e = elements.array if isinstance(elements, Tensor) else numpy.asarray(elements)
    t = test_elements.array if isinstance(test_elements, Tensor) else numpy.asarray(
        test_elements)
    return Tensor._wrap(backend.xp(e).isin(e, t, invert=invert))


# --- selections ---------------------------------------------------------------------------
def select(input: Tensor, dim: int, index: int) -> Tensor:  # noqa: A002
    return f.index(input, (slice(None),) * (dim % input.ndim) + (index,))


def unfold(input: Tensor, dimension: int, size: int, step: int) -> Tensor:  # noqa: A002
    """Windows of `size` every `step` along `dimension`, as a new last dimension."""
    d = dimension % max(input.ndim, 1)
    count = (input.shape[d] - size) // step + 1
    picks = numpy.arange(count)[:, None] * step + numpy.arange(size)[None, :]
    windows = f.index(input, (slice(None),) * d + (picks,))
    return sf.movedim(windows, d + 1, -1)


def _split_along(dim):
    def function(input: Tensor, indices_or_sections):  # noqa: A002
        if isinstance(indices_or_sections, int) and input.shape[dim] % indices_or_sections:
            raise RuntimeError(f"split: dimension {dim} of size {input.shape[dim]} does not "
                               f"divide into {indices_or_sections} equal parts")
        return sf.tensor_split(input, indices_or_sections, dim)
    return function


def hsplit(input: Tensor, indices_or_sections):  # noqa: A002
    return _split_along(0 if input.ndim == 1 else 1)(input, indices_or_sections)


def vsplit(input: Tensor, indices_or_sections):  # noqa: A002
    return _split_along(0)(input, indices_or_sections)


def dsplit(input: Tensor, indices_or_sections):  # noqa: A002
    return _split_along(2)(input, indices_or_sections)


def diagflat(input: Tensor, offset: int = 0) -> Tensor:  # noqa: A002
    return sf.diag(f.reshape(input, -1), offset)


def block_diag(*tensors) -> Tensor:
    """The tensors (0-, 1- or 2-d) along the diagonal of one matrix, zeros elsewhere."""
    blocks = [f.reshape(t, (1, -1)) if t.ndim < 2 else t for t in tensors]
    width = sum(b.shape[1] for b in blocks)
    rows, left = [], 0
    for b in blocks:
        pieces = [creation.zeros(b.shape[0], left, dtype=b.dtype), b,
                  creation.zeros(b.shape[0], width - left - b.shape[1], dtype=b.dtype)]
        rows.append(f.cat(pieces, 1))
        left += b.shape[1]
    return f.cat(rows, 0)


def cartesian_prod(*tensors) -> Tensor:
    if len(tensors) == 1:
        return tensors[0]
    grids = sf.meshgrid(*tensors, indexing="ij")
    return f.stack([f.reshape(g, -1) for g in grids], 1)


def combinations(input: Tensor, r: int = 2, with_replacement: bool = False) -> Tensor:  # noqa: A002
    pick = itertools.combinations_with_replacement if with_replacement else \
        itertools.combinations
    index = numpy.asarray(list(pick(range(input.shape[0]), r)), dtype=backend.int64)
    return f.index(input, index.reshape(-1, r)) if index.size else \
        creation.empty(0, r, dtype=input.dtype)


def vander(x: Tensor, N=None, increasing: bool = False) -> Tensor:
    n = x.shape[0] if N is None else N
    powers = numpy.arange(n) if increasing else numpy.arange(n)[::-1]
    return f.pow(f.unsqueeze(x, 1), Tensor._wrap(powers.astype(x.dtype)))


def broadcast_shapes(*shapes) -> tuple:
    return tuple(numpy.broadcast_shapes(*[(s,) if isinstance(s, int) else tuple(s)
                                          for s in shapes]))


def unravel_index(indices, shape) -> tuple:
    flat = indices.array if isinstance(indices, Tensor) else numpy.asarray(indices)
    return tuple(Tensor._wrap(i.astype(backend.int64))
                 for i in backend.xp(flat).unravel_index(flat, tuple(shape)))


def sum_to_size(input: Tensor, *size) -> Tensor:  # noqa: A002
    size = tuple(size[0]) if len(size) == 1 and isinstance(size[0], (tuple, list)) else size
    lead = input.ndim - len(size)
    dims = tuple(range(lead)) + tuple(lead + i for i, n in enumerate(size)
                                      if n == 1 and input.shape[lead + i] != 1)
    return f.reshape(f.sum(input, dims, keepdim=True), size) if dims else input


def _scatter_into(input: Tensor, src: Tensor, key) -> Tensor:
    """input with input[key] replaced by src (gradients: src's to src, the rest to input)."""
    hit = backend.xp(input.array).zeros(input.shape, bool)
    hit[key] = True
    placed = IndexAdd.apply(f.cast(src, input.dtype), shape=input.shape, key=key)
    return f.where(Tensor._wrap(hit), placed, input)


def select_scatter(input: Tensor, src: Tensor, dim: int, index: int) -> Tensor:  # noqa: A002
    return _scatter_into(input, src, (slice(None),) * (dim % input.ndim) + (index,))


def slice_scatter(input: Tensor, src: Tensor, dim: int = 0, start=None, end=None,  # noqa: A002
                  step: int = 1) -> Tensor:
    return _scatter_into(input, src, (slice(None),) * (dim % input.ndim) +
                         (slice(start, end, step),))


def diagonal_scatter(input: Tensor, src: Tensor, offset: int = 0, dim1: int = 0,  # noqa: A002
                     dim2: int = 1) -> Tensor:
    moved = sf.movedim(input, (dim1, dim2), (-2, -1))
    rows, cols = moved.shape[-2:]
    start_row, start_col = max(-offset, 0), max(offset, 0)
    i = numpy.arange(max(min(rows - start_row, cols - start_col), 0))
    result = _scatter_into(moved, src, (Ellipsis, i + start_row, i + start_col))
    return sf.movedim(result, (-2, -1), (dim1, dim2))


def slice_copy(input: Tensor, dim: int = 0, start=None, end=None, step: int = 1) -> Tensor:  # noqa: A002
    return f.clone(f.index(input, (slice(None),) * (dim % input.ndim) +
                           (slice(start, end, step),)))


def histogram(input: Tensor, bins=100, *, range=None, weight=None,  # noqa: A002
              density: bool = False):
    """(counts, bin edges), as numpy.histogram (no gradient)."""
    edges = bins.array if isinstance(bins, Tensor) else bins
    w = weight.array if isinstance(weight, Tensor) else weight
    counts, edges = xp(input.array).histogram(input.array, bins=edges, range=range, weights=w,
                                              density=density)
    return (Tensor._wrap(counts.astype(input.dtype)), Tensor._wrap(edges.astype(input.dtype)))


# --- statistics ---------------------------------------------------------------------------
def quantile(input: Tensor, q, dim=None, keepdim: bool = False, *,  # noqa: A002
             interpolation: str = "linear") -> Tensor:
    """The q-quantiles, interpolated between the sorted values as PyTorch's `linear`;
    the gradient flows to the two values each quantile lies between."""
    x = f.reshape(input, -1) if dim is None else input
    d = 0 if dim is None else dim % x.ndim
    n = x.shape[d]
    qs = numpy.atleast_1d(q.numpy() if isinstance(q, Tensor) else numpy.asarray(q, float))
    position = qs * (n - 1)
    lower = numpy.floor(position).astype(int)
    upper = numpy.minimum(lower + 1, n - 1)
    weight = {"linear": position - lower, "lower": 0 * position,
              "higher": (position > lower).astype(float),
              "nearest": (position - lower > 0.5).astype(float) + numpy.where(
                  position - lower == 0.5, lower % 2, 0),
              "midpoint": (position > lower) * 0.5}[interpolation]
    ordered = sf.movedim(x.sort(d).values, d, 0)
    low, high = f.index(ordered, lower), f.index(ordered, upper)
    shape = (-1,) + (1,) * (ordered.ndim - 1)
    w = Tensor._wrap(weight.astype(x.dtype).reshape(shape))
    result = f.add(low, f.mul(f.sub(high, low), w))
    if keepdim:
        result = f.unsqueeze(sf.movedim(result, 0, -1), d) if dim is not None else result
        result = sf.movedim(result, -1, 0) if dim is not None else f.reshape(
            result, (len(qs),) + (1,) * input.ndim)
    return result[0] if numpy.ndim(q.numpy() if isinstance(q, Tensor) else q) == 0 else result


def nanquantile(input: Tensor, q, dim=None, keepdim: bool = False, *,  # noqa: A002
                interpolation: str = "linear") -> Tensor:
    if bool(backend.xp(input.array).isnan(input.array).any()):
        raise NotImplementedError("nanquantile: tensors holding NaN are not supported yet")
    return quantile(input, q, dim, keepdim, interpolation=interpolation)


def cov(input: Tensor, *, correction: int = 1, fweights=None, aweights=None) -> Tensor:  # noqa: A002
    """The covariance of the variables in the rows of `input` (observations in columns)."""
    if fweights is not None or aweights is not None:
        raise NotImplementedError("cov: fweights and aweights are not supported")
    x = f.reshape(input, (1, -1)) if input.ndim < 2 else input
    centred = f.sub(x, f.mean(x, 1, keepdim=True))
    product = f.matmul(centred, f.transpose(centred, 0, 1))
    result = f.div(product, max(x.shape[1] - correction, 0))
    return f.reshape(result, ()) if input.ndim < 2 else result


def corrcoef(input: Tensor) -> Tensor:  # noqa: A002
    c = cov(input)
    if c.ndim == 0:
        return f.div(c, c)
    d = f.sqrt(sf.diagonal(c))
    return f.clamp(f.div(f.div(c, f.unsqueeze(d, 1)), f.unsqueeze(d, 0)), -1, 1)


def trapezoid(y: Tensor, x=None, *, dx=None, dim: int = -1) -> Tensor:
    """∫ y by the trapezoid rule along `dim` (spacing `dx`, default 1, or points `x`)."""
    n = y.shape[dim]
    a, b = sf.narrow(y, dim, 1, n - 1), sf.narrow(y, dim, 0, n - 1)
    if x is None:
        return f.mul(f.sum(f.add(a, b), dim), 0.5 * (1 if dx is None else dx))
    steps = f.sub(sf.narrow(x, -1, 1, n - 1), sf.narrow(x, -1, 0, n - 1))
    return f.sum(f.mul(f.mul(f.add(a, b), steps), 0.5), dim)


def cumulative_trapezoid(y: Tensor, x=None, *, dx=None, dim: int = -1) -> Tensor:
    n = y.shape[dim]
    pieces = f.add(sf.narrow(y, dim, 1, n - 1), sf.narrow(y, dim, 0, n - 1))
    if x is None:
        pieces = f.mul(pieces, 0.5 * (1 if dx is None else dx))
    else:
        pieces = f.mul(f.mul(pieces, f.sub(sf.narrow(x, -1, 1, n - 1),
                                           sf.narrow(x, -1, 0, n - 1))), 0.5)
    return cumsum(pieces, dim)


def gradient(input: Tensor, *, spacing=1, dim=None, edge_order: int = 1) -> tuple:  # noqa: A002
    """The derivative estimated by central differences inside and one-sided differences at
    the two ends, along each of `dim` (all dimensions by default), for uniform `spacing`."""
    if edge_order != 1:
        raise NotImplementedError("gradient: edge_order=2 is not supported")
    dims = range(input.ndim) if dim is None else ([dim] if isinstance(dim, int) else dim)
    steps = spacing if isinstance(spacing, (list, tuple)) else [spacing] * input.ndim
    results = []
    for d, h in zip(dims, steps):
        n = input.shape[d]
        inner = f.div(f.sub(sf.narrow(input, d, 2, n - 2), sf.narrow(input, d, 0, n - 2)), 2 * h)
        first = f.div(f.sub(sf.narrow(input, d, 1, 1), sf.narrow(input, d, 0, 1)), h)
        last = f.div(f.sub(sf.narrow(input, d, n - 1, 1), sf.narrow(input, d, n - 2, 1)), h)
        results.append(f.cat([first, inner, last], d))
    return tuple(results)


def renorm(input: Tensor, p, dim: int, maxnorm) -> Tensor:  # noqa: A002
    """Each slice along `dim` scaled down to p-norm `maxnorm` where its norm exceeds it."""
    others = tuple(d for d in range(input.ndim) if d != dim % input.ndim)
    norms = norm(input, p, others, keepdim=True)
    over = Tensor._wrap(norms.array > maxnorm)
    scale = f.where(over, f.div(maxnorm, f.add(norms, 1e-7)),
                    Tensor._wrap(numpy.ones((), input.dtype)))
    return f.mul(input, scale)


# --- small linear algebra -----------------------------------------------------------------
def matrix_power(input: Tensor, n: int) -> Tensor:  # noqa: A002
    if n < 0:
        return matrix_power(inverse(input), -n)
    result = f.add(f.mul(input, 0), Tensor._wrap(numpy.eye(input.shape[-1], dtype=input.dtype)))
    for _ in range(n):
        result = f.matmul(result, input)
    return result


def chain_matmul(*matrices) -> Tensor:
    result = matrices[0]
    for m in matrices[1:]:
        result = f.matmul(result, m)
    return result


def vdot(input: Tensor, other: Tensor) -> Tensor:  # noqa: A002
    return sf.dot(input, other)


def cdist(x1: Tensor, x2: Tensor, p: float = 2.0, **ignored) -> Tensor:
    """Pairwise p-norm distances between the rows of x1 and x2 (batched)."""
    difference = f.sub(f.unsqueeze(x1, -2), f.unsqueeze(x2, -3))
    return norm(difference, p, -1)


FUNCTIONS = {name: globals()[name] for name in (
    "clamp_min clamp_max rsub polygamma mvlgamma heaviside ldexp nextafter frexp isin select "
    "unfold hsplit vsplit dsplit diagflat block_diag cartesian_prod combinations vander "
    "broadcast_shapes unravel_index sum_to_size quantile nanquantile cov corrcoef trapezoid "
    "cumulative_trapezoid renorm matrix_power chain_matmul vdot cdist select_scatter "
    "slice_scatter diagonal_scatter slice_copy histogram gradient").split()}
FUNCTIONS.update(gcd=_integers("gcd"), lcm=_integers("lcm"), trapz=trapezoid)
