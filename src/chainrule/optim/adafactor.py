"""Adafactor (Shazeer and Stern, 2018), as PyTorch 2.13's torch.optim.Adafactor: Adam's
second moment without its memory. For a matrix (or a stack of them) the running mean of
g² is kept factored, as one number per row and one per column, and the step is relative to
the parameter's own scale:

    t   <- t + 1;  β̂ = t^beta2_decay  (the weight of the new g², decaying with t)
    ρ   = min(lr, 1/√t);  α = max(eps2, RMS(p)) · ρ
    p   <- p · (1 - lr · weight_decay)
    matrix:  R <- R + β̂ (mean_cols(g²) - R);  C <- C + β̂ (mean_rows(g²) - C)
             v = R C / max(mean(R), eps1)                (the rank-1 estimate of E[g²])
    vector:  v <- v + β̂ (g² - v)
    u   = g / √max(v, eps1²);  p <- p - α u / max(1, RMS(u) / d)
"""
from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import numpy

from .. import backend
from ..tensor import Tensor
from .optimizer import Optimizer, _lerp_


class Adafactor(Optimizer):
    def __init__(self, params: Iterable, lr: float = 1e-2, beta2_decay: float = -0.8,
                 eps: tuple = (None, 1e-3), d: float = 1.0, weight_decay: float = 0.0, *,
                 foreach: bool | None = None, maximize: bool = False) -> None:
        if not 0.0 <= lr:
            raise ValueError(f"Learning rate should be >= 0 but is: {lr}")
        if not 0.0 >= beta2_decay:
            raise ValueError(f"beta2_decay should be <= 0 but is: {beta2_decay}")
        if eps[0] is not None and not 0.0 <= eps[0]:
            raise ValueError(f"epsilon1 should be >= 0 but is: {eps[0]}")
        if not 0.0 <= eps[1]:
            raise ValueError(f"epsilon2 should be >= 0 but is: {eps[1]}")
        if not 1.0 <= d:
            raise ValueError(f"Clipping threshold d should be >= 1 but is: {d}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"weight_decay should be >= 0 but is: {weight_decay}")
        super().__init__(params, dict(lr=lr, beta2_decay=beta2_decay, eps=tuple(eps), d=d,
                                      weight_decay=weight_decay, foreach=foreach,
                                      maximize=maximize))

    def _step_group(self, group: dict[str, Any]) -> None:
        lr, d, weight_decay = float(group["lr"]), float(group["d"]), float(group["weight_decay"])
        eps1, eps2 = group["eps"]
        for param, grad, state in self._params_with_grad(group, apply_maximize=True):
            xp = backend.xp(param)
            if not state:
                _start(state, grad, xp)
            state["step"] += 1
            step = state["step"]
            floor = numpy.finfo(param.dtype).eps if eps1 is None else eps1
            new_weight = step ** group["beta2_decay"]
            alpha = max(eps2, _rms(param, xp)) * min(lr, 1 / math.sqrt(step))
            if weight_decay != 0:
                param *= 1 - lr * weight_decay
            if grad.ndim > 1:
                row_var, col_var = state["row_var"].array, state["col_var"].array
                _lerp_(row_var, (grad * grad).mean(-1, keepdims=True), new_weight)
                _lerp_(col_var, (grad * grad).mean(-2, keepdims=True), new_weight)
                variance = row_var @ col_var / xp.maximum(row_var.mean(-2, keepdims=True),
                                                          floor)
            else:
                _lerp_(state["variance"].array, grad * grad, new_weight)
                variance = state["variance"].array
            update = grad / xp.sqrt(xp.maximum(variance, floor * floor))
            param -= alpha / max(1.0, _rms(update, xp) / d) * update


def _start(state: dict, grad, xp) -> None:
    """Step 0 and the zero second moment: factored for a matrix, full for a vector."""
    state["step"] = 0.0
    if grad.ndim > 1:
        state["row_var"] = Tensor._wrap(xp.zeros((*grad.shape[:-1], 1), dtype=grad.dtype))
        state["col_var"] = Tensor._wrap(xp.zeros((*grad.shape[:-2], 1, grad.shape[-1]),
                                                 dtype=grad.dtype))
    else:
        state["variance"] = Tensor._wrap(xp.zeros_like(grad))


def _rms(array, xp) -> float:
    """√(mean of squares), the scale of a parameter or an update."""
    return float(xp.sqrt(xp.sum(array * array))) / math.sqrt(max(array.size, 1))
