"""Adamax: Adam with the infinity norm in place of the root-mean-square.

    g   <- grad (+ weight_decay * p)                      (negated when maximize)
    m   <- beta1 * m + (1 - beta1) * g                    (exp_avg)
    u   <- max(beta2 * u, |g| + eps)                      (exp_inf)
    p   <- p - lr / (1 - beta1^t) * m / u
"""
from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from .. import backend
from .optimizer import Optimizer, _count_step, _lerp_


class Adamax(Optimizer):
    def __init__(self, params: Iterable, lr: float = 2e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0, foreach: bool | None = None, *,
                 maximize: bool = False, differentiable: bool = False,
                 capturable: bool = False) -> None:
        _check_adam_like(lr, betas, eps, weight_decay)
        super().__init__(params, dict(lr=lr, betas=tuple(betas), eps=eps,
                                      weight_decay=weight_decay, foreach=foreach,
                                      maximize=maximize, differentiable=differentiable,
                                      capturable=capturable))

    def _step_group(self, group: dict[str, Any]) -> None:
        lr, eps = float(group["lr"]), float(group["eps"])
        beta1, beta2 = (float(b) for b in group["betas"])
        weight_decay = float(group["weight_decay"])
        for param, grad, state in self._params_with_grad(group, apply_maximize=True):
            xp = backend.xp(param)
            step = _count_step(state, param, "exp_avg", "exp_inf")
            if weight_decay != 0:
                grad = grad + weight_decay * param
            exp_avg, exp_inf = state["exp_avg"].array, state["exp_inf"].array
            _lerp_(exp_avg, grad, 1 - beta1)                   # m <- b1 m + (1-b1) g
            exp_inf *= beta2
            xp.maximum(exp_inf, xp.abs(grad) + eps, out=exp_inf)   # u <- max(b2 u, |g|+eps)
            param -= lr / (1 - beta1 ** step) * exp_avg / exp_inf


def _check_adam_like(lr, betas, eps, weight_decay) -> None:
    """The argument checks torch.optim makes for the Adam family."""
    if not 0.0 <= lr:
        raise ValueError(f"Invalid learning rate: {lr}")
    if not 0.0 <= eps:
        raise ValueError(f"Invalid epsilon value: {eps}")
    for i, beta in enumerate(betas):
        if not 0.0 <= beta < 1.0:
            raise ValueError(f"Invalid beta parameter at index {i}: {beta}")
    if not 0.0 <= weight_decay:
        raise ValueError(f"Invalid weight_decay value: {weight_decay}")
