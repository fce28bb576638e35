"""Dropout of whole channels (dropout1d/2d/3d: one draw per (sample, channel), zeroing a
whole feature map), and alpha dropout, which keeps SELU activations' mean and variance
by setting dropped units to SELU's negative saturation value instead of 0."""
from __future__ import annotations

import math
import warnings

from ... import backend
from ...tensor import Tensor
from .dropout import _uniform
from .inplace_option import honours_inplace
from .smooth import SELU_ALPHA, SELU_SCALE

__all__ = ["dropout1d", "dropout2d", "dropout3d", "alpha_dropout", "feature_alpha_dropout"]

SATURATION = -SELU_ALPHA * SELU_SCALE       # SELU's limit as x -> -inf


def _check(p: float, name: str) -> None:
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"{name}: dropout probability has to be between 0 and 1, but got {p}")


def _channel_mask_shape(input: Tensor, name: str) -> tuple:  # noqa: A002
    """One draw per (sample, channel), PyTorch's rules for which dims those are:
    dropout1d takes (N, C, L) or unbatched (C, L); dropout3d (N, C, D, H, W) or unbatched
    (C, D, H, W); dropout2d always reads the first two dims as (N, C), also for 3-D input
    (PyTorch's historical 1-D behaviour), warning as PyTorch does outside 3-D and 4-D."""
    ndim = input.ndim
    if name == "dropout1d":
        if ndim not in (2, 3):
            raise RuntimeError(f"dropout1d: Expected 2D or 3D input, but received a {ndim}D "
                               f"input of shape {tuple(input.shape)}")
        batched = ndim == 3
    elif name == "dropout3d":
        if ndim not in (4, 5):
            warnings.warn(f"dropout3d: Received a {ndim}-D input to dropout3d, which is "
                          "deprecated and will result in an error in a future release",
                          stacklevel=4)
        batched = ndim != 4
    else:
        if ndim not in (3, 4):
            warnings.warn(f"dropout2d: Received a {ndim}-D input to dropout2d, which is "
                          "deprecated and will result in an error in a future release",
                          stacklevel=4)
        batched = True
    if ndim < 2:
        raise RuntimeError(f"{name}: Expected an input with a channel dimension, got shape "
                           f"{tuple(input.shape)}")
    channel_dims = 2 if batched else 1
    return tuple(input.shape[:channel_dims]) + (1,) * (ndim - channel_dims)


def _channel_dropout(input: Tensor, p: float, training: bool, name: str) -> Tensor:  # noqa: A002
    """y = x · m / (1 - p) with one Bernoulli(1 - p) draw m per channel."""
    _check(p, name)
    if not training or p == 0.0:
        return input
    data = input.array
    shape = _channel_mask_shape(input, name)
    if p == 1.0:
        return input * 0.0
    mask = (_uniform(backend.xp(data).empty(shape, dtype=data.dtype)) >= p).astype(data.dtype)
    mask *= data.dtype.type(1.0 / (1.0 - p))
    return input * Tensor._wrap(mask)


@honours_inplace
def dropout1d(input: Tensor, p: float = 0.5, training: bool = True,  # noqa: A002
              inplace: bool = False) -> Tensor:
    """Zero whole channels of (N, C, L) or (C, L) with probability p, scale the rest."""
    return _channel_dropout(input, p, training, "dropout1d")


@honours_inplace
def dropout2d(input: Tensor, p: float = 0.5, training: bool = True,  # noqa: A002
              inplace: bool = False) -> Tensor:
    """Zero whole feature maps of (N, C, H, W) with probability p (dims 0 and 1 are
    always (N, C), as in PyTorch)."""
    return _channel_dropout(input, p, training, "dropout2d")


@honours_inplace
def dropout3d(input: Tensor, p: float = 0.5, training: bool = True,  # noqa: A002
              inplace: bool = False) -> Tensor:
    """Zero whole channels of (N, C, D, H, W) or (C, D, H, W) with probability p."""
    return _channel_dropout(input, p, training, "dropout3d")


def _alpha(input: Tensor, p: float, training: bool, mask_shape: tuple) -> Tensor:  # noqa: A002
    """Kept units a·x + b, dropped ones a·s + b (s the SELU saturation), with a, b chosen
    so that a zero-mean unit-variance input keeps mean 0 and variance 1."""
    if not training or p == 0.0:
        return input
    if p == 1.0:
        return input * 0.0
    data = input.array
    keep = (_uniform(backend.xp(data).empty(mask_shape, dtype=data.dtype)) >= p)
    keep = keep.astype(data.dtype)
    a = 1.0 / math.sqrt((SATURATION ** 2 * p + 1) * (1 - p))
    b = -a * SATURATION * p
    shift = (1 - keep) * (a * SATURATION) + b                 # a·s for dropped, + b for all
    return input * Tensor._wrap(keep * a) + Tensor._wrap(shift.astype(data.dtype))


@honours_inplace
def alpha_dropout(input: Tensor, p: float = 0.5, training: bool = False,  # noqa: A002
                  inplace: bool = False) -> Tensor:
    """Dropout for self-normalising (SELU) networks, per element."""
    _check(p, "alpha_dropout")
    return _alpha(input, p, training, tuple(input.shape))


@honours_inplace
def feature_alpha_dropout(input: Tensor, p: float = 0.5, training: bool = False,  # noqa: A002
                          inplace: bool = False) -> Tensor:
    """Alpha dropout of whole channels (dim 1) of a batched input."""
    _check(p, "feature_alpha_dropout")
    shape = tuple(input.shape[:2]) + (1,) * (input.ndim - 2)
    return _alpha(input, p, training, shape)
