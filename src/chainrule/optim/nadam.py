"""NAdam: Adam with Nesterov momentum (Dozat), the momentum warmed up over the steps.

    g    <- grad (+ weight_decay * p, or p shrunk by lr * weight_decay when decoupled)
    mu_t <- beta1 * (1 - 0.5 * 0.96^(t * momentum_decay))       (mu_{t+1} likewise)
    P    <- P * mu_t                                            (mu_product)
    m    <- beta1 * m + (1 - beta1) * g;   v <- beta2 * v + (1 - beta2) * g^2
    d    <- sqrt(v / (1 - beta2^t)) + eps
    p    <- p - lr * (1 - mu_t) / (1 - P) * g / d - lr * mu_{t+1} / (1 - P mu_{t+1}) * m / d
"""
from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from .. import backend
from .adamax import _check_adam_like
from .optimizer import Optimizer, _count_step, _lerp_, _scalar_dtype, _scalar_state


class NAdam(Optimizer):
    def __init__(self, params: Iterable, lr: float = 2e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0, momentum_decay: float = 4e-3,
                 decoupled_weight_decay: bool = False, *, foreach: bool | None = None,
                 maximize: bool = False, capturable: bool = False,
                 differentiable: bool = False) -> None:
        _check_adam_like(lr, betas, eps, weight_decay)
        if not 0.0 <= momentum_decay:
            raise ValueError(f"Invalid momentum_decay value: {momentum_decay}")
        super().__init__(params, dict(lr=lr, betas=tuple(betas), eps=eps,
                                      weight_decay=weight_decay, momentum_decay=momentum_decay,
                                      decoupled_weight_decay=decoupled_weight_decay,
                                      maximize=maximize, foreach=foreach,
                                      capturable=capturable, differentiable=differentiable))

    def _step_group(self, group: dict[str, Any]) -> None:
        lr, eps = float(group["lr"]), float(group["eps"])
        beta1, beta2 = (float(b) for b in group["betas"])
        weight_decay, decay = float(group["weight_decay"]), float(group["momentum_decay"])
        for param, grad, state in self._params_with_grad(group, apply_maximize=True):
            xp = backend.xp(param)
            step = _count_step(state, param, "exp_avg", "exp_avg_sq")
            if step == 1:
                state["mu_product"] = _scalar_state(1.0)
            if weight_decay != 0:
                if group["decoupled_weight_decay"]:
                    param *= 1 - lr * weight_decay
                else:
                    grad = grad + weight_decay * param
            mu = beta1 * (1.0 - 0.5 * 0.96 ** (step * decay))
            mu_next = beta1 * (1.0 - 0.5 * 0.96 ** ((step + 1) * decay))
            kind = _scalar_dtype().type                        # PyTorch's precision for P
            state["mu_product"] = _scalar_state(kind(state["mu_product"].array) * kind(mu))
            product = float(state["mu_product"].array)
            exp_avg, exp_avg_sq = state["exp_avg"].array, state["exp_avg_sq"].array
            _lerp_(exp_avg, grad, 1 - beta1)
            exp_avg_sq *= beta2
            exp_avg_sq += (1 - beta2) * grad * grad
            denom = xp.sqrt(exp_avg_sq / (1 - beta2 ** step)) + eps
            param -= lr * (1 - mu) / (1 - product) * grad / denom
            param -= lr * mu_next / (1 - product * mu_next) * exp_avg / denom
