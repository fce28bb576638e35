"""ASGD: SGD with a decaying step size that also keeps a running average of the
parameters (Polyak-Ruppert averaging, `state["ax"]`), the average starting at step t0.

    g   <- grad (+ weight_decay * p)                      (negated when maximize)
    p   <- p * (1 - lambd * eta) - eta * g
    ax  <- ax + mu * (p - ax)                             (ax <- p while mu == 1)
    eta <- lr / (1 + lambd * lr * t)^alpha;   mu <- 1 / max(1, t - t0)
"""
from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from .optimizer import Optimizer, _count_step, _scalar_state


class ASGD(Optimizer):
    def __init__(self, params: Iterable, lr: float = 1e-2, lambd: float = 1e-4,
                 alpha: float = 0.75, t0: float = 1e6, weight_decay: float = 0,
                 foreach: bool | None = None, maximize: bool = False,
                 differentiable: bool = False, capturable: bool = False) -> None:
        if not 0.0 <= lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        super().__init__(params, dict(lr=lr, lambd=lambd, alpha=alpha, t0=t0,
                                      weight_decay=weight_decay, foreach=foreach,
                                      maximize=maximize, differentiable=differentiable,
                                      capturable=capturable))

    def _step_group(self, group: dict[str, Any]) -> None:
        lr, lambd, alpha = float(group["lr"]), float(group["lambd"]), float(group["alpha"])
        t0, weight_decay = float(group["t0"]), float(group["weight_decay"])
        for param, grad, state in self._params_with_grad(group, apply_maximize=True):
            step = _count_step(state, param, "ax")
            if step == 1:
                state.update(eta=_scalar_state(lr), mu=_scalar_state(1.0))
            if weight_decay != 0:
                grad = grad + weight_decay * param
            eta, mu = float(state["eta"].array), float(state["mu"].array)
            param *= 1 - lambd * eta                            # decay
            param -= eta * grad                                 # descend
            ax = state["ax"].array
            if mu != 1:
                ax += (param - ax) * mu                         # running average of p
            else:
                ax[...] = param
            state["eta"] = _scalar_state(lr / (1 + lambd * lr * step) ** alpha)
            state["mu"] = _scalar_state(1 / max(1, step - t0))
