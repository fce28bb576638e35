"""Automatic differentiation: the graph node (`Op`), the backward engine, grad modes."""
from . import (
    grad_mode,  # noqa: F401 - torch.autograd.grad_mode
    hooks,
)
from .anomaly import AnomalyError, detect_anomaly, is_anomaly_enabled, set_detect_anomaly  # noqa: F401
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
from .gradcheck import GradcheckError, gradcheck, gradgradcheck  # noqa: F401
from .hooks import OpHook, RemovableHandle, backward_node, register_op_hook  # noqa: F401
from .op import Op, OpError  # noqa: F401
from .variable import Variable  # noqa: F401


def install(tensor_class) -> None:
    """Give the Tensor class its autograd methods (the package __init__ calls this)."""
    tensor_class.backward = backward
    tensor_class.register_hook = hooks.register_tensor_hook
    tensor_class.register_post_accumulate_grad_hook = hooks.register_post_accumulate_grad_hook
