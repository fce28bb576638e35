"""Activation functions: the nonlinearities between layers, and softmax over classes.

`inplace=True` overwrites the input with the result and returns it, as PyTorch does
(nn/functional/inplace_option.py).
"""
from __future__ import annotations

import warnings

from ...composites import functions
from ...ops import elementwise as ew
from ...ops.activation import Gelu, GeluTanh, LeakyRelu, LogSigmoid
from ...ops.softmax import LogSoftmax, Softmax
from ...tensor import Tensor
from .inplace_option import honours_inplace

__all__ = ["relu", "leaky_relu", "gelu", "tanh", "sigmoid", "logsigmoid", "softmax",
           "log_softmax"]


@honours_inplace
def relu(input: Tensor, inplace: bool = False) -> Tensor:  # noqa: A002 - PyTorch's names
    """max(x, 0)."""
    return ew.Relu.apply(input)


@honours_inplace
def leaky_relu(input: Tensor, negative_slope: float = 0.01,  # noqa: A002
               inplace: bool = False) -> Tensor:
    """x for x > 0, negative_slope·x otherwise."""
    return LeakyRelu.apply(_floating(input, "leaky_relu"), negative_slope=float(negative_slope))


def gelu(input: Tensor, approximate: str = "none") -> Tensor:  # noqa: A002
    """x·Φ(x) (Φ the standard normal CDF), or its tanh approximation with
    approximate='tanh'."""
    input = _floating(input, "gelu")
    if approximate == "none":
        return Gelu.apply(input)
    if approximate == "tanh":
        return GeluTanh.apply(input)
    raise ValueError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")


def tanh(input: Tensor) -> Tensor:  # noqa: A002
    """(e^x - e^-x) / (e^x + e^-x)."""
    return functions.tanh(input)


def sigmoid(input: Tensor) -> Tensor:  # noqa: A002
    """1 / (1 + e^-x)."""
    return functions.sigmoid(input)


def logsigmoid(input: Tensor) -> Tensor:  # noqa: A002
    """log σ(x), exact for large |x| (no overflow, no log of 0)."""
    return LogSigmoid.apply(_floating(input, "logsigmoid"))


def softmax(input: Tensor, dim: int | None = None, _stacklevel: int = 3,  # noqa: A002
            dtype=None) -> Tensor:
    """e^x / Σ e^x along `dim`: non-negative, summing to 1 along `dim`."""
    dim = _softmax_dim("softmax", input.ndim, dim, _stacklevel)
    return Softmax.apply(_with_dtype(input, dtype, "softmax"), dim=dim)


def log_softmax(input: Tensor, dim: int | None = None, _stacklevel: int = 3,  # noqa: A002
                dtype=None) -> Tensor:
    """x - log Σ e^x along `dim` (the log of softmax, computed without overflow)."""
    dim = _softmax_dim("log_softmax", input.ndim, dim, _stacklevel)
    return LogSoftmax.apply(_with_dtype(input, dtype, "log_softmax"), dim=dim)


def _softmax_dim(name: str, ndim: int, dim, stacklevel: int) -> int:
    """PyTorch's legacy choice when `dim` is left out (with its warning)."""
    if dim is not None:
        if not -max(ndim, 1) <= dim < max(ndim, 1):
            raise IndexError(f"{name}: dim {dim} is out of range for a tensor with {ndim} "
                             "dimensions")
        return dim
    warnings.warn(f"Implicit dimension choice for {name} has been deprecated. Change the "
                  "call to include dim=X as an argument.", stacklevel=stacklevel)
    return 0 if ndim in (0, 1, 3) else 1


def _with_dtype(input: Tensor, dtype, name: str) -> Tensor:
    if dtype is not None:
        return functions.cast(input, dtype)
    return _floating(input, name)


def _floating(input: Tensor, name: str) -> Tensor:
    if not isinstance(input, Tensor):
        raise TypeError(f"{name}: expected a Tensor, got {type(input).__name__}")
    if input.dtype.kind != "f":
        raise TypeError(f"{name}: needs a floating point tensor, got {input.dtype} "
                        "(convert with .float())")
    return input
