"""torch.nn.functional's in-place activations (`F.relu_(x)`, `F.elu_(x, alpha)`, ...): the
activation's function, then the result written into `x` by composites' in-place rule
(outside the graph into x's own array, its version bumped; inside the graph x becomes the
result's node; a leaf that requires grad refuses, as in PyTorch)."""
from __future__ import annotations

from ...composites import inplace
from . import activation, piecewise, smooth

__all__ = ["relu_", "elu_", "celu_", "selu_", "leaky_relu_", "hardtanh_", "rrelu_",
           "threshold_"]

relu_ = inplace(activation.relu, "relu_")
leaky_relu_ = inplace(activation.leaky_relu, "leaky_relu_")
elu_ = inplace(smooth.elu, "elu_")
celu_ = inplace(smooth.celu, "celu_")
selu_ = inplace(smooth.selu, "selu_")
hardtanh_ = inplace(piecewise.hardtanh, "hardtanh_")
rrelu_ = inplace(piecewise.rrelu, "rrelu_")
threshold_ = inplace(piecewise.threshold, "threshold_")
