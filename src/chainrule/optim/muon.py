"""Muon (Jordan et al., 2024), as PyTorch 2.13's torch.optim.Muon: momentum SGD for 2-D
weight matrices whose step is the momentum *orthogonalised*, pushed towards U Vᵀ of its
SVD U S Vᵀ by a few Newton-Schulz iterations, so that every direction moves by a similar
amount:

    B <- B + (1 - μ)(g - B)                        (momentum_buffer, a running mean)
    M = g + μ (B - g) if nesterov else B
    O = NS(M):  X = M / max(‖M‖, eps);  k times:  A = X Xᵀ;  X <- a X + (b A + c A²) X
    p <- p (1 - lr · weight_decay);  p <- p - lr · s · O,
    s = √max(1, rows/cols) ("original") or 0.2 √max(rows, cols) ("match_rms_adamw")

(X is transposed first when it has more rows than columns, so X Xᵀ is the small Gram
matrix.) PyTorch runs the iteration in bfloat16; NumPy has none, so it runs here in the
parameter's dtype: the same update up to bfloat16's rounding.
"""
from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

from .. import backend
from ..tensor import Tensor
from .optimizer import Optimizer, _lerp_

NS_COEFFICIENTS = (3.4445, -4.7750, 2.0315)   # chosen to raise the slope at zero fast


class Muon(Optimizer):
    def __init__(self, params: Iterable, lr: float = 1e-3, weight_decay: float = 0.1,
                 momentum: float = 0.95, nesterov: bool = True,
                 ns_coefficients: tuple = NS_COEFFICIENTS, eps: float = 1e-7,
                 ns_steps: int = 5, adjust_lr_fn: str | None = None) -> None:
        if not 0.0 <= lr:
            raise ValueError(f"Learning rate should be >= 0 but is: {lr}")
        if not 0.0 <= momentum:
            raise ValueError(f"momentum should be >= 0 but is: {momentum}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"weight decay should be >= 0 but is: {weight_decay}")
        if adjust_lr_fn not in (None, "original", "match_rms_adamw"):
            raise ValueError(f"Adjust learning rate function {adjust_lr_fn} is not supported")
        if len(ns_coefficients) != 3 or ns_steps >= 100:
            raise ValueError(f"Muon: ns_coefficients must be 3 numbers and ns_steps below "
                             f"100, got {ns_coefficients} and {ns_steps}")
        super().__init__(params, dict(lr=lr, weight_decay=weight_decay, momentum=momentum,
                                      nesterov=nesterov, ns_coefficients=ns_coefficients,
                                      eps=eps, ns_steps=ns_steps, adjust_lr_fn=adjust_lr_fn))
        for group in self.param_groups:
            for p in group["params"]:
                if p.ndim != 2:
                    raise ValueError(f"Muon only supports 2D parameters whereas we found a "
                                     f"parameter with size: {tuple(p.shape)}")

    def _step_group(self, group: dict[str, Any]) -> None:
        lr, momentum = float(group["lr"]), float(group["momentum"])
        for param, grad, state in self._params_with_grad(group):
            xp = backend.xp(param)
            if "momentum_buffer" not in state:
                state["momentum_buffer"] = Tensor._wrap(xp.zeros_like(grad))
            buffer = state["momentum_buffer"].array
            _lerp_(buffer, grad, 1 - momentum)
            if group["nesterov"]:
                direction = grad.copy()
                _lerp_(direction, buffer, momentum)
            else:
                direction = buffer
            update = orthogonalise(direction, group["ns_coefficients"], group["ns_steps"],
                                   group["eps"])
            param *= 1 - lr * group["weight_decay"]
            param -= _adjusted_lr(lr, group["adjust_lr_fn"], param.shape) * update


def orthogonalise(matrix, coefficients: tuple, steps: int, eps: float):
    """Newton-Schulz: the quintic iteration X <- a X + (b A + c A²) X, A = X Xᵀ, from
    X = M / ‖M‖ (singular values in (0, 1]) moves every singular value near 1."""
    a, b, c = coefficients
    xp = backend.xp(matrix)
    tall = matrix.shape[0] > matrix.shape[1]
    x = matrix.T if tall else matrix
    x = x / max(float(xp.linalg.norm(x)), eps)
    for _ in range(steps):
        gram = x @ x.T
        x = a * x + (b * gram + c * gram @ gram) @ x
    return x.T if tall else x


def _adjusted_lr(lr: float, rule: str | None, shape: tuple) -> float:
    rows, cols = shape[:2]
    if rule == "match_rms_adamw":
        return lr * 0.2 * math.sqrt(max(rows, cols))
    return lr * math.sqrt(max(1, rows / cols))
