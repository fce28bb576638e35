"""SparseAdam: Adam for row-sparse gradients (`Embedding(sparse=True)`): only the rows
the gradient holds have their moments and values updated ("lazy" Adam).

    for the gradient's rows r:   m[r] <- b1 m[r] + (1 - b1) g[r]
                                 v[r] <- b2 v[r] + (1 - b2) g[r]^2
                                 p[r] <- p[r] - lr sqrt(1 - b2^t) / (1 - b1^t) · m[r] / (sqrt(v[r]) + eps)
"""
from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

from .. import backend
from ..kernels.rows import add_rows, put_rows
from .adamax import _check_adam_like
from .optimizer import Optimizer, _count_step


class SparseAdam(Optimizer):
    def __init__(self, params: Iterable, lr: float = 1e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 maximize: bool = False) -> None:
        _check_adam_like(lr, betas, eps, 0)
        super().__init__(params, dict(lr=lr, betas=tuple(betas), eps=eps, maximize=maximize))

    def _step_group(self, group: dict[str, Any]) -> None:
        lr, eps = float(group["lr"]), float(group["eps"])
        beta1, beta2 = (float(b) for b in group["betas"])
        for param, grad, state in self._params_with_grad(group, sparse="rows"):
            if not hasattr(grad, "indices"):
                raise RuntimeError("SparseAdam does not support dense gradients, please "
                                   "consider Adam instead")
            step = _count_step(state, param, "exp_avg", "exp_avg_sq")
            rows = grad.indices().array.reshape(-1)
            values = grad.values().array
            if group["maximize"]:
                values = -values
            exp_avg, exp_avg_sq = state["exp_avg"].array, state["exp_avg_sq"].array
            # the stored rows alone, gathered once, updated in place, written back
            m = exp_avg.take(rows, axis=0)
            change = values - m
            change *= 1 - beta1
            m += change                                  # m[r] + (g - m[r])(1 - b1)
            v = exp_avg_sq.take(rows, axis=0)
            xp = backend.xp(v)
            xp.multiply(values, values, out=change)
            change -= v
            change *= 1 - beta2
            v += change                                  # v[r] + (g² - v[r])(1 - b2)
            put_rows(exp_avg, rows, m)
            put_rows(exp_avg_sq, rows, v)
            step_size = lr * math.sqrt(1 - beta2 ** step) / (1 - beta1 ** step)
            denom = xp.sqrt(v, out=change)
            denom += eps
            xp.divide(m, denom, out=denom)
            denom *= -step_size
            add_rows(param, rows, denom)                 # p[r] -= step · m / (√v + eps)
