"""RMSprop: divide each step by a running root-mean-square of recent gradients.

    g   <- grad (+ weight_decay * p)                     (negated when maximize)
    v   <- alpha * v + (1 - alpha) * g^2                 (square_avg)
    a   <- alpha * a + (1 - alpha) * g                   (grad_avg, centered only)
    d   <- sqrt(v - a^2) + eps  (centered)   or   sqrt(v) + eps
    b   <- momentum * b + g / d;  p <- p - lr * b        (momentum > 0)
    p   <- p - lr * g / d                                (otherwise)
"""
from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from .. import backend
from .optimizer import Optimizer, _lerp_, _zeros_state


class RMSprop(Optimizer):
    def __init__(self, params: Iterable, lr: float = 1e-2, alpha: float = 0.99, eps: float = 1e-8,
                 weight_decay: float = 0, momentum: float = 0, centered: bool = False,
                 capturable: bool = False, foreach: bool | None = None, maximize: bool = False,
                 differentiable: bool = False) -> None:
        if not 0.0 <= lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 <= eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        if not 0.0 <= momentum:
            raise ValueError(f"Invalid momentum value: {momentum}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        if not 0.0 <= alpha:
            raise ValueError(f"Invalid alpha value: {alpha}")
        defaults = dict(lr=lr, momentum=momentum, alpha=alpha, eps=eps, centered=centered,
                        weight_decay=weight_decay, capturable=capturable, foreach=foreach,
                        maximize=maximize, differentiable=differentiable)
        super().__init__(params, defaults)

    def _step_group(self, group: dict[str, Any]) -> None:
        lr = float(group["lr"])
        alpha = float(group["alpha"])
        eps = float(group["eps"])
        weight_decay = float(group["weight_decay"])
        momentum = float(group["momentum"])
        centered = group["centered"]
        maximize = group["maximize"]
        for param, grad, state in self._params_with_grad(group):
            xp = backend.xp(param)
            if maximize:
                grad = -grad
            if len(state) == 0:
                state["step"] = 0.0
                state["square_avg"] = _zeros_state(param)
                if momentum > 0:
                    state["momentum_buffer"] = _zeros_state(param)
                if centered:
                    state["grad_avg"] = _zeros_state(param)
            state["step"] += 1

            if weight_decay != 0:
                grad = grad + weight_decay * param

            square_avg = state["square_avg"].array
            g2 = grad * grad
            g2 *= 1 - alpha
            square_avg *= alpha
            square_avg += g2                                   # v <- a v + (1-a) g^2
            if centered:
                grad_avg = state["grad_avg"].array
                _lerp_(grad_avg, grad, 1 - alpha)              # running mean of g
                avg = xp.multiply(grad_avg, grad_avg, out=xp.empty_like(square_avg))
                xp.subtract(square_avg, avg, out=avg)          # running variance of g
                xp.sqrt(avg, out=avg)
            else:
                avg = xp.sqrt(square_avg, out=xp.empty_like(square_avg))
            avg += eps

            if momentum > 0:
                buf = state["momentum_buffer"].array
                buf *= momentum
                xp.divide(grad, avg, out=avg)
                buf += avg
                param -= lr * buf
            else:
                xp.divide(grad, avg, out=avg)
                avg *= lr
                param -= avg
