"""`Variable`: PyTorch's pre-0.4 wrapper, kept by PyTorch for old code. `Variable(t)` is a
new leaf tensor sharing t's numbers, cut from t's graph, requiring grad only when asked
(`t.detach().requires_grad_(requires_grad)`, as PyTorch builds it), so `t` itself is left as
it was; every tensor counts as an instance of Variable."""
from __future__ import annotations

from ..tensor import Tensor


class _VariableMeta(type):
    def __instancecheck__(cls, instance) -> bool:
        return isinstance(instance, Tensor)


class Variable(metaclass=_VariableMeta):
    def __new__(cls, data: Tensor, requires_grad: bool = False, volatile: bool = False):
        if not isinstance(data, Tensor):
            raise TypeError(f"Variable data has to be a tensor, but got {type(data).__name__}")
        leaf = Tensor._wrap(data.array)
        leaf.requires_grad = requires_grad
        return leaf
