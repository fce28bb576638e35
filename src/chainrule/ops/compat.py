"""The rest of PyTorch's tensor surface: each function of the families added for PyTorch
compatibility as a Tensor method (`x.sin()`), its in-place form (`x.sin_()`), and the
public names `chainrule/__init__.py` exports (`PUBLIC`).

An in-place method computes the function and then makes the tensor hold the result:
- outside the graph (no gradient wanted, e.g. `p.data.add_(...)` or under `no_grad`), the
  numbers are written into the tensor's own array, which views and `.data` share;
- inside the graph, the tensor becomes the result's node, computed from an alias of its
  old self (as PyTorch records an in-place op); a leaf that requires grad refuses, as in
  PyTorch. Ops that read the tensor *before* the change keep the numbers they saved.
"""
from __future__ import annotations

from .. import versions
from ..autograd.grad_mode import is_grad_enabled
from ..autograd.op import OpError
from ..tensor import Tensor
from . import functions as f
from . import indexing_functions, reduction_functions, shape_functions, tensor_methods
from . import pointwise_functions as pf
from .einsum import einsum

PUBLIC: dict = {}


def _alias(t: Tensor) -> Tensor:
    """Another tensor object standing for t as it is now (same array, same node)."""
    old = Tensor._wrap(t.array)
    old.grad_fn, old.requires_grad = t.grad_fn, t.requires_grad
    return old


def inplace(function, name: str):
    def method(self, *args, **kwargs):
        recording = is_grad_enabled() and (self.requires_grad or any(
            getattr(a, "requires_grad", False) for a in (*args, *kwargs.values())))
        if recording and self.requires_grad and self.is_leaf:
            raise RuntimeError(f"{name}: a leaf tensor that requires grad cannot be changed "
                               "in place; update it under cr.no_grad() or through .data")
        result = function(_alias(self) if recording else self, *args, **kwargs)
        if recording:
            self.array, self.grad_fn = result.array, result.grad_fn
            self.requires_grad = result.requires_grad
            return self
        if result.shape != self.shape or (result.dtype.kind == "f" and self.dtype.kind != "f"):
            raise OpError(f"{name}: the result ({result.dtype}, shape {result.shape}) does "
                          f"not fit the tensor ({self.dtype}, shape {self.shape})")
        self.array[...] = result.array
        versions.bump(self.array)
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
_register(shape_functions.FUNCTIONS, in_place=("tril", "triu"))
_register(reduction_functions.FUNCTIONS, in_place=("cumsum", "cumprod"))
_register(indexing_functions.FUNCTIONS, in_place=(
    "masked_fill", "index_fill", "index_add", "index_copy", "scatter", "scatter_add",
    "scatter_reduce"))
PUBLIC["einsum"] = einsum
# Functions taking a list, an equation or nothing tensor-first: not Tensor methods.
NOT_METHODS = ("einsum", "meshgrid", "broadcast_tensors", "hstack", "vstack", "dstack",
               "column_stack", "row_stack")


def install(cls) -> None:
    for name, function in PUBLIC.items():
        if name not in NOT_METHODS:
            setattr(cls, name, function)
    for name, method in {**shape_functions.METHODS, **tensor_methods.METHODS}.items():
        setattr(cls, name, method)
    for name, getter in tensor_methods.PROPERTIES.items():
        setattr(cls, name, property(getter))
    for name, method in PUBLIC_INPLACE.items():
        setattr(cls, name, method)
