"""Tensor methods and operators (`x + y`, `x.sum(1)`, `x[0]`), each one a functional form."""
from __future__ import annotations

import numpy

from .. import versions
from ..autograd.grad_mode import is_grad_enabled, no_grad
from ..autograd.op import OpError
from ..backend import to_arguments
from ..ops import elementwise as ew
from ..tensor import Tensor, lift
from . import functions as f
from . import indexing
from . import pointwise as pf
from .node_names import named


def _compare(name):
    def compare(self, other):
        other = other.array if isinstance(other, Tensor) else other
        return type(self)._wrap(getattr(self.array, name)(other))
    compare.__name__ = name
    return compare


def _binary(op, reflected=False):
    if reflected:
        def method(self, other):
            return op.apply(*f._pair(other, self))
    else:
        def method(self, other):
            return op.apply(*f._pair(self, other))
    return method


def _inplace(name, binary=None):
    """`x -= y` and friends change x's array in place, as in PyTorch (how a weight is updated
    under `no_grad`). The graph cannot record an in-place change, so while grad mode is on
    and either side requires grad, a leaf that requires grad refuses it (as PyTorch) and
    anything else gets the out-of-place result (`x = x - y`), which has the same gradient."""
    binary = binary or getattr(f, name)

    def method(self, other):
        if is_grad_enabled() and (self.requires_grad or getattr(other, "requires_grad", False)):
            if self.requires_grad and self.is_leaf:
                raise RuntimeError(f"in-place {name} on a leaf tensor that requires grad: "
                                   "update weights under cr.no_grad()")
            return binary(self, other)
        with no_grad():
            result = binary(self, other).array
        if result.shape != self.shape or (result.dtype.kind == "f" and self.dtype.kind != "f"):
            raise OpError(f"in-place {name}: the result ({result.dtype}, shape "
                          f"{tuple(result.shape)}) does not fit the tensor ({self.dtype}, shape "
                          f"{tuple(self.shape)})")
        if hasattr(self.array, "__setitem__"):
            self.array[...] = result
            versions.bump(self.array)
        else:  # a NumPy scalar (what a NumPy reduction returns) is immutable: replace it
            self.array = result.astype(self.dtype)
        return self
    method.__name__ = f"__i{name}__"
    return method


def _rmatmul(self, other):
    return f.matmul(lift(other, self), self)


def _getitem(self, key):
    try:
        return f.index(self, key)
    except IndexError as err:
        if self.ndim == 0:  # `loss.data[0]`: PyTorch 0.3's way to read a loss
            raise IndexError("invalid index of a 0-dim tensor. Use `tensor.item()` to "
                             "convert a 0-dim tensor to a number") from err
        raise


def _setitem(self, key, value):
    """`x[key] = value`, in place. Inside the graph (grad mode on, x or the value requiring
    grad) x takes the node of the assignment, so gradients reach the value and x's other
    elements, as PyTorch's CopySlices; a leaf that requires grad refuses it there, and
    takes it under no_grad, as in PyTorch."""
    if is_grad_enabled() and (self.requires_grad or getattr(value, "requires_grad", False)):
        if self.requires_grad and self.is_leaf:
            raise RuntimeError("a leaf Variable that requires grad is being used in an in-place "
                               "operation (assign under torch.no_grad() or to .data)")
        result = indexing.assigned(f.alias(self), key, value)
        self.array, self.grad_fn, self.requires_grad = result.array, result.grad_fn, True
        return
    self.array[f._array_key(key)] = value.array if isinstance(value, Tensor) else value
    versions.bump(self.array)


def _to(self, *args, **kwargs):
    """`.to("cuda")`, `.to(cr.float64)`, `.to("cpu", cr.float32)`, `.to(other)`: differentiable."""
    device, dtype = to_arguments(args, kwargs)
    result = self
    if dtype is not None and numpy.dtype(dtype) != self.dtype:
        result = f.cast(result, numpy.dtype(dtype))
    if device is not None and device != self.device:
        result = f.to_device(result, device)
    return result


def _max(self, dim=None, keepdim=False):
    return f.max(self, dim, keepdim)


def _min(self, dim=None, keepdim=False):
    return f.min(self, dim, keepdim)


def _reflected(function):
    """`other ⊕ tensor` for a number or array on the left."""
    return lambda self, other: function(lift(other, self), self)


def install(cls) -> None:
    """Attach the operators and methods to the Tensor class."""
    cls.__add__ = _binary(ew.Add)
    cls.__radd__ = _binary(ew.Add)  # the tensor first, as PyTorch's graph has it
    cls.__sub__ = _binary(ew.Sub)
    cls.__rsub__ = lambda self, other: named(_binary(ew.Sub, reflected=True)(self, other),
                                             "RsubBackward1")
    cls.__mul__ = _binary(ew.Mul)
    cls.__rmul__ = _binary(ew.Mul)
    cls.__truediv__ = f.div
    cls.__rtruediv__ = lambda self, other: named(f.div(lift(other, self), self),
                                                 "MulBackward0")  # PyTorch: other · 1/self
    cls.__pow__ = f.pow
    cls.__rpow__ = lambda self, other: f.pow(other, self)
    cls.__matmul__ = lambda self, other: f.matmul(self, lift(other, self))
    cls.__rmatmul__ = _rmatmul
    cls.__neg__ = f.neg
    cls.__iadd__ = _inplace("add")
    cls.__isub__ = _inplace("sub")
    cls.__imul__ = _inplace("mul")
    cls.__itruediv__ = _inplace("div")
    cls.__abs__ = f.abs
    cls.__getitem__ = _getitem
    cls.__setitem__ = _setitem
    for name in ("__lt__", "__le__", "__gt__", "__ge__", "__eq__", "__ne__"):
        setattr(cls, name, _compare(name))
    cls.__hash__ = lambda self: id(self)
    cls.__invert__ = lambda self: cls._wrap(~self.array)
    cls.__and__ = _compare("__and__")
    cls.__or__ = _compare("__or__")
    cls.__pos__ = lambda self: self
    # x % y, x // y, x ^ y, x << y, x >> y, their reflected forms (7 // x) and in-place
    # forms (x //= 2), and the in-place &=, |=, **=
    for symbol, name in (("mod", "remainder"), ("floordiv", "floor_divide"),
                         ("xor", "bitwise_xor"), ("lshift", "bitwise_left_shift"),
                         ("rshift", "bitwise_right_shift"), ("and", "bitwise_and"),
                         ("or", "bitwise_or"), ("pow", "pow")):
        function = pf.FUNCTIONS.get(name) or getattr(f, name)
        if symbol not in ("and", "or", "pow"):
            setattr(cls, f"__{symbol}__", function)
        if symbol != "pow":
            setattr(cls, f"__r{symbol}__", _reflected(function))
        setattr(cls, f"__i{symbol}__", _inplace(name, function))

    for name in ("exp", "log", "sqrt", "abs", "tanh", "sigmoid", "relu", "clamp",
                 "sum", "mean", "var", "std", "argmax", "argmin", "reshape", "view",
                 "flatten", "permute", "transpose", "squeeze", "unsqueeze", "expand",
                 "matmul", "softmax", "log_softmax", "gather", "add", "sub", "mul",
                 "div", "pow", "neg", "maximum", "minimum"):
        setattr(cls, name, getattr(f, name))
    cls.max = _max
    cls.to = _to
    cls.clone = f.clone
    cls.min = _min
    cls.swapaxes = f.transpose
    cls.clip = f.clamp
    cls.T = property(lambda self: f.permute(self, *reversed(range(self.ndim))))  # (Permute, as PyTorch)
    cls.mT = property(lambda self: f.transpose(self, -1, -2))
    cls.expand_as = lambda self, other: f.expand(self, other.shape)
    cls.view_as = lambda self, other: f.reshape(self, other.shape)
    cls.reshape_as = cls.view_as
