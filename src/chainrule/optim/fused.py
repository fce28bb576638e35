"""SGD and Adam on a GPU in one kernel launch per dtype for all parameters of a group
(kernels/gpu/optimizer.py), in place of the few launches per parameter that the array
expressions of sgd.py and adam.py make. Same rule, same state entries, so a state dict
moves freely between the two paths; each function returns False, changing nothing, when
its arrays are not all contiguous float CuPy arrays, and the caller then runs the rule
written out.
"""
from __future__ import annotations

from .. import backend
from ..kernels.gpu import optimizer as kernels
from ..tensor import Tensor
from .optimizer import _zeros_state


def sgd(items, lr: float, momentum: float, dampening: float, weight_decay: float,
        nesterov: bool, maximize: bool) -> bool:
    """items: (param, grad, state or None) as Optimizer._params_with_grad yields them."""
    buffers = [state.get("momentum_buffer") for _, _, state in items] if momentum else []
    arrays = [(param, grad) + ((buffers[k].array,) if buffers and buffers[k] is not None else ())
              for k, (param, grad, _) in enumerate(items)]
    if not kernels.supports(arrays):
        return False
    rows = []
    for k, (param, grad, state) in enumerate(items):
        buffer, fresh = None, False
        if momentum:
            fresh = buffers[k] is None
            if fresh:  # the kernel writes b <- g into it
                state["momentum_buffer"] = Tensor._wrap(backend.xp(param).empty_like(param))
            buffer = state["momentum_buffer"].array
        rows.append((param, grad, buffer, fresh))
    kernels.sgd(rows, lr, momentum, dampening, weight_decay, nesterov, maximize)
    return True


def adam(items, lr: float, beta1: float, beta2: float, eps: float, weight_decay: float,
         decoupled: bool, maximize: bool) -> bool:
    """items: (param, grad, state) as Optimizer._params_with_grad yields them (no amsgrad)."""
    arrays = [(param, grad) + ((s["exp_avg"].array, s["exp_avg_sq"].array) if s else ())
              for param, grad, s in items]
    if not kernels.supports(arrays):
        return False
    by_step: dict = {}
    for param, grad, state in items:
        if len(state) == 0:
            state["step"] = 0.0
            state["exp_avg"] = _zeros_state(param)
            state["exp_avg_sq"] = _zeros_state(param)
        state["step"] += 1
        by_step.setdefault(state["step"], []).append(
            (param, grad, state["exp_avg"].array, state["exp_avg_sq"].array))
    l2, factor = (0.0, 1 - lr * weight_decay) if decoupled else (weight_decay, 1.0)
    for step, rows in by_step.items():
        kernels.adam(rows, lr / (1 - beta1 ** step), beta1, beta2, eps,
                     (1 - beta2 ** step) ** 0.5, l2, factor, maximize)
    return True
