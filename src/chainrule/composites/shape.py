"""PyTorch's shape functions, composed from the differentiable primitives (indexing,
reshape, permute, cat, where, matmul): none needs a derivative of its own, because each
is a rearrangement whose gradient the primitives already route back.

split, chunk, narrow, unbind, flip, roll, tril, triu, repeat, tile, repeat_interleave,
movedim, unflatten, diag, diagonal, trace, mm, bmm, mv, dot, outer, addmm, cross, ...
"""
from __future__ import annotations

import math

import numpy

from ..tensor import Tensor
from . import functions as f
from .node_names import named, pytorch_node


def _dim(dim: int, ndim: int) -> int:
    return dim + ndim if dim < 0 else dim


def _along(x: Tensor, dim: int, key) -> Tensor:
    """x[..., key, ...] with `key` (a slice or an index array) on dimension `dim`."""
    return f.index(x, (slice(None),) * _dim(dim, x.ndim) + (key,))


def narrow(input: Tensor, dim: int, start: int, length: int) -> Tensor:  # noqa: A002
    start = start + input.shape[dim] if start < 0 else start
    return _along(input, dim, slice(start, start + length))


def split(tensor: Tensor, split_size_or_sections, dim: int = 0) -> tuple:
    """Pieces of `split_size` along `dim` (the last may be shorter), or of the listed sizes."""
    n = tensor.shape[dim]
    if isinstance(split_size_or_sections, int):
        step = max(split_size_or_sections, 1)
        sizes = [min(step, n - start) for start in range(0, n, step)] or [0]
    else:
        sizes = list(split_size_or_sections)
        if sum(sizes) != n:
            raise RuntimeError(f"split: sizes {sizes} do not add up to {n} (dim {dim})")
    starts = numpy.cumsum([0] + sizes[:-1])
    pieces = tuple(narrow(tensor, dim, int(s), size) for s, size in zip(starts, sizes))
    return named(pieces, "SplitBackward0" if isinstance(split_size_or_sections, int)
                 else "SplitWithSizesBackward0")


def split_with_sizes(tensor: Tensor, split_sizes, dim: int = 0) -> tuple:
    return split(tensor, list(split_sizes), dim)


def chunk(input: Tensor, chunks: int, dim: int = 0) -> tuple:  # noqa: A002
    return split(input, math.ceil(input.shape[dim] / chunks), dim)


def tensor_split(input: Tensor, indices_or_sections, dim: int = 0) -> tuple:  # noqa: A002
    n = input.shape[dim]
    if isinstance(indices_or_sections, int):
        base, extra = divmod(n, indices_or_sections)
        sizes = [base + 1] * extra + [base] * (indices_or_sections - extra)
    else:
        bounds = [0, *[min(int(i), n) for i in indices_or_sections], n]
        sizes = [max(b - a, 0) for a, b in zip(bounds, bounds[1:])]
    starts = numpy.cumsum([0] + sizes[:-1])
    return tuple(narrow(input, dim, int(s), size) for s, size in zip(starts, sizes))


@pytorch_node("UnbindBackward0")
def unbind(input: Tensor, dim: int = 0) -> tuple:  # noqa: A002
    return tuple(_along(input, dim, i) for i in range(input.shape[dim]))


@pytorch_node("FlipBackward0")
def flip(input: Tensor, dims) -> Tensor:  # noqa: A002
    dims = [dims] if isinstance(dims, int) else dims
    key = [slice(None)] * input.ndim
    for d in dims:
        key[d] = slice(None, None, -1)
    return f.index(input, tuple(key))


def fliplr(input: Tensor) -> Tensor:  # noqa: A002
    return flip(input, [1])


def flipud(input: Tensor) -> Tensor:  # noqa: A002
    return flip(input, [0])


@pytorch_node("RollBackward0")
def roll(input: Tensor, shifts, dims=None) -> Tensor:  # noqa: A002
    """Elements shifted along `dims`, wrapping around (without dims: over the flat tensor)."""
    if dims is None:
        return f.reshape(roll(f.reshape(input, -1), shifts, 0), input.shape)
    shifts = [shifts] if isinstance(shifts, int) else list(shifts)
    dims = [dims] if isinstance(dims, int) else list(dims)
    for shift, d in zip(shifts, dims):
        n = input.shape[d]
        input = _along(input, d, (numpy.arange(n) - shift) % n) if n else input
    return input


def rot90(input: Tensor, k: int = 1, dims=(0, 1)) -> Tensor:  # noqa: A002
    k %= 4
    a, b = dims
    if k == 1:
        return f.transpose(flip(input, [b]), a, b)
    if k == 2:
        return flip(input, [a, b])
    if k == 3:
        return flip(f.transpose(input, a, b), [b])
    return input


def _triangle(input: Tensor, diagonal: int, lower: bool) -> Tensor:
    rows, cols = input.shape[-2:]
    keep = (numpy.tril if lower else numpy.triu)(numpy.ones((rows, cols), bool), diagonal)
    return f.where(Tensor._wrap(keep), input, Tensor._wrap(numpy.zeros((), input.dtype)))


@pytorch_node("TrilBackward0")
def tril(input: Tensor, diagonal: int = 0) -> Tensor:  # noqa: A002
    """The lower triangle (on and below `diagonal`), zeros above."""
    return _triangle(input, diagonal, lower=True)


@pytorch_node("TriuBackward0")
def triu(input: Tensor, diagonal: int = 0) -> Tensor:  # noqa: A002
    return _triangle(input, diagonal, lower=False)


def _sizes(sizes) -> tuple:
    return tuple(sizes[0]) if len(sizes) == 1 and isinstance(sizes[0], (tuple, list)) \
        else tuple(sizes)


@pytorch_node("RepeatBackward0")
def repeat(input: Tensor, *sizes) -> Tensor:  # noqa: A002
    """The tensor tiled `sizes[d]` times along each dimension (numpy.tile's meaning)."""
    sizes = _sizes(sizes)
    if len(sizes) < input.ndim:
        raise RuntimeError(f"repeat: {len(sizes)} repeats for a {input.ndim}-d tensor")
    x = f.reshape(input, (1,) * (len(sizes) - input.ndim) + tuple(input.shape))
    picks = [numpy.arange(n * r) % n if n else numpy.arange(0)
             for n, r in zip(x.shape, sizes)]
    return f.index(x, numpy.ix_(*picks))


def tile(input: Tensor, dims) -> Tensor:  # noqa: A002
    dims = tuple(dims)
    return repeat(input, (1,) * (input.ndim - len(dims)) + dims)


def repeat_interleave(input: Tensor, repeats, dim=None) -> Tensor:  # noqa: A002
    """Each element repeated `repeats` times (a number or one count per element)."""
    if dim is None:
        input, dim = f.reshape(input, -1), 0
    counts = repeats.array if isinstance(repeats, Tensor) else repeats
    return _along(input, dim, numpy.repeat(numpy.arange(input.shape[dim]), counts))


def movedim(input: Tensor, source, destination) -> Tensor:  # noqa: A002
    source = [source] if isinstance(source, int) else list(source)
    destination = [destination] if isinstance(destination, int) else list(destination)
    n = input.ndim
    order = [None] * n
    for s, d in zip(source, destination):
        order[d % n] = s % n
    rest = iter(d for d in range(n) if d not in {s % n for s in source})
    return f.permute(input, *[d if d is not None else next(rest) for d in order])


def unflatten(input: Tensor, dim: int, sizes) -> Tensor:  # noqa: A002
    d = _dim(dim, input.ndim)
    sizes = list(sizes)
    if -1 in sizes:
        known = int(numpy.prod([s for s in sizes if s != -1]))
        sizes[sizes.index(-1)] = input.shape[d] // known
    return f.reshape(input, input.shape[:d] + tuple(sizes) + input.shape[d + 1:])


def ravel(input: Tensor) -> Tensor:  # noqa: A002
    return f.reshape(input, -1)


def broadcast_to(input: Tensor, size) -> Tensor:  # noqa: A002
    return f.expand(input, tuple(size))


def broadcast_tensors(*tensors) -> tuple:
    shape = numpy.broadcast_shapes(*(t.shape for t in tensors))
    return tuple(f.expand(t, shape) for t in tensors)


def atleast_1d(input: Tensor) -> Tensor:  # noqa: A002
    return f.reshape(input, (1,)) if input.ndim == 0 else input


def atleast_2d(input: Tensor) -> Tensor:  # noqa: A002
    return f.reshape(input, (1,) * (2 - input.ndim) + input.shape) if input.ndim < 2 else input


def atleast_3d(input: Tensor) -> Tensor:  # noqa: A002
    if input.ndim >= 3:
        return input
    if input.ndim == 2:
        return f.unsqueeze(input, -1)
    return f.reshape(input, (1, -1, 1))


def hstack(tensors) -> Tensor:
    tensors = [atleast_1d(t) for t in tensors]
    return f.cat(tensors, 0 if tensors[0].ndim == 1 else 1)


def vstack(tensors) -> Tensor:
    return f.cat([atleast_2d(t) for t in tensors], 0)


def dstack(tensors) -> Tensor:
    return f.cat([atleast_3d(t) for t in tensors], 2)


def column_stack(tensors) -> Tensor:
    return f.cat([f.reshape(t, (-1, 1)) if t.ndim < 2 else t for t in tensors], 1)


def meshgrid(*tensors, indexing: str = "ij") -> tuple:
    tensors = tensors[0] if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)) \
        else tensors
    shape = tuple(t.shape[0] for t in tensors)
    if indexing == "xy" and len(tensors) >= 2:
        shape = (shape[1], shape[0]) + shape[2:]
    grids = []
    for i, t in enumerate(tensors):
        axis = {0: 1, 1: 0}.get(i, i) if indexing == "xy" and len(tensors) >= 2 else i
        view = [1] * len(tensors)
        view[axis] = t.shape[0]
        grids.append(f.expand(f.reshape(t, tuple(view)), shape))
    return tuple(grids)


def diagonal(input: Tensor, offset: int = 0, dim1: int = 0, dim2: int = 1) -> Tensor:  # noqa: A002
    """The diagonal over dims (dim1, dim2), moved to the last dimension, as PyTorch."""
    x = movedim(input, (dim1, dim2), (-2, -1))
    rows, cols = x.shape[-2:]
    start_row, start_col = max(-offset, 0), max(offset, 0)
    n = max(min(rows - start_row, cols - start_col), 0)
    i = numpy.arange(n)
    return f.index(x, (Ellipsis, i + start_row, i + start_col))


_matrix_diagonal = diagonal


def diag(input: Tensor, diagonal: int = 0) -> Tensor:  # noqa: A002
    """A 1-d tensor's values on the `diagonal` of a square matrix, or a matrix's diagonal."""
    if input.ndim == 2:
        return named(_matrix_diagonal(input, diagonal), "DiagonalBackward0_copy")
    n = input.shape[0] + abs(diagonal)
    rows, cols = numpy.indices((n, n))
    on = cols - rows == diagonal
    picks = numpy.where(on, numpy.minimum(rows, cols), 0)
    zero = Tensor._wrap(numpy.zeros((), input.dtype))
    return named(f.where(Tensor._wrap(on), f.index(input, picks), zero), "DiagEmbedBackward0")


def diag_embed(input: Tensor, offset: int = 0, dim1: int = -2, dim2: int = -1) -> Tensor:  # noqa: A002
    n = input.shape[-1] + abs(offset)
    rows, cols = numpy.indices((n, n))
    on = cols - rows == offset
    picks = numpy.where(on, numpy.minimum(rows, cols), 0)
    zero = Tensor._wrap(numpy.zeros((), input.dtype))
    return f.where(Tensor._wrap(on), f.index(input, (Ellipsis, picks)), zero)


def trace(input: Tensor) -> Tensor:  # noqa: A002
    return f.sum(diagonal(input))


# --- products ---------------------------------------------------------------------------
def _check_dims(name: str, tensors, dims) -> None:
    for t, d in zip(tensors, dims):
        if t.ndim != d:
            raise RuntimeError(f"{name}: expected a {d}-d tensor, got shape {tuple(t.shape)}")


def _checked_matmul(name: str, dims: tuple):
    """mm, bmm, mv, dot: matmul restricted to inputs of exactly these dimensions."""
    def product(input: Tensor, other: Tensor) -> Tensor:  # noqa: A002
        _check_dims(name, (input, other), dims)
        return named(f.matmul(input, other), name.capitalize() + "Backward0")
    product.__name__ = name
    product.__doc__ = f"{name}: matmul of a {dims[0]}-d and a {dims[1]}-d tensor."
    return product


mm = _checked_matmul("mm", (2, 2))
bmm = _checked_matmul("bmm", (3, 3))
mv = _checked_matmul("mv", (2, 1))
dot = _checked_matmul("dot", (1, 1))


def outer(input: Tensor, vec2: Tensor) -> Tensor:  # noqa: A002
    return f.mul(f.unsqueeze(input, 1), f.unsqueeze(vec2, 0))


def inner(input: Tensor, other: Tensor) -> Tensor:  # noqa: A002
    """The sum over the last dimensions of both (a product with a 0-d tensor: times)."""
    if input.ndim == 0 or other.ndim == 0:
        return f.mul(input, other)
    return tensordot(input, other, ([input.ndim - 1], [other.ndim - 1]))


def _scaled_sum(input, product, beta, alpha) -> Tensor:
    product = product if alpha == 1 else f.mul(product, alpha)
    return f.add(input if beta == 1 else f.mul(input, beta), product) if beta else product


def addmm(input, mat1, mat2, *, beta=1, alpha=1) -> Tensor:  # noqa: A002
    """beta · input + alpha · (mat1 @ mat2)."""
    return _scaled_sum(input, mm(mat1, mat2), beta, alpha)


def addmv(input, mat, vec, *, beta=1, alpha=1) -> Tensor:  # noqa: A002
    return _scaled_sum(input, mv(mat, vec), beta, alpha)


def baddbmm(input, batch1, batch2, *, beta=1, alpha=1) -> Tensor:  # noqa: A002
    return _scaled_sum(input, bmm(batch1, batch2), beta, alpha)


def addbmm(input, batch1, batch2, *, beta=1, alpha=1) -> Tensor:  # noqa: A002
    return _scaled_sum(input, f.sum(bmm(batch1, batch2), 0), beta, alpha)


def addr(input, vec1, vec2, *, beta=1, alpha=1) -> Tensor:  # noqa: A002
    return _scaled_sum(input, outer(vec1, vec2), beta, alpha)


def cross(input: Tensor, other: Tensor, dim=None) -> Tensor:  # noqa: A002
    """The 3-vector cross product along `dim` (the first dimension of size 3 if None)."""
    if dim is None:
        dim = next(d for d, n in enumerate(input.shape) if n == 3)
    a = [_along(input, dim, slice(i, i + 1)) for i in range(3)]
    b = [_along(other, dim, slice(i, i + 1)) for i in range(3)]
    parts = [f.sub(f.mul(a[(i + 1) % 3], b[(i + 2) % 3]), f.mul(a[(i + 2) % 3], b[(i + 1) % 3]))
             for i in range(3)]
    return f.cat(parts, dim)


def kron(input: Tensor, other: Tensor) -> Tensor:  # noqa: A002
    a = f.reshape(input, tuple(n for s in input.shape for n in (s, 1)))
    b = f.reshape(other, tuple(n for s in other.shape for n in (1, s)))
    return f.reshape(f.mul(a, b), tuple(p * q for p, q in zip(input.shape, other.shape)))


def tensordot(a: Tensor, b: Tensor, dims=2) -> Tensor:
    if isinstance(dims, int):
        dims = (list(range(a.ndim - dims, a.ndim)), list(range(dims)))
    da, db = ([d] if isinstance(d, int) else list(d) for d in dims)
    free_a = [d for d in range(a.ndim) if d not in da]
    free_b = [d for d in range(b.ndim) if d not in db]
    k = int(numpy.prod([a.shape[d] for d in da]))
    left = f.reshape(f.permute(a, *free_a, *da), (-1, k))
    right = f.reshape(f.permute(b, *db, *free_b), (k, -1))
    return f.reshape(f.matmul(left, right), tuple(a.shape[d] for d in free_a) +
                     tuple(b.shape[d] for d in free_b))


FUNCTIONS = {name: globals()[name] for name in (
    "narrow split split_with_sizes chunk tensor_split unbind flip fliplr flipud roll rot90 "
    "tril triu repeat_interleave movedim unflatten ravel broadcast_to broadcast_tensors "
    "atleast_1d atleast_2d atleast_3d hstack vstack dstack column_stack meshgrid diagonal "
    "diag diag_embed trace mm bmm mv dot outer inner addmm addmv baddbmm addbmm addr cross "
    "kron tensordot tile").split()}
FUNCTIONS.update(moveaxis=movedim, swapdims=f.transpose, row_stack=vstack, ger=outer)
# Methods only (torch.repeat does not exist as a function).
METHODS = {"repeat": repeat}
