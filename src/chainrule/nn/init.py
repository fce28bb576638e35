"""Weight initialisation, in place and seeded by `cr.manual_seed` (PyTorch's formulas).

A network must start from random weights: identical weights would make every hidden unit
compute the same thing and receive the same gradient, so they would never differ.
The scales keep the variance of activations (and gradients) about constant from layer to
layer: Xavier/Glorot for tanh-like units, Kaiming/He for ReLU.
"""
from __future__ import annotations

import math

import numpy

from .. import backend
from ..autograd.grad_mode import no_grad
from ..tensor import Tensor


def calculate_gain(nonlinearity: str, param: float | None = None) -> float:
    gains = {"linear": 1.0, "conv1d": 1.0, "conv2d": 1.0, "sigmoid": 1.0,
             "tanh": 5.0 / 3, "relu": math.sqrt(2.0), "selu": 3.0 / 4}
    if nonlinearity == "leaky_relu":
        slope = 0.01 if param is None else param
        return math.sqrt(2.0 / (1 + slope ** 2))
    if nonlinearity not in gains:
        raise ValueError(f"calculate_gain: unknown nonlinearity {nonlinearity!r}")
    return gains[nonlinearity]


def fan_in_and_fan_out(tensor: Tensor) -> tuple[int, int]:
    """Inputs and outputs per unit: weight (out, in, *kernel) has fan_in = in·∏kernel."""
    if tensor.ndim < 2:
        raise ValueError(f"fan in/out needs at least 2 dimensions, got shape {tuple(tensor.shape)}")
    receptive = math.prod(tensor.shape[2:])
    return tensor.shape[1] * receptive, tensor.shape[0] * receptive


def _fill(tensor: Tensor, sample) -> Tensor:
    """Overwrite `tensor` with numbers from the seeded generator, keeping dtype and device."""
    with no_grad():
        array = sample(backend.rng(), tensor.shape).astype(tensor.dtype, copy=False)
        tensor.array[...] = backend.to_device(array, tensor.device)
    return tensor


def uniform_(tensor: Tensor, a: float = 0.0, b: float = 1.0) -> Tensor:
    return _fill(tensor, lambda g, s: g.uniform(a, b, s))


def normal_(tensor: Tensor, mean: float = 0.0, std: float = 1.0) -> Tensor:
    return _fill(tensor, lambda g, s: g.normal(mean, std, s))


def constant_(tensor: Tensor, value: float) -> Tensor:
    tensor.array[...] = value
    return tensor


def zeros_(tensor: Tensor) -> Tensor:
    return constant_(tensor, 0.0)


def ones_(tensor: Tensor) -> Tensor:
    return constant_(tensor, 1.0)


def xavier_uniform_(tensor: Tensor, gain: float = 1.0) -> Tensor:
    # U(-a, a) with a = gain·√(6 / (fan_in + fan_out))
    fan_in, fan_out = fan_in_and_fan_out(tensor)
    bound = gain * math.sqrt(6.0 / (fan_in + fan_out))
    return uniform_(tensor, -bound, bound)


def xavier_normal_(tensor: Tensor, gain: float = 1.0) -> Tensor:
    # N(0, σ²) with σ = gain·√(2 / (fan_in + fan_out))
    fan_in, fan_out = fan_in_and_fan_out(tensor)
    return normal_(tensor, 0.0, gain * math.sqrt(2.0 / (fan_in + fan_out)))


def _kaiming_std(tensor, a, mode, nonlinearity):
    fan_in, fan_out = fan_in_and_fan_out(tensor)
    fan = fan_in if mode == "fan_in" else fan_out
    return calculate_gain(nonlinearity, a) / math.sqrt(fan)


def kaiming_uniform_(tensor: Tensor, a: float = 0.0, mode: str = "fan_in",
                     nonlinearity: str = "leaky_relu") -> Tensor:
    # U(-b, b) with b = √3 · gain / √fan
    bound = math.sqrt(3.0) * _kaiming_std(tensor, a, mode, nonlinearity)
    return uniform_(tensor, -bound, bound)


def kaiming_normal_(tensor: Tensor, a: float = 0.0, mode: str = "fan_in",
                    nonlinearity: str = "leaky_relu") -> Tensor:
    return normal_(tensor, 0.0, _kaiming_std(tensor, a, mode, nonlinearity))


def default_layer_init_(weight: Tensor, bias: Tensor | None) -> None:
    """PyTorch's default for Linear and Conv: kaiming_uniform_(a=√5), i.e. weights and bias
    both U(-1/√fan_in, 1/√fan_in)."""
    kaiming_uniform_(weight, a=math.sqrt(5))
    if bias is not None:
        fan_in, _ = fan_in_and_fan_out(weight)
        bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0
        uniform_(bias, -bound, bound)


def trunc_normal_(tensor: Tensor, mean: float = 0.0, std: float = 1.0, a: float = -2.0,
                  b: float = 2.0) -> Tensor:
    """N(mean, std²) restricted to [a, b]: samples outside are drawn again."""
    def sample(g, shape):
        values = g.normal(mean, std, shape)
        outside = (values < a) | (values > b)
        while outside.any():
            values[outside] = g.normal(mean, std, int(outside.sum()))
            outside = (values < a) | (values > b)
        return values
    return _fill(tensor, sample)


def orthogonal_(tensor: Tensor, gain: float = 1.0) -> Tensor:
    """A (semi-)orthogonal matrix (rows or columns orthonormal), from the QR decomposition
    of a Gaussian matrix with the signs of R's diagonal fixed, as PyTorch; times `gain`."""
    if tensor.ndim < 2:
        raise ValueError(f"orthogonal_: needs at least 2 dimensions, got shape {tuple(tensor.shape)}")
    rows, cols = tensor.shape[0], math.prod(tensor.shape[1:])

    def sample(g, shape):
        flat = g.standard_normal((rows, cols))
        q, r = numpy.linalg.qr(flat.T if rows < cols else flat)
        q = q * numpy.sign(numpy.diag(r))
        return gain * (q.T if rows < cols else q).reshape(shape)
    return _fill(tensor, sample)


def eye_(tensor: Tensor) -> Tensor:
    """The identity in a 2-d tensor (ones on the diagonal)."""
    if tensor.ndim != 2:
        raise ValueError(f"eye_: needs a 2-d tensor, got shape {tuple(tensor.shape)}")
    tensor.array[...] = backend.xp(tensor.array).eye(*tensor.shape, dtype=tensor.dtype)
    return tensor


def dirac_(tensor: Tensor, groups: int = 1) -> Tensor:
    """A convolution kernel (out, in, *k) that passes each of the first channels through."""
    if tensor.ndim not in (3, 4, 5):
        raise ValueError(f"dirac_: needs a 3-, 4- or 5-d tensor, got shape {tuple(tensor.shape)}")
    out_per_group = tensor.shape[0] // groups
    tensor.array[...] = 0
    centre = tuple(k // 2 for k in tensor.shape[2:])
    for g in range(groups):
        for d in range(min(out_per_group, tensor.shape[1])):
            tensor.array[(g * out_per_group + d, d) + centre] = 1
    return tensor


def sparse_(tensor: Tensor, sparsity: float, std: float = 0.01) -> Tensor:
    """A 2-d weight drawn from normal(0, std) with ⌈sparsity·rows⌉ entries of every column
    set to zero at random rows (Martens' sparse initialisation), as PyTorch."""
    if tensor.ndim != 2:
        raise ValueError(f"sparse_: only tensors with 2 dimensions are supported, got shape "
                         f"{tuple(tensor.shape)}")
    rows, columns = tensor.shape
    zeros = math.ceil(sparsity * rows)

    def sample(g, shape):
        values = g.normal(0.0, std, shape)
        for column in range(columns):
            values[g.permutation(rows)[:zeros], column] = 0
        return values
    return _fill(tensor, sample)


# PyTorch's deprecated names without the underscore.
uniform, normal, constant = uniform_, normal_, constant_
xavier_uniform, xavier_normal = xavier_uniform_, xavier_normal_
kaiming_uniform, kaiming_normal = kaiming_uniform_, kaiming_normal_
orthogonal, eye, dirac, sparse = orthogonal_, eye_, dirac_, sparse_
