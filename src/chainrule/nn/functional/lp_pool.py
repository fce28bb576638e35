"""Power-average pooling: `lp_pool1d/2d/3d`, the p-norm of each window.

    out = (Σ_window x^p)^(1/p) = (k · avg_pool(x^p))^(1/p)        (k = the window's size)

As in PyTorch, x^p is not |x|^p (odd p keeps signs), and a negative window sum is sent to
0 before the root (sign(s)·relu(|s|)); ceil_mode windows that overhang the input sum only
what they cover. The gradient is the average pool's, through the powers.
"""
from __future__ import annotations

import math

from ...composites.functions import abs, relu  # noqa: A004
from ...tensor import Tensor
from .pooling import _tuple, avg_pool1d, avg_pool2d
from .pooling3d import avg_pool3d

__all__ = ["lp_pool1d", "lp_pool2d", "lp_pool3d"]


def lp_pool1d(input: Tensor, norm_type: float, kernel_size, stride=None,  # noqa: A002
              ceil_mode: bool = False) -> Tensor:
    """The p-norm of each window of input (N, C, L) or (C, L)."""
    return _lp_pool(avg_pool1d, input, norm_type, kernel_size, stride, ceil_mode, 1,
                    "lp_pool1d")


def lp_pool2d(input: Tensor, norm_type: float, kernel_size, stride=None,  # noqa: A002
              ceil_mode: bool = False) -> Tensor:
    """The p-norm of each window of input (N, C, H, W) or (C, H, W)."""
    return _lp_pool(avg_pool2d, input, norm_type, kernel_size, stride, ceil_mode, 2,
                    "lp_pool2d")


def lp_pool3d(input: Tensor, norm_type: float, kernel_size, stride=None,  # noqa: A002
              ceil_mode: bool = False) -> Tensor:
    """The p-norm of each window of input (N, C, D, H, W) or (C, D, H, W)."""
    return _lp_pool(avg_pool3d, input, norm_type, kernel_size, stride, ceil_mode, 3,
                    "lp_pool3d")


def _lp_pool(average, input, norm_type, kernel_size, stride, ceil_mode, nd, where):  # noqa: A002
    kernel = _tuple(kernel_size, nd, "kernel_size", where, 1)
    if stride is None:
        stride = kernel
    mean = average(input ** norm_type, kernel, stride, 0, ceil_mode)
    window_sum = mean.sign() * relu(abs(mean)) * math.prod(kernel)
    return window_sum ** (1.0 / norm_type)
