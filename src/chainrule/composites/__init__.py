"""PyTorch's function surface composed from the differentiable ops (one layer above ops/):
pointwise forms with `out=` and comparisons, shape functions, reductions, indexing, the
assorted rest, and Tensor conveniences. Each function is also a Tensor method
(`x.sin()`) with its in-place form (`x.sin_()`); `install(Tensor)` attaches them and
`TOP_LEVEL` is what `chainrule/__init__.py` exports (`cr.sin`, `cr.sin_`, `cr.split`, ...).

An in-place method computes the function and then makes the tensor hold the result:
- outside the graph (no gradient wanted, e.g. `p.data.add_(...)` or under `no_grad`), the
  numbers are written into the tensor's own array, which views and `.data` share;
- inside the graph, the tensor becomes the result's node, computed from an alias of its
  old self (as PyTorch records an in-place op); a leaf that requires grad refuses, as in
  PyTorch. Ops that read the tensor *before* the change keep the numbers they saved.
"""
from __future__ import annotations

from .. import predicates, versions
from ..autograd.grad_mode import is_grad_enabled
from ..autograd.op import OpError
from ..tensor import Tensor
from . import (
    assorted,
    factorizations,
    grouped,
    indexing,
    matrix,
    operators,
    reduction,
    shape,
    sparse_coo,
    tensor_methods,
)
from . import functions as f
from . import pointwise as pf
from .einsum import einsum

PUBLIC: dict = {}


def inplace(function, name: str):
    def method(self, *args, **kwargs):
        recording = is_grad_enabled() and (self.requires_grad or any(
            getattr(a, "requires_grad", False) for a in (*args, *kwargs.values())))
        if recording and self.requires_grad and self.is_leaf:
            raise RuntimeError(f"{name}: a leaf Variable that requires grad is being used in "
                               "an in-place operation (update it under no_grad() or through "
                               ".data)")
        result = function(f.alias(self) if recording else self, *args, **kwargs)
        if recording:
            self.array, self.grad_fn = result.array, result.grad_fn
            self.requires_grad = result.requires_grad
            return self
        if result.shape != self.shape or (result.dtype.kind == "f" and self.dtype.kind != "f"):
            raise OpError(f"{name}: the result ({result.dtype}, shape {tuple(result.shape)}) does "
                          f"not fit the tensor ({self.dtype}, shape {tuple(self.shape)})")
        self.array[...] = result.array
        versions.bump(self.array)
        return self
    method.__name__ = name
    return method


def reshaping_inplace(function, name: str):
    """In-place forms that change the shape (`squeeze_`, `t_`, ...): the tensor takes the
    result's array (a view of its own) or, inside the graph, the result's node."""
    def method(self, *args, **kwargs):
        recording = is_grad_enabled() and self.requires_grad
        if recording and self.is_leaf:
            raise RuntimeError(f"{name}: a leaf Variable that requires grad is being used in "
                               "an in-place operation")
        result = function(f.alias(self) if recording else self, *args, **kwargs)
        self.array = result.array
        if recording:
            self.grad_fn = result.grad_fn
        return self
    method.__name__ = name
    return method


def _register(functions: dict, in_place: tuple = ()) -> None:
    """Public names, methods, and in-place methods for the names in `in_place`."""
    PUBLIC.update(functions)
    for name in in_place:
        PUBLIC_INPLACE[name + "_"] = inplace(functions[name], name + "_")


PUBLIC_INPLACE: dict = {}
_register(pf.FUNCTIONS, in_place=tuple(
    name for name in pf.FUNCTIONS
    if name not in pf.TESTS and name not in ("isclose", "allclose", "equal", "positive",
                                             "signbit", "float_power")))

_CORE = ("exp", "log", "sqrt", "abs", "tanh", "sigmoid", "relu", "neg", "pow", "clamp")
_register({name: pf.with_out(getattr(f, name)) for name in _CORE}, in_place=_CORE)
PUBLIC.update(clip=f.clamp, absolute=f.abs, negative=f.neg, t=f.t)
PUBLIC_INPLACE.update(clip_=PUBLIC_INPLACE["clamp_"], absolute_=PUBLIC_INPLACE["abs_"],
                      negative_=PUBLIC_INPLACE["neg_"])
_register(shape.FUNCTIONS, in_place=("tril", "triu"))
_register(reduction.FUNCTIONS, in_place=("cumsum", "cumprod"))
_register(indexing.FUNCTIONS, in_place=(
    "masked_fill", "index_fill", "index_add", "index_copy", "scatter", "scatter_add",
    "scatter_reduce"))
_register(assorted.FUNCTIONS, in_place=("clamp_min", "clamp_max", "heaviside", "gcd",
                                                "lcm", "ldexp", "renorm", "mvlgamma"))
PUBLIC_INPLACE["nextafter_"] = inplace(assorted.nextafter, "nextafter_")
_register(matrix.FUNCTIONS)
_register(factorizations.FUNCTIONS)  # lu, lu_unpack
_register({"index_reduce": grouped.index_reduce, "histogramdd": grouped.histogramdd},
          in_place=("index_reduce",))
PUBLIC_INPLACE.update({name + "_": inplace(pf.FUNCTIONS[name], name + "_")
                       for name in ("logical_not", "bitwise_not", "float_power")})
PUBLIC_INPLACE.update({name + "_": inplace(shape.FUNCTIONS[name], name + "_")
                       for name in ("addmm", "addmv", "baddbmm", "addbmm", "addr")})
PUBLIC_INPLACE.update({name + "_": reshaping_inplace(function, name + "_") for name, function in (
    ("squeeze", f.squeeze), ("unsqueeze", f.unsqueeze), ("t", f.t), ("transpose", f.transpose),
    ("swapdims", f.transpose), ("swapaxes", f.transpose))})
PUBLIC_INPLACE.update({name + "_": inplace(getattr(tensor_methods, name), name + "_")
                       for name in ("masked_scatter", "index_put", "put")})
PUBLIC["einsum"] = einsum


def _copy_of(function):
    """PyTorch's `*_copy` functions: the view function's result as a fresh tensor."""
    def copy(*args, **kwargs):
        result = function(*args, **kwargs)
        return tuple(f.clone(r) for r in result) if isinstance(result, tuple) else \
            f.clone(result)
    return copy


_VIEWS = {"alias": lambda x: x, "detach": lambda x: x.detach(), "diagonal": None,
          "expand": f.expand, "narrow": None, "permute": f.permute, "select": None,
          "split": None, "split_with_sizes": None, "squeeze": f.squeeze, "t": f.t,
          "transpose": f.transpose, "unbind": None, "unfold": None,
          "unsqueeze": f.unsqueeze, "view": f.reshape}
COPIES = {name + "_copy": _copy_of(view or PUBLIC[name]) for name, view in _VIEWS.items()}
# Functions taking a list, an equation or nothing tensor-first: not Tensor methods.
NOT_METHODS = ("einsum", "meshgrid", "broadcast_tensors", "hstack", "vstack", "dstack",
               "column_stack", "row_stack", "block_diag", "cartesian_prod", "chain_matmul",
               "broadcast_shapes", "unravel_index", "isin", "rsub", "polygamma", "histogramdd")
# The top-level names: the functions, their in-place forms and the `*_copy` variants.
TOP_LEVEL = {**PUBLIC, **PUBLIC_INPLACE, **COPIES, **sparse_coo.FUNCTIONS,
             "detach": lambda input: input.detach(),
             "detach_": lambda input: input.detach_(),
             "fill": lambda input, value: f.add(f.mul(input, 0), value),
             "fill_": lambda input, value: input.fill_(value),
             "zero_": lambda input: input.zero_(),
             "is_same_size": lambda input, other: input.shape == other.shape,
             "is_signed": lambda input: input.dtype.kind in "if",
             "swapaxes": f.transpose, "concat": f.cat,
             "index_put": tensor_methods.index_put, "put": tensor_methods.put,
             "masked_scatter": tensor_methods.masked_scatter,
             "is_inference": lambda input: False, "is_neg": lambda input: False,
             "resolve_neg": lambda input: input, "get_device": lambda input: input.get_device()}


def install(cls) -> None:
    operators.install(cls)
    for name, function in PUBLIC.items():
        if name not in NOT_METHODS:
            setattr(cls, name, function)
    for name, method in {**shape.METHODS, **tensor_methods.METHODS,
                         **sparse_coo.METHODS}.items():
        setattr(cls, name, method)
    for name in ("is_same_size", "is_signed"):
        setattr(cls, name, TOP_LEVEL[name])
    cls.polygamma = lambda self, n: assorted.polygamma(n, self)
    cls.polygamma_ = inplace(lambda self, n: assorted.polygamma(n, self), "polygamma_")
    cls.narrow_copy = lambda self, dim, start, length: f.clone(shape.narrow(
        self, dim, start, length))
    cls.is_nonzero = predicates.is_nonzero
    cls.map2_ = grouped.map2_
    for name, getter in tensor_methods.PROPERTIES.items():
        setattr(cls, name, property(getter))
    for name, method in PUBLIC_INPLACE.items():
        setattr(cls, name, method)
