"""Stochastic gradient descent, optionally with (Nesterov) momentum and weight decay.

    g  <- grad (+ weight_decay * p)                  (negated when maximize)
    b  <- g                                          on the first step, then
    b  <- momentum * b + (1 - dampening) * g         (the momentum buffer)
    g  <- g + momentum * b   (nesterov)   or   g <- b
    p  <- p - lr * g
"""
from __future__ import annotations

import functools
from collections.abc import Iterable
from typing import Any

from .. import backend
from ..kernels.update import add_scaled_, in_blocks
from ..sparse import RowSparseTensor
from ..tensor import Tensor
from . import fused
from .optimizer import Optimizer


class SGD(Optimizer):
    def __init__(self, params: Iterable, lr: float = 1e-3, momentum: float = 0,
                 dampening: float = 0, weight_decay: float = 0, nesterov: bool = False, *,
                 maximize: bool = False, foreach: bool | None = None,
                 differentiable: bool = False, fused: bool | None = None) -> None:
        if lr < 0.0:
            raise ValueError(f"Invalid learning rate: {lr}")
        if momentum < 0.0:
            raise ValueError(f"Invalid momentum value: {momentum}")
        if weight_decay < 0.0:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")
        defaults = dict(lr=lr, momentum=momentum, dampening=dampening,
                        weight_decay=weight_decay, nesterov=nesterov, maximize=maximize,
                        foreach=foreach, differentiable=differentiable, fused=fused)
        super().__init__(params, defaults)

    def _step_group(self, group: dict[str, Any]) -> None:
        lr = float(group["lr"])
        momentum = float(group["momentum"])
        dampening = float(group["dampening"])
        weight_decay = float(group["weight_decay"])
        nesterov = group["nesterov"]
        maximize = group["maximize"]
        self._refuse_sparse_with("weight_decay", weight_decay, group)
        # Plain SGD moves only the rows of a row-sparse gradient (Embedding(sparse=True));
        # with momentum every row of the buffer moves, so it gets the dense gradient.
        sparse = "rows" if momentum == 0 else "dense"
        items = list(self._params_with_grad(group, with_state=momentum != 0, sparse=sparse))
        if fused.sgd(items, lr, momentum, dampening, weight_decay, nesterov, maximize):
            return  # on a GPU: one kernel per dtype
        for param, grad, state in items:
            if isinstance(grad, RowSparseTensor):
                grad.add_to(param, lr if maximize else -lr)  # p[rows] -= lr · values
                continue
            if maximize:
                grad = -grad
            if weight_decay != 0:
                grad = grad + weight_decay * param        # L2 penalty: d(wd/2 |p|^2)/dp = wd p
            if momentum == 0:
                add_scaled_(param, -lr, grad)             # p -= lr · g, in one pass
            elif "momentum_buffer" not in state:
                # b <- g: a new array (NumPy turns 0-d results into scalars, which can't be
                # updated in place), in the parameter's dtype
                buf = backend.xp(param).array(grad, dtype=param.dtype)
                state["momentum_buffer"] = Tensor._wrap(buf)
                add_scaled_(param, -lr, grad + momentum * buf if nesterov else buf)
            else:  # element-wise: on blocks of the arrays (kernels/update.py)
                in_blocks(functools.partial(_momentum_step, lr=lr, momentum=momentum,
                                            dampening=dampening, nesterov=nesterov),
                          param, grad, state["momentum_buffer"].array)


def _momentum_step(param, grad, buf, *, lr, momentum, dampening, nesterov) -> None:
    """b <- momentum·b + (1 - dampening)·g, then p -= lr·(g + momentum·b or b), in place."""
    buf *= momentum
    buf += grad if dampening == 0 else (1 - dampening) * grad
    param -= lr * (grad + momentum * buf if nesterov else buf)
