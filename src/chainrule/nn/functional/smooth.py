"""Smooth activations: exponential linear units, self-gated units (SiLU, Mish), softplus
and friends, gated linear units and softmin.

Written with exp/sigmoid/tanh/logsigmoid and products of existing ops, so each derivative
follows from theirs by the chain rule (e.g. d silu/dx = σ(x) (1 + x (1 - σ(x)))).
"""
from __future__ import annotations

from ...composites import functions
from ...composites.node_names import pytorch_node
from ...ops.activation import LogSigmoid
from ...tensor import Tensor
from .activation import _floating, softmax
from .inplace_option import honours_inplace

__all__ = ["elu", "selu", "celu", "silu", "mish", "softplus", "softsign", "tanhshrink",
           "glu", "softmin"]

# SELU's constants (Klambauer et al.), as PyTorch rounds them
SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946


@pytorch_node("EluBackward0")
@honours_inplace
def elu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:  # noqa: A002
    """x for x > 0, alpha (e^x - 1) otherwise; slope alpha e^x below 0."""
    input = _floating(input, "elu")
    # e^min(x, 0): the unused branch never overflows (its zero gradient times inf is NaN)
    negative = (functions.exp(functions.clamp(input, None, 0.0)) - 1) * alpha
    return functions.where(input.array > 0, input, negative)


@pytorch_node("EluBackward0")
@honours_inplace
def selu(input: Tensor, inplace: bool = False) -> Tensor:  # noqa: A002
    """scale · elu(x, alpha) with the self-normalising constants."""
    return elu(input, SELU_ALPHA) * SELU_SCALE


@pytorch_node("EluBackward0")
@honours_inplace
def celu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:  # noqa: A002
    """x for x > 0, alpha (e^(x/alpha) - 1) otherwise (continuously differentiable ELU)."""
    if alpha == 0:
        raise ValueError("celu: alpha cannot be 0")
    input = _floating(input, "celu")
    negative = (functions.exp(functions.clamp(input, None, 0.0) / alpha) - 1) * alpha
    return functions.where(input.array > 0, input, negative)


@pytorch_node("SiluBackward0")
@honours_inplace
def silu(input: Tensor, inplace: bool = False) -> Tensor:  # noqa: A002
    """x · σ(x) (also called swish)."""
    input = _floating(input, "silu")
    return input * functions.sigmoid(input)


@pytorch_node("SoftplusBackward0")
def softplus(input: Tensor, beta: float = 1.0, threshold: float = 20.0) -> Tensor:  # noqa: A002
    """log(1 + e^(beta x)) / beta = -log σ(-beta x) / beta, exact for large |x|; x itself
    where beta x > threshold, as PyTorch; slope σ(beta x)."""
    input = _floating(input, "softplus")
    smooth = LogSigmoid.apply(input * -beta) * (-1.0 / beta)
    return functions.where(input.array * beta > threshold, input, smooth)


@pytorch_node("MishBackward0")
@honours_inplace
def mish(input: Tensor, inplace: bool = False) -> Tensor:  # noqa: A002
    """x · tanh(softplus(x))."""
    input = _floating(input, "mish")
    return input * functions.tanh(softplus(input))


def softsign(input: Tensor) -> Tensor:  # noqa: A002
    """x / (1 + |x|); slope 1 / (1 + |x|)^2."""
    input = _floating(input, "softsign")
    return input / (functions.abs(input) + 1)


def tanhshrink(input: Tensor) -> Tensor:  # noqa: A002
    """x - tanh(x); slope tanh(x)^2."""
    input = _floating(input, "tanhshrink")
    return input - functions.tanh(input)


@pytorch_node("GluBackward0")
def glu(input: Tensor, dim: int = -1) -> Tensor:  # noqa: A002
    """a · σ(b), where a and b are the two halves of the input along `dim`."""
    input = _floating(input, "glu")
    size = input.shape[dim]
    if size % 2:
        raise RuntimeError(f"glu: halving dimension must be even, but dimension {dim} is "
                           f"size {size} (input of shape {tuple(input.shape)})")
    axis = dim % input.ndim
    first = tuple(slice(None) if i != axis else slice(0, size // 2) for i in range(input.ndim))
    second = tuple(slice(None) if i != axis else slice(size // 2, size)
                   for i in range(input.ndim))
    return input[first] * functions.sigmoid(input[second])


def softmin(input: Tensor, dim: int | None = None, _stacklevel: int = 3,  # noqa: A002
            dtype=None) -> Tensor:
    """softmax(-x): weights favouring the smallest entries."""
    return softmax(-input, dim, _stacklevel + 1, dtype)
