"""RAdam: Adam whose adaptive step is switched on, and scaled, only once the variance of
its second-moment estimate is bounded (Liu et al.); before that, plain momentum.

    g     <- grad (+ weight_decay * p, or p shrunk by lr * weight_decay when decoupled)
    m, v  as in Adam;   m^ <- m / (1 - beta1^t)
    rho_inf <- 2 / (1 - beta2) - 1;   rho_t <- rho_inf - 2 t beta2^t / (1 - beta2^t)
    rho_t > 5:  r <- sqrt((rho_t-4)(rho_t-2) rho_inf / ((rho_inf-4)(rho_inf-2) rho_t))
                p <- p - lr * m^ * r * sqrt(1 - beta2^t) / (sqrt(v) + eps)
    otherwise:  p <- p - lr * m^
"""
from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from .. import backend
from .adamax import _check_adam_like
from .optimizer import Optimizer, _count_step, _lerp_


class RAdam(Optimizer):
    def __init__(self, params: Iterable, lr: float = 1e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0, decoupled_weight_decay: bool = False, *,
                 foreach: bool | None = None, maximize: bool = False,
                 capturable: bool = False, differentiable: bool = False) -> None:
        _check_adam_like(lr, betas, eps, weight_decay)
        super().__init__(params, dict(lr=lr, betas=tuple(betas), eps=eps,
                                      weight_decay=weight_decay, maximize=maximize,
                                      foreach=foreach, capturable=capturable,
                                      decoupled_weight_decay=decoupled_weight_decay,
                                      differentiable=differentiable))

    def _step_group(self, group: dict[str, Any]) -> None:
        lr, eps = float(group["lr"]), float(group["eps"])
        beta1, beta2 = (float(b) for b in group["betas"])
        weight_decay = float(group["weight_decay"])
        rho_inf = 2 / (1 - beta2) - 1
        for param, grad, state in self._params_with_grad(group, apply_maximize=True):
            xp = backend.xp(param)
            step = _count_step(state, param, "exp_avg", "exp_avg_sq")
            if weight_decay != 0:
                if group["decoupled_weight_decay"]:
                    param *= 1 - lr * weight_decay
                else:
                    grad = grad + weight_decay * param
            exp_avg, exp_avg_sq = state["exp_avg"].array, state["exp_avg_sq"].array
            _lerp_(exp_avg, grad, 1 - beta1)
            exp_avg_sq *= beta2
            exp_avg_sq += (1 - beta2) * grad * grad
            corrected = exp_avg / (1 - beta1 ** step)
            bias_correction2 = 1 - beta2 ** step
            rho_t = rho_inf - 2 * step * beta2 ** step / bias_correction2
            if rho_t > 5.0:
                rect = ((rho_t - 4) * (rho_t - 2) * rho_inf
                        / ((rho_inf - 4) * (rho_inf - 2) * rho_t)) ** 0.5
                adaptive = bias_correction2 ** 0.5 / (xp.sqrt(exp_avg_sq) + eps)
                param -= corrected * lr * adaptive * rect
            else:
                param -= corrected * lr
