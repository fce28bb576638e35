"""Tensor methods and operators (`x + y`, `x.sum(1)`, `x[0]`), each one a functional form."""
from __future__ import annotations

from ..tensor import lift
from . import elementwise as ew
from . import functions as f
from .linalg import MatMul


def _compare(name):
    def compare(self, other):
        other = other.data if hasattr(other, "grad_fn") else other
        return type(self)._wrap(getattr(self.data, name)(other))
    compare.__name__ = name
    return compare


def _binary(op, reflected=False):
    if reflected:
        def method(self, other):
            return op.apply(lift(other, self), self)
    else:
        def method(self, other):
            return op.apply(self, lift(other, self))
    return method


def _rmatmul(self, other):
    return f.matmul(lift(other, self), self)


def _getitem(self, key):
    return f.index(self, key)


def _setitem(self, key, value):
    """In-place assignment into the array; only for tensors outside the graph (as PyTorch
    forbids it on leaves that require grad)."""
    if self.requires_grad:
        raise RuntimeError("a leaf tensor that requires grad cannot be assigned in place; "
                           "wrap the update in cr.no_grad() or assign to .data")
    self.data[f._array_key(key)] = value.data if hasattr(value, "grad_fn") else value


def _max(self, dim=None, keepdim=False):
    return f.max(self, dim, keepdim)


def _min(self, dim=None, keepdim=False):
    return f.min(self, dim, keepdim)


def install(cls) -> None:
    """Attach the operators and methods to the Tensor class."""
    cls.__add__ = _binary(ew.Add)
    cls.__radd__ = _binary(ew.Add, reflected=True)
    cls.__sub__ = _binary(ew.Sub)
    cls.__rsub__ = _binary(ew.Sub, reflected=True)
    cls.__mul__ = _binary(ew.Mul)
    cls.__rmul__ = _binary(ew.Mul, reflected=True)
    cls.__truediv__ = f.div
    cls.__rtruediv__ = lambda self, other: f.div(lift(other, self), self)
    cls.__pow__ = _binary(ew.Pow)
    cls.__rpow__ = _binary(ew.Pow, reflected=True)
    cls.__matmul__ = lambda self, other: f.matmul(self, lift(other, self))
    cls.__rmatmul__ = _rmatmul
    cls.__neg__ = f.neg
    cls.__abs__ = f.abs
    cls.__getitem__ = _getitem
    cls.__setitem__ = _setitem
    for name in ("__lt__", "__le__", "__gt__", "__ge__", "__eq__", "__ne__"):
        setattr(cls, name, _compare(name))
    cls.__hash__ = lambda self: id(self)
    cls.__invert__ = lambda self: cls._wrap(~self.data)
    cls.__and__ = _compare("__and__")
    cls.__or__ = _compare("__or__")

    for name in ("exp", "log", "sqrt", "abs", "tanh", "sigmoid", "relu", "clamp",
                 "sum", "mean", "var", "std", "argmax", "argmin", "reshape", "view",
                 "flatten", "permute", "transpose", "squeeze", "unsqueeze", "expand",
                 "matmul", "softmax", "log_softmax", "gather", "add", "sub", "mul",
                 "div", "pow", "neg", "maximum", "minimum"):
        setattr(cls, name, getattr(f, name))
    cls.max = _max
    cls.min = _min
    cls.swapaxes = f.transpose
    cls.clip = f.clamp
    cls.T = property(f.t)
    cls.mT = property(lambda self: f.transpose(self, -1, -2))
    cls.expand_as = lambda self, other: f.expand(self, other.shape)
    cls.view_as = lambda self, other: f.reshape(self, other.shape)
    cls.reshape_as = cls.view_as
