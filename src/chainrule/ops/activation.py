"""Activation functions beyond the elementwise basics (relu, tanh and sigmoid live in
`elementwise.py`): leaky ReLU, GELU, and the error function GELU is built on.

Each backward is written with operators and `Op.call`, so it runs on tensors too and
these activations can be differentiated twice.
"""
from __future__ import annotations

import math

from ..autograd.op import Op
from ..backend import xp
from .elementwise import Exp, Sigmoid, Tanh

_SQRT_HALF = math.sqrt(0.5)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)
_TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)
_TANH_SCALE = math.sqrt(2.0 / math.pi)  # the GELU tanh approximation's √(2/π)
_TANH_CUBIC = 0.044715


class LeakyRelu(Op):
    # y = x for x > 0, else s·x;  dy/dx = 1 for x > 0, else s
    def forward(ctx, x, negative_slope=0.01):
        slope = xp(x).where(x > 0, x.dtype.type(1), x.dtype.type(negative_slope))
        ctx.save_for_backward(slope)
        return x * slope

    def backward(ctx, grad):
        (slope,) = ctx.saved
        return (grad * slope,)


class LogSigmoid(Op):
    # y = log σ(x) = min(x, 0) - log(1 + e^-|x|)  (never overflows);  dy/dx = 1 - σ(x) = σ(-x)
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return xp(x).minimum(x, 0) - xp(x).log1p(xp(x).exp(-abs(x)))

    def backward(ctx, grad):
        (x,) = ctx.saved
        return (grad * Sigmoid.call(-x),)


class Erf(Op):
    # y = erf(x) = (2/√π) ∫₀ˣ e^(-t²) dt;  dy/dx = (2/√π) e^(-x²)
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return erf(x)

    def backward(ctx, grad):
        (x,) = ctx.saved
        return (grad * (Exp.call(-(x * x)) * _TWO_OVER_SQRT_PI),)


class Gelu(Op):
    # y = x·Φ(x) with Φ(x) = ½(1 + erf(x/√2)) the normal CDF;
    # dy/dx = Φ(x) + x·φ(x), where φ = Φ' = e^(-x²/2)/√(2π) is the normal density
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * ((erf(x * _SQRT_HALF) + 1) * 0.5)

    def backward(ctx, grad):
        (x,) = ctx.saved
        cdf = (Erf.call(x * _SQRT_HALF) + 1) * 0.5
        pdf = Exp.call(x * x * -0.5) * _INV_SQRT_2PI
        return (grad * (cdf + x * pdf),)


class GeluTanh(Op):
    # y = ½x(1 + tanh u),  u = √(2/π)(x + 0.044715x³);
    # dy/dx = ½(1 + tanh u) + ½x(1 - tanh²u)·√(2/π)(1 + 3·0.044715x²)
    torch_name = "GeluBackward0"

    def forward(ctx, x):
        ctx.save_for_backward(x)
        inner = (x + x * x * x * _TANH_CUBIC) * _TANH_SCALE
        return x * 0.5 * (xp(x).tanh(inner) + 1)

    def backward(ctx, grad):
        (x,) = ctx.saved
        t = Tanh.call((x + x * x * x * _TANH_CUBIC) * _TANH_SCALE)
        du = (x * x * (3 * _TANH_CUBIC) + 1) * _TANH_SCALE
        return (grad * ((t + 1) * 0.5 + x * 0.5 * (1 - t * t) * du),)


# --- the error function on arrays ------------------------------------------------------
# NumPy has no erf (and chainrule does not depend on SciPy), so it is computed here from
# two rational approximations, fitted (linearised least squares, reference values from
# mpmath at 40 digits) to a maximum relative error below 1e-13 in float64:
#   |x| ≤ 1:      erf(x)  = x · P₁(x²) / Q₁(x²)
#   1 < |x| ≤ 6:  erfc(x) = e^(-x²) · P₂(s) / Q₂(s),  s = (1/x - 1/6) · 6/5 ∈ [0, 1]
#   |x| > 6:      erf(x)  = ±1  (erfc(6) ≈ 2e-17 is below float64's resolution at 1)
# Float32 inputs are computed in float32 and agree with PyTorch to a few ulps.
_P1 = (1.1283791670955043, 0.14677218374009782, 0.041389047519631295,
       0.001524197301348459, 6.446730446874011e-05)
_Q1 = (1.0, 0.4634067944701746, 0.09114901985296867, 0.009202635315029632,
       0.00041364321957780656)
_P2 = (0.09277656780047974, 0.817742182362597, 2.283207426589665, 2.7213818766188935,
       0.40142621935069694, -2.0953737777948804, -1.5359648109937576,
       4.506127551479735e-05)
_Q2 = (1.0, 3.944224132524651, 6.329356626493677, 3.3388873542494415,
       -2.620215167581362, -4.176693409820769, -1.535522380674053)


def _polynomial(coefficients, u):
    """c₀ + c₁u + c₂u² + … by Horner's rule (in place on a fresh array)."""
    result = u * coefficients[-1]
    result += coefficients[-2]
    for c in coefficients[-3::-1]:
        result *= u
        result += c
    return result


def erf(x):
    """The error function of a floating-point array (NumPy or CuPy), in x's dtype."""
    if x.dtype.kind != "f":
        x = x.astype(xp(x).float64)
    ax = xp(x).abs(x)
    # Both branches are evaluated everywhere on clipped arguments, then selected: no
    # masks, so the same code runs unchanged as GPU kernels.
    u = xp(x).minimum(ax, 1.0)
    u *= u
    small = _polynomial(_P1, u)
    small /= _polynomial(_Q1, u)
    small *= x
    xb = xp(x).clip(ax, 1.0, 6.0)
    s = 1.0 / xb
    s -= 1.0 / 6.0
    s *= 1.2
    tail = _polynomial(_P2, s)
    tail /= _polynomial(_Q2, s)
    tail *= xp(x).exp(-(xb * xb))
    large = xp(x).copysign(1 - tail, x)
    return xp(x).where(ax <= 1.0, small, large).astype(x.dtype, copy=False)
