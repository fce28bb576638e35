"""Regression and distribution losses: smooth L1 and Huber (quadratic near zero, linear
beyond), the Kullback-Leibler divergence, and the negative log-likelihoods of a Poisson
and of a Gaussian with predicted variance. Composed of existing ops."""
from __future__ import annotations

import math
import warnings

from ...composites import functions
from ...composites.node_names import pytorch_node
from ...tensor import Tensor
from .loss import _as_tensor, _reduce, _same_size_warning, _weighted_reduce, legacy_reduction

__all__ = ["smooth_l1_loss", "huber_loss", "kl_div", "poisson_nll_loss", "gaussian_nll_loss"]


def _quadratic_then_linear(diff: Tensor, knee: float) -> Tensor:
    """0.5 d² / knee for |d| < knee, |d| - 0.5 knee beyond (slope d / knee, then sign d)."""
    size = functions.abs(diff)
    return functions.where(size.array < knee, diff * diff * (0.5 / knee), size - 0.5 * knee)


@pytorch_node("SmoothL1LossBackward0")
def smooth_l1_loss(input: Tensor, target: Tensor, size_average=None,  # noqa: A002
                   reduce=None, reduction: str = "mean", beta: float = 1.0) -> Tensor:
    """Smooth L1: quadratic within `beta` of the target, L1 beyond (beta = 0: plain L1)."""
    reduction = legacy_reduction(size_average, reduce, reduction, "smooth_l1_loss")
    if beta < 0:
        raise ValueError(f"smooth_l1_loss: beta must be non-negative, got {beta}")
    target = _as_tensor(target, input, "smooth_l1_loss")
    _same_size_warning(input, target, "smooth_l1_loss")
    diff = input - target
    loss = functions.abs(diff) if beta == 0 else _quadratic_then_linear(diff, beta)
    return _reduce(loss, reduction)


@pytorch_node("HuberLossBackward0")
def huber_loss(input: Tensor, target: Tensor, reduction: str = "mean",  # noqa: A002
               delta: float = 1.0, weight: Tensor | None = None) -> Tensor:
    """Huber: 0.5 d² for |d| < delta, delta (|d| - 0.5 delta) beyond (= delta · smooth L1
    with beta = delta)."""
    reduction = legacy_reduction(None, None, reduction, "huber_loss")
    if delta <= 0:
        raise ValueError(f"huber_loss: delta must be positive, got {delta}")
    target = _as_tensor(target, input, "huber_loss")
    _same_size_warning(input, target, "huber_loss")
    loss = _quadratic_then_linear(input - target, delta) * delta
    return _weighted_reduce(loss, reduction, weight, input, "huber_loss")


def kl_div(input: Tensor, target: Tensor, size_average=None, reduce=None,  # noqa: A002
           reduction: str = "mean", log_target: bool = False) -> Tensor:
    """KL(target || exp(input)) pointwise: t (log t - x), with input x the log-probabilities
    (0 where t = 0); with `log_target` the target is given as log t. 'batchmean' divides
    the sum by the batch size (the mathematical KL divergence per sample)."""
    if size_average is not None or reduce is not None:
        reduction = legacy_reduction(size_average, reduce, reduction, "kl_div")
    if reduction not in ("mean", "sum", "none", "batchmean"):
        raise ValueError(f"kl_div: {reduction!r} is not a valid value for reduction; use "
                         "'batchmean', 'mean', 'sum' or 'none'")
    if reduction == "mean":
        warnings.warn("reduction: 'mean' divides the total loss by both the batch size and "
                      "the support size.'batchmean' divides only by the batch size, and "
                      "aligns with the KL div math definition.'mean' will be changed to "
                      "behave the same as 'batchmean' in the next major release.",
                      stacklevel=2)
    target = _as_tensor(target, input, "kl_div")
    if log_target:
        loss = functions.exp(target) * (target - input)
    else:
        positive = target.array > 0
        safe = functions.where(positive, target, 1.0)                 # log of 1 is 0
        loss = target * functions.log(safe) - target * input
        loss = functions.where(positive | (target.array != target.array), loss,
                               -target * input)                       # NaN targets stay NaN
    if reduction == "batchmean":
        return loss.sum() / (input.shape[0] if input.ndim else 1)
    return _reduce(loss, reduction)


def poisson_nll_loss(input: Tensor, target: Tensor, log_input: bool = True,  # noqa: A002
                     full: bool = False, size_average=None, eps: float = 1e-8, reduce=None,
                     reduction: str = "mean") -> Tensor:
    """-log P(target | rate) up to a constant: e^x - t x with log_input (x = log rate),
    else x - t log(x + eps); `full` adds Stirling's t log t - t + ½ log(2π t) for t > 1."""
    reduction = legacy_reduction(size_average, reduce, reduction, "poisson_nll_loss")
    target = _as_tensor(target, input, "poisson_nll_loss")
    if log_input:
        loss = functions.exp(input) - target * input
    else:
        loss = input - target * functions.log(input + eps)
    if full:
        above_one = target.array > 1
        t = functions.where(above_one, target, 1.0)
        stirling = t * functions.log(t) - t + functions.log(t * (2 * math.pi)) * 0.5
        loss = loss + functions.where(above_one, stirling, 0.0)
    return _reduce(loss, reduction)


def gaussian_nll_loss(input: Tensor, target: Tensor, var, full: bool = False,  # noqa: A002
                      eps: float = 1e-6, reduction: str = "mean") -> Tensor:
    """½ (log var + (x - t)² / var) (+ ½ log 2π with `full`), the variance predicted with
    the mean; var is clamped to at least eps for the value (not for the gradient, as
    PyTorch does). var has the input's shape, or one dimension less, or a last dim of 1."""
    reduction = legacy_reduction(None, None, reduction, "gaussian_nll_loss")
    var = _as_tensor(var, input, "gaussian_nll_loss")
    if var.shape != input.shape:
        if input.shape[:-1] == var.shape:
            var = var.unsqueeze(-1)
        elif not (input.shape[:-1] == var.shape[:-1] and var.shape[-1] == 1):
            raise ValueError(f"gaussian_nll_loss: var of shape {tuple(var.shape)} does not "
                             f"fit an input of shape {tuple(input.shape)}")
    if (var.array < 0).any():
        raise ValueError("gaussian_nll_loss: var has negative entry/entries")
    var = var + Tensor._wrap(var.array.clip(min=eps) - var.array)      # clamp, gradient 1
    diff = input - target
    loss = (functions.log(var) + diff * diff / var) * 0.5
    if full:
        loss = loss + 0.5 * math.log(2 * math.pi)
    return _reduce(loss, reduction)
