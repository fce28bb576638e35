"""`Parameter`: a tensor a module learns (it requires grad and is listed by `parameters()`);
`Buffer`: a tensor a module keeps as state (registered as a buffer when assigned)."""
from __future__ import annotations

from ..tensor import Tensor


class Parameter(Tensor):
    __slots__ = ()

    def __init__(self, data=None, requires_grad: bool = True):
        if data is None:
            data = []
        super().__init__(data, dtype=getattr(data, "dtype", None), requires_grad=requires_grad)

    def __repr__(self) -> str:
        return "Parameter containing:\n" + super().__repr__()


class Buffer(Tensor):
    """State that is not learnt (a running mean): assigned as a module attribute it becomes
    a buffer, in the state dict unless `persistent=False`. It shares `data`'s array."""

    __slots__ = ("persistent",)

    def __init__(self, data=None, *, persistent: bool = True):
        if data is None:
            data = []
        super().__init__(data, dtype=getattr(data, "dtype", None),
                         requires_grad=getattr(data, "requires_grad", False))
        self.persistent = persistent
