"""The public functional forms of the ops (`cr.exp(x)`, `x.exp()`, `cr.matmul(a, b)`):
argument handling (dtype promotion, dims, shapes), then one op or a few."""
from __future__ import annotations

import builtins
import functools
from collections import namedtuple

import numpy

from .. import backend
from ..autograd.broadcast import Expand
from ..autograd.op import OpError
from ..dtypes import promote_types
from ..ops import elementwise as ew
from ..ops.indexing import ExtremeAlong, Index, TakeAlongDim
from ..ops.linalg import MatMul
from ..ops.reduction import Extreme, Mean, Sum, argextreme
from ..ops.shape import Cat, Permute, Reshape, Stack, axis
from ..ops.softmax import LogSoftmax, Softmax
from ..tensor import Tensor, _as_array, lift
from .node_names import index_node_name, named
from .return_types import returns

# What max, min, sort, topk, ... return with a dim, as PyTorch's return types.
ValuesIndices = namedtuple("ValuesIndices", ["values", "indices"])


# --- arithmetic ------------------------------------------------------------------------
def add(a, b) -> Tensor:
    return ew.Add.apply(*_pair(a, b))


def sub(a, b) -> Tensor:
    return ew.Sub.apply(*_pair(a, b))


def mul(a, b) -> Tensor:
    return ew.Mul.apply(*_pair(a, b))


def div(a, b) -> Tensor:
    a, b = _pair(a, b)
    if a.dtype.kind != "f":  # true division of integers gives the default float, as PyTorch
        a, b = cast(a, backend.default_dtype()), cast(b, backend.default_dtype())
    return ew.Div.apply(a, b)


def pow(a, b) -> Tensor:  # noqa: A001 - PyTorch's name
    return named(ew.Pow.apply(*_pair(a, b)), _POWER_NAMES[isinstance(a, Tensor),
                                                            isinstance(b, Tensor)])


# PyTorch's node for a power, by which of base and exponent are tensors.
_POWER_NAMES = {(True, False): "PowBackward0", (True, True): "PowBackward1",
                (False, True): "PowBackward2"}


def neg(x: Tensor) -> Tensor:
    return ew.Neg.apply(x)


def _pair(a, b):
    """Both operands as tensors. An integer (or bool) tensor meeting a float one takes the
    float's dtype, as in PyTorch (NumPy would widen int64 with float32 to float64)."""
    a, b = (a, lift(b, a)) if isinstance(a, Tensor) else (lift(a, b), b)
    if a.dtype.kind != "f" and b.dtype.kind == "f":
        a = cast(a, b.dtype)
    elif b.dtype.kind != "f" and a.dtype.kind == "f":
        b = cast(b, a.dtype)
    return a, b


def _floating(x: Tensor) -> Tensor:
    """Integers become the default float for exp, log, …, as in PyTorch (NumPy: float64)."""
    return x if x.dtype.kind == "f" else cast(x, backend.default_dtype())


# --- elementwise functions --------------------------------------------------------------
def exp(x: Tensor) -> Tensor:
    return ew.Exp.apply(_floating(x))


def log(x: Tensor) -> Tensor:
    return ew.Log.apply(_floating(x))


def sqrt(x: Tensor) -> Tensor:
    return ew.Sqrt.apply(_floating(x))


def abs(x: Tensor) -> Tensor:  # noqa: A001 - PyTorch's name
    return ew.Abs.apply(x)


def tanh(x: Tensor) -> Tensor:
    return ew.Tanh.apply(_floating(x))


def sigmoid(x: Tensor) -> Tensor:
    return ew.Sigmoid.apply(_floating(x))


def relu(x: Tensor) -> Tensor:
    return ew.Relu.apply(x)


def clamp(x: Tensor, min=None, max=None) -> Tensor:  # noqa: A002 - PyTorch's names
    if min is None and max is None:
        raise ValueError("clamp: give at least one of min and max")
    return ew.Clamp.apply(x, lo=min, hi=max)


def where(condition, a, b) -> Tensor:
    """Elements of `a` where `condition` holds, else of `b` (no gradient to the condition)."""
    condition = condition.array if isinstance(condition, Tensor) else numpy.asarray(condition)
    if not isinstance(a, Tensor) and not isinstance(b, Tensor):
        a = Tensor._wrap(_as_array(a))
    a, b = _pair(a, b)
    return ew.Where.apply(a, b, condition=condition.astype(bool, copy=False))


def cast(x: Tensor, dtype) -> Tensor:
    return ew.Cast.apply(x, dtype=numpy.dtype(dtype))


def to_device(x: Tensor, device: str) -> Tensor:
    return ew.ToDevice.apply(x, device=device)


def clone(x: Tensor) -> Tensor:
    return ew.Clone.apply(x)


# --- reductions ------------------------------------------------------------------------
def sum(x: Tensor, dim=None, keepdim: bool = False) -> Tensor:  # noqa: A001
    return Sum.apply(x, dim=dim, keepdim=keepdim)


def mean(x: Tensor, dim=None, keepdim: bool = False) -> Tensor:
    if x.dtype.kind != "f":
        raise TypeError(f"mean: needs a floating point tensor, got {x.dtype}")
    return Mean.apply(x, dim=dim, keepdim=keepdim)


def var(x: Tensor, dim=None, keepdim: bool = False, unbiased: bool = True,
        correction: int | None = None) -> Tensor:
    """Variance; unbiased (divides by n - 1) by default, as PyTorch."""
    if correction is None:
        correction = 1 if unbiased else 0
    count = int(numpy.prod([x.shape[a] for a in _axes_of(dim, x.ndim, "var")])) \
        if dim is not None and x.ndim else x.array.size
    centred = x - mean(x, dim=dim, keepdim=True)
    # builtins.max: this module's own `max` is the tensor reduction
    dof = builtins.max(0, count - correction)
    return named(sum(centred * centred, dim=dim, keepdim=keepdim) / dof, "VarBackward0")


def std(x: Tensor, dim=None, keepdim: bool = False, unbiased: bool = True,
        correction: int | None = None) -> Tensor:
    return named(sqrt(var(x, dim=dim, keepdim=keepdim, unbiased=unbiased,
                          correction=correction)), "StdBackward0")


@returns("max")
def max(x: Tensor, dim=None, keepdim: bool = False):  # noqa: A001
    """Without `dim` the largest element (ties share the gradient); with `dim` a pair
    (values, indices) whose gradient goes to the returned index."""
    return _extreme(x, dim, keepdim, largest=True)


@returns("min")
def min(x: Tensor, dim=None, keepdim: bool = False):  # noqa: A001
    return _extreme(x, dim, keepdim, largest=False)


def _extreme(x, dim, keepdim, largest):
    if isinstance(dim, Tensor):  # torch.max(a, b): the elementwise maximum
        return named(where(x.array >= dim.array if largest else x.array <= dim.array, x, dim),
                     "MaximumBackward0" if largest else "MinimumBackward0")
    if dim is None:
        return Extreme.apply(x, largest=largest)
    axis(dim, x.ndim, "max" if largest else "min")
    index = argextreme(x.array, dim, True, largest)
    values = ExtremeAlong.apply(x, index=index, dim=dim, largest=largest)
    if not keepdim:
        values = squeeze(values, dim)
        index = index.squeeze(axis=dim)
    return ValuesIndices(named(values, "MaxBackward0" if largest else "MinBackward0"),
                         Tensor._wrap(index))


def maximum(a: Tensor, b: Tensor) -> Tensor:
    return _extreme(a, b, False, True)


def minimum(a: Tensor, b: Tensor) -> Tensor:
    return _extreme(a, b, False, False)


def argmax(x: Tensor, dim=None, keepdim: bool = False) -> Tensor:
    if dim is not None:
        axis(dim, x.ndim, "argmax")
    return Tensor._wrap(argextreme(x.array, dim, keepdim, largest=True))


def argmin(x: Tensor, dim=None, keepdim: bool = False) -> Tensor:
    if dim is not None:
        axis(dim, x.ndim, "argmin")
    return Tensor._wrap(argextreme(x.array, dim, keepdim, largest=False))


def gather(x: Tensor, dim: int, index) -> Tensor:
    """out[i][j] = x[i][index[i][j]] along `dim` (PyTorch's gather). As in PyTorch, `index`
    may be smaller than `x` along the other dims: it then reads x's leading part."""
    index = index.array if isinstance(index, Tensor) else numpy.asarray(index)
    along = axis(dim, x.ndim, "gather")
    others = [d for d in range(x.ndim) if d != along]
    if index.ndim != x.ndim or any(index.shape[d] > x.shape[d] for d in others):
        raise OpError(f"gather: index of shape {tuple(index.shape)} does not fit input of "
                      f"shape {tuple(x.shape)} along dim {dim} (same number of dims, and no larger "
                      "than the input in the other dims)")
    if any(index.shape[d] < x.shape[d] for d in others):
        x = x[tuple(slice(None) if d == along else slice(0, n)
                    for d, n in enumerate(index.shape))]
    return TakeAlongDim.apply(x, index=index, dim=dim)


# --- shapes ----------------------------------------------------------------------------
def _shape_arg(shape):
    """Accept reshape(2, 3) and reshape((2, 3)) alike."""
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        return tuple(shape[0])
    return tuple(shape)


def reshape(x: Tensor, *shape) -> Tensor:
    shape = _shape_arg(shape)
    if shape == x.shape:
        return x
    return Reshape.apply(x, shape=shape)


view = reshape


def flatten(x: Tensor, start_dim: int = 0, end_dim: int = -1) -> Tensor:
    if x.ndim == 0:
        return reshape(x, 1)
    start, end = axis(start_dim, x.ndim, "flatten"), axis(end_dim, x.ndim, "flatten")
    shape = x.shape[:start] + (-1,) + x.shape[end + 1:]
    return reshape(x, shape)


def permute(x: Tensor, *dims) -> Tensor:
    dims = tuple(axis(d, x.ndim, "permute") for d in _shape_arg(dims))
    if sorted(dims) != list(range(x.ndim)):
        raise ValueError(f"permute: {dims} is not a permutation of the {x.ndim} dims of {tuple(x.shape)}")
    return Permute.apply(x, axes=dims)


def transpose(x: Tensor, dim0: int, dim1: int) -> Tensor:
    axes = list(range(x.ndim))
    dim0, dim1 = axis(dim0, x.ndim, "transpose"), axis(dim1, x.ndim, "transpose")
    axes[dim0], axes[dim1] = axes[dim1], axes[dim0]
    return named(Permute.apply(x, axes=tuple(axes)), "TransposeBackward0")


def t(x: Tensor) -> Tensor:
    return named(Permute.apply(x, axes=tuple(reversed(range(x.ndim)))), "TBackward0")


def squeeze(x: Tensor, dim=None) -> Tensor:
    if dim is None:
        shape = tuple(n for n in x.shape if n != 1)
    else:
        dims = _axes_of(dim, x.ndim, "squeeze")
        shape = tuple(n for i, n in enumerate(x.shape) if not (i in dims and n == 1))
    which = 0 if dim is None else 2 if isinstance(dim, (tuple, list)) else 1
    result = reshape(x, shape)
    return result if result is x else named(result, f"SqueezeBackward{which}")


def unsqueeze(x: Tensor, dim: int) -> Tensor:
    dim = axis(dim, x.ndim + 1, "unsqueeze")
    return named(reshape(x, x.shape[:dim] + (1,) + x.shape[dim:]), "UnsqueezeBackward0")


def _axes_of(dim, ndim, op):
    dims = dim if isinstance(dim, (tuple, list)) else (dim,)
    return {axis(d, ndim, op) for d in dims}


def expand(x: Tensor, *shape) -> Tensor:
    shape = _shape_arg(shape)
    lead = len(shape) - x.ndim
    full = tuple(x.shape[i - lead] if n == -1 else n for i, n in enumerate(shape))
    return Expand.apply(x, shape=full)


def cat(tensors, dim: int = 0) -> Tensor:
    """The tensors joined along `dim`, in the dtype PyTorch promotes them to. A 1-d empty
    tensor is skipped whatever the others' shapes, as PyTorch still does for old code that
    starts a running `torch.cat((total, part))` from `torch.FloatTensor()`."""
    tensors = list(tensors)
    if not tensors:
        raise ValueError("cat: expects a non-empty list of tensors")
    joined = [t for t in tensors if t.shape != (0,)] or tensors
    return Cat.apply(*_promoted(joined, tensors), dim=dim)


concatenate = cat


def stack(tensors, dim: int = 0) -> Tensor:
    tensors = list(tensors)
    if not tensors:
        raise ValueError("stack: expects a non-empty list of tensors")
    return Stack.apply(*_promoted(tensors, tensors), dim=dim)


def _promoted(tensors: list, among: list) -> list:
    """`tensors` cast to the dtype PyTorch's type promotion gives all of `among` (an int64
    tensor joined to a float32 one is float32; NumPy would make both float64)."""
    dtype = functools.reduce(promote_types, (t.dtype for t in among))
    return [t if t.dtype == dtype else cast(t, dtype) for t in tensors]


def alias(t: Tensor) -> Tensor:
    """Another tensor object standing for t as it is now (same array, same node): what an
    in-place change inside the graph records as its input before t takes the new node."""
    old = Tensor._wrap(t.array)
    old.grad_fn, old.requires_grad = t.grad_fn, t.requires_grad
    return old


def index(x: Tensor, key) -> Tensor:
    key = _array_key(key)
    return named(Index.apply(x, key=key), index_node_name(key))


def _array_key(key):
    """Indexing keys with tensors or lists turned into arrays (NumPy semantics)."""
    if isinstance(key, tuple):
        return tuple(_array_key_part(k) for k in key)
    return _array_key_part(key)


def _array_key_part(k):
    if isinstance(k, Tensor):
        return k.array
    if isinstance(k, list):
        return numpy.asarray(k)
    return k


# --- linear algebra and softmax ---------------------------------------------------------
def matmul(a: Tensor, b: Tensor) -> Tensor:
    """Matrix product with NumPy's rules: batched, broadcast, 1-D operands promoted."""
    if a.ndim == 0 or b.ndim == 0:
        raise ValueError(f"matmul: both operands need at least one dimension, got shapes "
                         f"{tuple(a.shape)} and {tuple(b.shape)}")
    if a.shape[-1] != b.shape[-2 if b.ndim > 1 else -1]:
        raise OpError(f"matmul: cannot multiply shapes {tuple(a.shape)} and {tuple(b.shape)} (inner "
                      f"dimensions {a.shape[-1]} and {b.shape[-2 if b.ndim > 1 else -1]} "
                      "differ)")
    if a.ndim == 1 or b.ndim == 1:
        left = unsqueeze(a, 0) if a.ndim == 1 else a
        right = unsqueeze(b, -1) if b.ndim == 1 else b
        out = MatMul.apply(left, right)
        if b.ndim == 1:
            out = squeeze(out, -1)
        if a.ndim == 1:
            out = squeeze(out, -2 if b.ndim > 1 else -1)
        return named(out, _PRODUCT_NAMES.get((a.ndim, b.ndim), "UnsafeViewBackward0"))
    return named(MatMul.apply(a, b), "MmBackward0" if a.ndim == b.ndim == 2
                 else "UnsafeViewBackward0")


# PyTorch's node for a product with a 1-d operand, by the operands' dimensions.
_PRODUCT_NAMES = {(1, 1): "DotBackward0", (2, 1): "MvBackward0", (1, 2): "SqueezeBackward4"}


def softmax(x: Tensor, dim: int = -1) -> Tensor:
    return Softmax.apply(x, dim=dim)


def log_softmax(x: Tensor, dim: int = -1) -> Tensor:
    return LogSoftmax.apply(x, dim=dim)
