"""`torch.autograd.graph`: the graph's node type, and hooks on what forward saves.

`saved_tensors_hooks(pack, unpack)`: while the block runs, every tensor an op saves for
its backward is handed to `pack` at once, and what `pack` returned is handed to `unpack`
when the backward needs it (each time it runs). `pack` sees the very tensor when the op
saved one of its inputs or its output, a new tensor otherwise; `unpack` must give back a
tensor with the same values. Only the innermost pair in force applies, as in PyTorch.
It is an op hook (autograd/hooks.py): at each recorded op it replaces the node's saved
arrays with a `PackedSaved` tuple, which the engine unpacks before the node's backward.
"""
from __future__ import annotations

import abc
import threading
from typing import NamedTuple

from ..autograd.hooks import OpHook, PackedSaved, RemovableHandle  # noqa: F401 - its path too
from ..autograd.op import AccumulateGrad, Op
from ..tensor import Tensor
from ..versions import bump


class Node(abc.ABC):  # noqa: B024 - for isinstance only: Op and AccumulateGrad register
    """What `tensor.grad_fn` and the entries of `next_functions` are (isinstance checks)."""


Node.register(Op)
Node.register(AccumulateGrad)

class GradientEdge(NamedTuple):
    """Where a tensor's gradient goes in the graph: its node, and which output of it."""
    node: object
    output_nr: int


def get_gradient_edge(tensor) -> GradientEdge:
    """The node that receives `tensor`'s gradient: its grad_fn, or a leaf's AccumulateGrad."""
    if not tensor.requires_grad:
        raise RuntimeError("get_gradient_edge: the tensor does not require grad")
    return GradientEdge(tensor.grad_fn or AccumulateGrad(tensor), 0)


_state = threading.local()  # .stack: the saved_tensors_hooks in force; .disabled: a message


def _stack() -> list:
    if not hasattr(_state, "stack"):
        _state.stack = []
    return _state.stack


class saved_tensors_hooks(OpHook):  # noqa: N801 - PyTorch's name
    """Context manager: `pack(tensor)` on each tensor saved for backward inside the block,
    `unpack(packed)` when the backward reads it back."""

    def __init__(self, pack_hook, unpack_hook):
        self.pack_hook = pack_hook
        self.unpack_hook = unpack_hook

    def __enter__(self):
        message = getattr(_state, "disabled", None)
        if message is not None:
            raise RuntimeError(message)
        _stack().append(self)
        return super().__enter__()

    def __exit__(self, *exc):
        _stack().remove(self)
        return super().__exit__(*exc)

    def after_forward(self, node, inputs, output) -> None:
        if output.grad_fn is not node or _stack()[-1] is not self:
            return
        if type(node.saved) is PackedSaved or not node.saved:
            return
        known = {id(t.array): t for t in (*inputs, output)}
        packed = [(self.pack_hook(self._as_tensor(a, known)),) if hasattr(a, "shape") else a
                  for a in node.saved]
        node.saved = PackedSaved(packed)
        node.saved.unpack_all, node.saved.saved_at = self._unpack_all, node.saved_at
        node.saved_at = -1  # the engine looks before the node's backward, and unpacks

    @staticmethod
    def _as_tensor(saved, known: dict) -> Tensor:
        """What `pack` sees: the input or output tensor the op saved, else a new tensor."""
        if isinstance(saved, Tensor):
            return saved
        return known[id(saved)] if id(saved) in known else Tensor._wrap(saved)

    def _unpack_all(self, packed):
        """The arrays back from `unpack`, in the order saved (non-tensors as they were)."""
        for entry in packed:
            if type(entry) is not tuple:
                yield entry
                continue
            tensor = self.unpack_hook(entry[0])
            if not isinstance(tensor, Tensor):
                raise TypeError("saved_tensors_hooks: the unpack hook must return a tensor, "
                                f"got {type(tensor).__name__}")
            yield tensor.array


class save_on_cpu(saved_tensors_hooks):  # noqa: N801 - PyTorch's name
    """Saved tensors kept in CPU memory and moved back to their device for the backward."""

    def __init__(self, pin_memory: bool = False, device_type: str = "cuda"):
        super().__init__(lambda t: (t.device, t.cpu()), lambda packed: packed[1].to(packed[0]))


class disable_saved_tensors_hooks:  # noqa: N801 - PyTorch's name
    """Context manager inside which entering a `saved_tensors_hooks` raises `error_message`."""

    def __init__(self, error_message: str):
        self.error_message = error_message

    def __enter__(self):
        self._outer = getattr(_state, "disabled", None)
        _state.disabled = self.error_message
        return self

    def __exit__(self, *exc):
        _state.disabled = self._outer
        return False


def increment_version(tensor) -> None:
    """Count an in-place change that autograd did not see (a saved value then refuses)."""
    for t in tensor if isinstance(tensor, (list, tuple)) else (tensor,):
        bump(t.array)
