"""Adadelta: a step whose size is the ratio of two running root-mean-squares, so that
the update has the units of the parameter and needs no tuned learning rate.

    g   <- grad (+ weight_decay * p)                      (negated when maximize)
    v   <- rho * v + (1 - rho) * g^2                      (square_avg)
    d   <- sqrt(u + eps) / sqrt(v + eps) * g              (the step, before lr)
    u   <- rho * u + (1 - rho) * d^2                      (acc_delta)
    p   <- p - lr * d
"""
from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from .. import backend
from .optimizer import Optimizer, _count_step


class Adadelta(Optimizer):
    def __init__(self, params: Iterable, lr: float = 1.0, rho: float = 0.9, eps: float = 1e-6,
                 weight_decay: float = 0, foreach: bool | None = None, *,
                 capturable: bool = False, maximize: bool = False,
                 differentiable: bool = False) -> None:
        if not 0.0 <= lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 <= rho <= 1.0:
            raise ValueError(f"Invalid rho value: {rho}")
        if not 0.0 <= eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        super().__init__(params, dict(lr=lr, rho=rho, eps=eps, weight_decay=weight_decay,
                                      maximize=maximize, capturable=capturable,
                                      foreach=foreach, differentiable=differentiable))

    def _step_group(self, group: dict[str, Any]) -> None:
        lr, rho, eps = float(group["lr"]), float(group["rho"]), float(group["eps"])
        weight_decay = float(group["weight_decay"])
        for param, grad, state in self._params_with_grad(group, apply_maximize=True):
            xp = backend.xp(param)
            _count_step(state, param, "square_avg", "acc_delta")
            if weight_decay != 0:
                grad = grad + weight_decay * param
            square_avg = state["square_avg"].array
            acc_delta = state["acc_delta"].array
            square_avg *= rho
            square_avg += (1 - rho) * grad * grad              # v <- rho v + (1-rho) g^2
            delta = xp.sqrt(acc_delta + eps) / xp.sqrt(square_avg + eps) * grad
            acc_delta *= rho
            acc_delta += (1 - rho) * delta * delta             # u <- rho u + (1-rho) d^2
            param -= lr * delta
