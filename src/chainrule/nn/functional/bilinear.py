"""`bilinear`: y_k = x1ᵀ W_k x2 + b_k, a learned bilinear form per output feature."""
from __future__ import annotations

from ...tensor import Tensor

__all__ = ["bilinear"]


def bilinear(input1: Tensor, input2: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """input1 (*, in1), input2 (*, in2), weight (out, in1, in2) -> (*, out).
    dy/dx1 = W x2, dy/dx2 = W x1, dy/dW_k = x1 x2ᵀ (from the two matrix products)."""
    if weight.ndim != 3 or input1.shape[-1] != weight.shape[1] \
            or input2.shape[-1] != weight.shape[2]:
        raise RuntimeError(f"bilinear: weight of shape {tuple(weight.shape)} does not fit "
                           f"inputs of shapes {tuple(input1.shape)} and {tuple(input2.shape)}")
    out_features, in1, in2 = weight.shape
    lead = input1.shape[:-1]
    x1 = input1.reshape(-1, in1)
    x2 = input2.reshape(-1, in2)
    # (B, in1) @ (in1, out·in2) -> (B, out, in2), then the dot with x2 over in2
    mixed = (x1 @ weight.permute(1, 0, 2).reshape(in1, out_features * in2))
    y = (mixed.reshape(-1, out_features, in2) * x2.unsqueeze(1)).sum(2)
    if bias is not None:
        y = y + bias
    return y.reshape(*lead, out_features)
