"""Piecewise-linear activations: clipped, thresholded, shrunk and parametric rectifiers.

Each is written with clamp/where/products of existing ops, so its derivative is theirs:
1 on the pieces where the output follows x, the slope on sloped pieces, 0 where flat.
"""
from __future__ import annotations

from ... import backend
from ...composites import functions
from ...composites.node_names import pytorch_node
from ...ops.piecewise import Hardsigmoid
from ...tensor import Tensor
from .activation import _floating
from .inplace_option import honours_inplace

__all__ = ["hardtanh", "relu6", "hardsigmoid", "hardswish", "threshold", "softshrink",
           "hardshrink", "prelu", "rrelu"]


@pytorch_node("HardtanhBackward0")
@honours_inplace
def hardtanh(input: Tensor, min_val: float = -1.0, max_val: float = 1.0,  # noqa: A002
             inplace: bool = False) -> Tensor:
    """x clipped to [min_val, max_val]; slope 1 inside, 0 outside."""
    if min_val > max_val:
        raise ValueError(f"hardtanh: min_val ({min_val}) cannot be greater than max_val "
                         f"({max_val})")
    return functions.clamp(_floating(input, "hardtanh"), min_val, max_val)


@pytorch_node("HardtanhBackward0")
@honours_inplace
def relu6(input: Tensor, inplace: bool = False) -> Tensor:  # noqa: A002
    """min(max(x, 0), 6)."""
    return hardtanh(input, 0.0, 6.0)


@honours_inplace
def hardsigmoid(input: Tensor, inplace: bool = False) -> Tensor:  # noqa: A002
    """clip(x / 6 + 1/2, 0, 1): a straight-line sigmoid; slope 1/6 on (-3, 3)."""
    return Hardsigmoid.apply(_floating(input, "hardsigmoid"))


@pytorch_node("HardswishBackward0")
@honours_inplace
def hardswish(input: Tensor, inplace: bool = False) -> Tensor:  # noqa: A002
    """x · hardsigmoid(x); slope (2x + 3) / 6 on (-3, 3), 0 below, 1 above."""
    input = _floating(input, "hardswish")
    return input * functions.clamp(input + 3, 0.0, 6.0) / 6


@honours_inplace
def threshold(input: Tensor, threshold: float, value: float,  # noqa: A002
              inplace: bool = False) -> Tensor:
    """x where x > threshold, else `value`."""
    return functions.where(input.array > threshold, input, value)


@pytorch_node("SoftshrinkBackward0")
def softshrink(input: Tensor, lambd: float = 0.5) -> Tensor:  # noqa: A002
    """x - lambd above lambd, x + lambd below -lambd, 0 between: x - clip(x, ±lambd)."""
    if lambd < 0:
        raise ValueError(f"softshrink: lambda must be greater or equal to 0, got {lambd}")
    input = _floating(input, "softshrink")
    return input - functions.clamp(input, -lambd, lambd)


@pytorch_node("HardshrinkBackward0")
def hardshrink(input: Tensor, lambd: float = 0.5) -> Tensor:  # noqa: A002
    """x where |x| > lambd, else 0."""
    input = _floating(input, "hardshrink")
    keep = backend.xp(input.array).abs(input.array) > lambd
    return input * Tensor._wrap(keep.astype(input.dtype))


@pytorch_node("PreluKernelBackward0")
def prelu(input: Tensor, weight: Tensor) -> Tensor:  # noqa: A002
    """x for x > 0, a·x otherwise, with a learned slope `a` per channel (dim 1) or one for
    all; d/da = x where x <= 0."""
    input = _floating(input, "prelu")
    slopes = weight.numel()
    if slopes != 1:
        channels = input.shape[1] if input.ndim >= 2 else input.shape[0]
        if slopes != channels:
            raise RuntimeError(f"prelu: {slopes} slopes (weight of shape {tuple(weight.shape)}) "
                               f"for {channels} channels in an input of shape "
                               f"{tuple(input.shape)}")
        if input.ndim >= 2:
            weight = weight.reshape(1, slopes, *([1] * (input.ndim - 2)))
    return functions.where(input.array > 0, input, weight * input)


@honours_inplace
def rrelu(input: Tensor, lower: float = 1.0 / 8, upper: float = 1.0 / 3,  # noqa: A002
          training: bool = False, inplace: bool = False) -> Tensor:
    """Leaky ReLU whose negative slope is drawn uniformly from [lower, upper] per element
    in training, and is (lower + upper) / 2 in evaluation."""
    input = _floating(input, "rrelu")
    if training:
        slopes = lower + (upper - lower) * backend.uniform_like(input.array)
        slope = Tensor._wrap(slopes.astype(input.dtype))
    else:
        slope = (lower + upper) / 2
    return functions.where(input.array >= 0, input, input * slope)
