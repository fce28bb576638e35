"""PyTorch's questions about an object: is it a tensor, how many numbers does it hold."""
from __future__ import annotations

from .tensor import Tensor


def is_tensor(obj) -> bool:
    return isinstance(obj, Tensor)


def is_storage(obj) -> bool:
    return False  # chainrule has no separate storage objects: a tensor owns its array


def numel(input: Tensor) -> int:  # noqa: A002
    return input.numel()


def is_nonzero(input: Tensor) -> bool:  # noqa: A002
    """The truth of a one-element tensor (an error for any other size)."""
    if input.numel() != 1:
        raise RuntimeError(f"is_nonzero: a tensor of {input.numel()} elements is ambiguous")
    return bool(input.item())
