"""Rprop: each weight has its own step size, grown while its gradient keeps its sign and
shrunk when the sign flips; only the gradient's sign is used.

    s   <- sign(g * g_prev)
    eta <- clamp(eta * (etaplus if s > 0, etaminus if s < 0, 1 if s = 0), *step_sizes)
    g   <- 0 where s < 0                                  (no step right after a flip)
    p   <- p - sign(g) * eta;   g_prev <- g
"""
from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from .. import backend
from .optimizer import Optimizer, _count_step


class Rprop(Optimizer):
    def __init__(self, params: Iterable, lr: float = 1e-2,
                 etas: tuple[float, float] = (0.5, 1.2),
                 step_sizes: tuple[float, float] = (1e-6, 50), *, capturable: bool = False,
                 foreach: bool | None = None, maximize: bool = False,
                 differentiable: bool = False) -> None:
        if not 0.0 <= lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 < etas[0] < 1.0 < etas[1]:
            raise ValueError(f"Invalid eta values: {etas[0]}, {etas[1]}")
        super().__init__(params, dict(lr=lr, etas=tuple(etas), step_sizes=tuple(step_sizes),
                                      foreach=foreach, maximize=maximize,
                                      differentiable=differentiable, capturable=capturable))

    def _step_group(self, group: dict[str, Any]) -> None:
        etaminus, etaplus = group["etas"]
        low, high = group["step_sizes"]
        for param, grad, state in self._params_with_grad(group, apply_maximize=True):
            xp = backend.xp(param)
            if len(state) == 0:
                _count_step(state, param, "prev", "step_size")
                state["step_size"].array[...] = group["lr"]
            else:
                _count_step(state, param)
            prev, step_size = state["prev"].array, state["step_size"].array
            agree = xp.sign(grad * prev)
            factor = xp.where(agree > 0, etaplus, xp.where(agree < 0, etaminus, 1.0))
            step_size *= factor.astype(step_size.dtype)
            xp.clip(step_size, low, high, out=step_size)
            grad = xp.where(agree < 0, 0, grad)
            param -= xp.sign(grad) * step_size
            prev[...] = grad
