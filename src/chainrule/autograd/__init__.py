"""Automatic differentiation: the graph node (`Op`), the backward engine, grad modes, hooks.

PyTorch's anomaly mode and gradcheck, which also live at `torch.autograd`, are tools built
on this layer: chainrule/diagnostics/, put here by the package `__init__`."""
from . import (
    grad_mode,  # noqa: F401 - torch.autograd.grad_mode
    hooks,
)
from .engine import backward, grad  # noqa: F401
from .function import Function, FunctionCtx  # noqa: F401
from .grad_mode import (  # noqa: F401
    enable_grad,
    inference_mode,
    is_grad_enabled,
    is_inference_mode_enabled,
    no_grad,
    set_grad_enabled,
)
from .hooks import OpHook, RemovableHandle, backward_node, register_op_hook  # noqa: F401
from .op import Op, OpError  # noqa: F401
from .variable import Variable  # noqa: F401


def install(tensor_class) -> None:
    """Give the Tensor class its autograd methods (the package __init__ calls this)."""
    tensor_class.backward = backward
    tensor_class.register_hook = hooks.register_tensor_hook
    tensor_class.register_post_accumulate_grad_hook = hooks.register_post_accumulate_grad_hook
