"""Adagrad: each coordinate's step shrinks with the sum of its squared gradients so far.

    g   <- grad (+ weight_decay * p)                     (negated when maximize)
    lr' <- lr / (1 + (t - 1) * lr_decay)
    s   <- s + g^2                                       (sum, starts at initial_accumulator_value)
    p   <- p - lr' * g / (sqrt(s) + eps)
"""
from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from .. import backend
from ..tensor import Tensor
from .optimizer import Optimizer


class Adagrad(Optimizer):
    def __init__(self, params: Iterable, lr: float = 1e-2, lr_decay: float = 0,
                 weight_decay: float = 0, initial_accumulator_value: float = 0,
                 eps: float = 1e-10, foreach: bool | None = None, *, maximize: bool = False,
                 differentiable: bool = False, fused: bool | None = None) -> None:
        if not 0.0 <= lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 <= lr_decay:
            raise ValueError(f"Invalid lr_decay value: {lr_decay}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        if not 0.0 <= initial_accumulator_value:
            raise ValueError(f"Invalid initial_accumulator_value value: {initial_accumulator_value}")
        if not 0.0 <= eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        defaults = dict(lr=lr, lr_decay=lr_decay, eps=eps, weight_decay=weight_decay,
                        initial_accumulator_value=initial_accumulator_value, foreach=foreach,
                        maximize=maximize, differentiable=differentiable, fused=fused)
        super().__init__(params, defaults)
        # As in PyTorch, the accumulators exist from the start (so they are in state_dict()
        # before the first step), filled with the constructor's initial_accumulator_value.
        for group in self.param_groups:
            for p in group["params"]:
                self._init_state(self.state[p], p.array)

    def _init_state(self, state: dict, param) -> None:
        state["step"] = 0.0
        state["sum"] = Tensor._wrap(backend.xp(param).full_like(
            param, float(self.defaults["initial_accumulator_value"])))

    def _step_group(self, group: dict[str, Any]) -> None:
        lr = float(group["lr"])
        lr_decay = float(group["lr_decay"])
        eps = float(group["eps"])
        weight_decay = float(group["weight_decay"])
        maximize = group["maximize"]
        self._refuse_sparse_with("weight_decay", weight_decay, group)
        # A zero gradient row leaves both its sum and its parameters as they are, so a
        # row-sparse gradient can be taken densely (the same numbers as PyTorch's row rule).
        for param, grad, state in self._params_with_grad(group, sparse="dense"):
            xp = backend.xp(param)
            if maximize:
                grad = -grad
            if len(state) == 0:                      # a group added after construction
                self._init_state(state, param)
            state["step"] += 1
            step = state["step"]

            if weight_decay != 0:
                grad = grad + weight_decay * param

            clr = lr / (1 + (step - 1) * lr_decay)
            state_sum = state["sum"].array
            state_sum += grad * grad                 # s <- s + g^2
            std = xp.sqrt(state_sum, out=xp.empty_like(state_sum))
            std += eps
            xp.divide(grad, std, out=std)
            std *= clr
            param -= std
