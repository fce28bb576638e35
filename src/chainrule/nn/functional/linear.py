"""Affine maps."""
from __future__ import annotations

from ...ops.linalg import Linear
from ...tensor import Tensor

__all__ = ["linear"]


def linear(input: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:  # noqa: A002
    """y = x Wᵀ + b for x of shape (*, in_features) and W of shape (out_features, in_features)."""
    if input.shape[-1:] != weight.shape[1:]:
        raise ValueError(f"linear: input has {input.shape[-1] if input.ndim else 0} features "
                         f"(shape {tuple(input.shape)}) but the weight expects {weight.shape[1]} "
                         f"(weight shape {tuple(weight.shape)})")
    if bias is None:
        return Linear.apply(input, weight)
    return Linear.apply(input, weight, bias)
