"""`torch.return_types`: the named tuples of PyTorch's functions that return several
tensors (`torch.max(x, 1)` is a `torch.return_types.max` of values and indices), printed
as PyTorch prints them:

    torch.return_types.max(
    values=tensor([3.]),
    indices=tensor([1]))
"""
from __future__ import annotations

import collections
import functools


@functools.cache
def return_type(name: str, fields: tuple) -> type:
    """The named tuple `torch.return_types.<name>` with these fields."""
    def __repr__(self) -> str:
        body = ",\n".join(f"{field}={value!r}" for field, value in zip(self._fields, self))
        return f"torch.return_types.{name}(\n{body})"
    return type(name, (collections.namedtuple(name, fields),),
                {"__slots__": (), "__repr__": __repr__, "__module__": "torch.return_types"})


def returns(name: str, fields: str = "values indices"):
    """Decorates a public function whose tuple result PyTorch calls
    `torch.return_types.<name>`, with these fields (a single tensor passes through)."""
    def decorate(function):
        @functools.wraps(function)
        def with_return_type(*args, **kwargs):
            result = function(*args, **kwargs)
            if not isinstance(result, tuple):
                return result
            return return_type(name, tuple(fields.split()))(*result)
        return with_return_type
    return decorate
