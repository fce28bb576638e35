"""`Variable`: PyTorch's pre-0.4 wrapper, kept by PyTorch for old code. A Variable is a
tensor: `Variable(t)` returns `t` (with `requires_grad` set when asked), and every tensor
counts as an instance of Variable."""
from __future__ import annotations

from ..tensor import Tensor


class _VariableMeta(type):
    def __instancecheck__(cls, instance) -> bool:
        return isinstance(instance, Tensor)


class Variable(metaclass=_VariableMeta):
    def __new__(cls, data: Tensor, requires_grad: bool = False, volatile: bool = False):
        if not isinstance(data, Tensor):
            raise TypeError(f"Variable data has to be a tensor, but got {type(data).__name__}")
        if requires_grad:
            data.requires_grad_(True)
        return data
