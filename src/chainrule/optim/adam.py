"""Adam and AdamW: steps scaled by running averages of the gradient and its square.

    g   <- grad (+ weight_decay * p, Adam's L2 penalty)   (negated when maximize)
    p   <- p * (1 - lr * weight_decay)                    (AdamW's decoupled decay instead)
    m   <- beta1 * m + (1 - beta1) * g                    (first moment)
    v   <- beta2 * v + (1 - beta2) * g^2                  (second moment)
    v^  <- max(v^, v)                                     (amsgrad only; then used for v)
    p   <- p - lr / (1 - beta1^t) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps)
"""
from __future__ import annotations

import functools
from collections.abc import Iterable
from typing import Any

from .. import backend
from ..kernels.update import in_blocks
from . import fused
from .optimizer import Optimizer, _lerp_, _zeros_state


class Adam(Optimizer):
    def __init__(self, params: Iterable, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 0, amsgrad: bool = False, *,
                 foreach: bool | None = None, maximize: bool = False, capturable: bool = False,
                 differentiable: bool = False, fused: bool | None = None,
                 decoupled_weight_decay: bool = False) -> None:
        if not 0.0 <= lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 <= eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        if not 0.0 <= betas[0] < 1.0:
            raise ValueError(f"Invalid beta parameter at index 0: {betas[0]}")
        if not 0.0 <= betas[1] < 1.0:
            raise ValueError(f"Invalid beta parameter at index 1: {betas[1]}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        defaults = dict(lr=lr, betas=(float(betas[0]), float(betas[1])), eps=eps,
                        weight_decay=weight_decay, amsgrad=amsgrad, maximize=maximize,
                        foreach=foreach, capturable=capturable, differentiable=differentiable,
                        fused=fused, decoupled_weight_decay=decoupled_weight_decay)
        super().__init__(params, defaults)

    def _step_group(self, group: dict[str, Any]) -> None:
        lr = float(group["lr"])
        beta1, beta2 = (float(b) for b in group["betas"])
        eps = float(group["eps"])
        weight_decay = float(group["weight_decay"])
        amsgrad = group["amsgrad"]
        maximize = group["maximize"]
        decoupled = group["decoupled_weight_decay"]
        items = list(self._params_with_grad(group))
        if not amsgrad and fused.adam(items, lr, beta1, beta2, eps, weight_decay, decoupled,
                                      maximize):
            return  # on a GPU: one kernel per dtype
        for param, grad, state in items:
            if len(state) == 0:
                state["step"] = 0.0
                state["exp_avg"] = _zeros_state(param)
                state["exp_avg_sq"] = _zeros_state(param)
                if amsgrad:
                    state["max_exp_avg_sq"] = _zeros_state(param)
            state["step"] += 1
            names = ("exp_avg", "exp_avg_sq") + (("max_exp_avg_sq",) if amsgrad else ())
            moments = [state[name].array for name in names]
            # every operation of the rule is element-wise: run it on blocks of the arrays
            rule = functools.partial(_update, lr=lr, beta1=beta1, beta2=beta2, eps=eps,
                                     weight_decay=weight_decay, decoupled=decoupled,
                                     maximize=maximize, step=state["step"])
            in_blocks(rule, param, grad, *moments)


def _update(param, grad, exp_avg, exp_avg_sq, max_sq=None, *, lr, beta1, beta2, eps,
            weight_decay, decoupled, maximize, step) -> None:
    """One Adam step of the arrays, in place (with amsgrad, `max_sq` holds max v)."""
    xp = backend.xp(param)
    if maximize:
        grad = -grad
    if weight_decay != 0:
        if decoupled:
            param *= 1 - lr * weight_decay                 # shrink p, outside m and v
        else:
            grad = grad + weight_decay * param             # L2 penalty through m and v

    _lerp_(exp_avg, grad, 1 - beta1)                       # m <- b1 m + (1-b1) g
    g2 = grad * grad
    g2 *= 1 - beta2
    exp_avg_sq *= beta2
    exp_avg_sq += g2                                       # v <- b2 v + (1-b2) g^2

    bias_correction1 = 1 - beta1 ** step
    bias_correction2 = 1 - beta2 ** step
    step_size = lr / bias_correction1
    if max_sq is not None:
        xp.maximum(max_sq, exp_avg_sq, out=max_sq)
        denom = xp.sqrt(max_sq, out=xp.empty_like(max_sq))
    else:
        denom = xp.sqrt(exp_avg_sq, out=xp.empty_like(exp_avg_sq))
    denom /= bias_correction2 ** 0.5
    denom += eps
    xp.divide(exp_avg, denom, out=denom)                   # the update direction m^/sqrt(v^)
    denom *= step_size
    param -= denom


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov & Hutter): the decay shrinks the
    weights directly instead of passing through the moment estimates."""

    def __init__(self, params: Iterable, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 1e-2, amsgrad: bool = False, *,
                 foreach: bool | None = None, maximize: bool = False, capturable: bool = False,
                 differentiable: bool = False, fused: bool | None = None) -> None:
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, maximize=maximize,
                         foreach=foreach, capturable=capturable, differentiable=differentiable,
                         fused=fused, decoupled_weight_decay=True)

    def _fix_loaded_groups(self) -> None:
        super()._fix_loaded_groups()
        for group in self.param_groups:
            group["decoupled_weight_decay"] = True
