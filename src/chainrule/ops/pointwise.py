"""Pointwise math functions as a table: each row is a function and its derivative.

    sin:   y = sin x          dy/dx = cos x

`UNARY[name] = (forward, derivative)`: `forward(x)` computes y on an array (numpy or
cupy, its module `xp(x)`), `derivative(x, y)` gives dy/dx from the input and the output. A
derivative is written with operators and `D.name(...)` (the table's own ops), which work on
arrays and on tensors alike, so the engine differentiates it again for second derivatives.
Each row becomes an `Op` subclass, `Sin`, `Cos`, ...; the public forms are in
`composites/pointwise.py`.
"""
from __future__ import annotations

import math

from ..autograd.op import Op
from ..backend import special, xp
from .elementwise import Exp, Log

LN2, LN10, SQRT_PI = math.log(2.0), math.log(10.0), math.sqrt(math.pi)


def _zero(x, y):
    return 0 * x  # steps (floor, sign, ...): zero almost everywhere, as PyTorch


class _Table:
    """`D.sin(x)`: a row's op, on an array or a tensor (filled in below the table)."""


D = _Table()

UNARY = {
    # trigonometric
    "sin": (lambda x: xp(x).sin(x), lambda x, y: D.cos(x)),
    "cos": (lambda x: xp(x).cos(x), lambda x, y: -D.sin(x)),
    "tan": (lambda x: xp(x).tan(x), lambda x, y: 1 + y * y),
    "asin": (lambda x: xp(x).arcsin(x), lambda x, y: D.rsqrt(1 - x * x)),
    "acos": (lambda x: xp(x).arccos(x), lambda x, y: -D.rsqrt(1 - x * x)),
    "atan": (lambda x: xp(x).arctan(x), lambda x, y: D.reciprocal(1 + x * x)),
    "deg2rad": (lambda x: xp(x).deg2rad(x), lambda x, y: 0 * x + math.pi / 180),
    "rad2deg": (lambda x: xp(x).rad2deg(x), lambda x, y: 0 * x + 180 / math.pi),
    # hyperbolic
    "sinh": (lambda x: xp(x).sinh(x), lambda x, y: D.cosh(x)),
    "cosh": (lambda x: xp(x).cosh(x), lambda x, y: D.sinh(x)),
    "asinh": (lambda x: xp(x).arcsinh(x), lambda x, y: D.rsqrt(x * x + 1)),
    "acosh": (lambda x: xp(x).arccosh(x), lambda x, y: D.rsqrt(x * x - 1)),
    "atanh": (lambda x: xp(x).arctanh(x), lambda x, y: D.reciprocal(1 - x * x)),
    # exponentials and logarithms
    "exp2": (lambda x: xp(x).exp2(x), lambda x, y: y * LN2),
    "expm1": (lambda x: xp(x).expm1(x), lambda x, y: y + 1),
    "log2": (lambda x: xp(x).log2(x), lambda x, y: D.reciprocal(x * LN2)),
    "log10": (lambda x: xp(x).log10(x), lambda x, y: D.reciprocal(x * LN10)),
    "log1p": (lambda x: xp(x).log1p(x), lambda x, y: D.reciprocal(1 + x)),
    "logit": (lambda x: xp(x).log(x / (1 - x)), lambda x, y: D.reciprocal(x * (1 - x))),
    # powers
    "square": (lambda x: x * x, lambda x, y: 2 * x),
    "reciprocal": (lambda x: 1 / x, lambda x, y: -y * y),
    "rsqrt": (lambda x: 1 / xp(x).sqrt(x), lambda x, y: -0.5 * y * y * y),
    # special functions
    "erf": (lambda x: special(x).erf(x),
            lambda x, y: (2 / SQRT_PI) * D.exp(-x * x)),
    "erfc": (lambda x: special(x).erfc(x),
             lambda x, y: (-2 / SQRT_PI) * D.exp(-x * x)),
    "erfinv": (lambda x: special(x).erfinv(x),
               lambda x, y: (SQRT_PI / 2) * D.exp(y * y)),
    "lgamma": (lambda x: special(x).gammaln(x), lambda x, y: D.digamma(x)),
    "digamma": (lambda x: special(x).psi(x), lambda x, y: D.trigamma(x)),
    "trigamma": (lambda x: special(x).polygamma(1, x), lambda x, y: D.tetragamma(x)),
    "tetragamma": (lambda x: special(x).polygamma(2, x),
                   lambda x, y: D.pentagamma(x)),
    "pentagamma": (lambda x: special(x).polygamma(3, x), None),
    "i0": (lambda x: special(x).i0(x), lambda x, y: D.i1(x)),
    "i1": (lambda x: special(x).i1(x), None),  # (only as i0's derivative: once)
    "sinc": (lambda x: xp(x).sinc(x),
             lambda x, y: D.where_zero(x, (D.cos(math.pi * x) - y) / D.nonzero(x))),
    # steps and rounding: flat almost everywhere
    "sign": (lambda x: xp(x).nan_to_num(xp(x).sign(x)), _zero),  # sign(nan) = 0, as PyTorch
    "floor": (lambda x: xp(x).floor(x), _zero),
    "ceil": (lambda x: xp(x).ceil(x), _zero),
    "trunc": (lambda x: xp(x).trunc(x), _zero),
    "round": (lambda x: xp(x).round(x), _zero),
    "frac": (lambda x: x - xp(x).trunc(x), lambda x, y: 0 * x + 1),
    "signbit": (lambda x: xp(x).signbit(x), None),
}


class Pointwise(Op):
    """y = f(x) for one row of the table;  dx = grad · f'(x)."""

    forward_fn = derivative_fn = None

    def forward(ctx, x):
        y = _like(type(ctx).forward_fn(x), x)
        ctx.save_for_backward(x, y)
        return y

    def backward(ctx, grad):
        x, y = ctx.saved
        if type(ctx).derivative_fn is None:
            raise RuntimeError(f"{ctx.name.lower()}: its derivative is not implemented")
        return (grad * type(ctx).derivative_fn(x, y),)


def _like(y, x):
    """y in x's float dtype (SciPy's special functions compute float32 in float64)."""
    return y.astype(x.dtype) if y.dtype != x.dtype and y.dtype.kind == x.dtype.kind == "f" \
        else y


def _op_class(name: str, base: type, **rules) -> type:
    """A table row as an op class named after it (`log1p` → `Log1p`), its rules the
    class's static functions."""
    title = "".join(part.capitalize() for part in name.split("_"))
    return type(title, (base,), {key: staticmethod(rule) for key, rule in rules.items()})


OPS = {name: _op_class(name, Pointwise, forward_fn=forward, derivative_fn=derivative)
       for name, (forward, derivative) in UNARY.items()}
for _name, _op in OPS.items():
    setattr(D, _name, _op.call)


# Helpers the derivatives use, as ops on arrays or tensors.
class WhereZero(Op):
    # y = 0 where x = 0 else v (a removable singularity's derivative);  dv = grad where x ≠ 0
    def forward(ctx, x, v):
        ctx.save_for_backward(x != 0)
        return xp(x).where(x != 0, v, 0 * v)

    def backward(ctx, grad):
        (mask,) = ctx.saved
        return None, grad * mask


class NonZero(Op):
    # y = x, with 0 replaced by 1 (a safe divisor);  dy/dx = 1 where x ≠ 0
    def forward(ctx, x):
        ctx.save_for_backward(x != 0)
        return xp(x).where(x != 0, x, 1)

    def backward(ctx, grad):
        (mask,) = ctx.saved
        return (grad * mask,)


D.exp = Exp.call
D.where_zero = WhereZero.call
D.nonzero = NonZero.call


# --- two inputs: z = f(a, b), with dz/da and dz/db ---------------------------------------
BINARY = {
    "atan2": (lambda a, b: xp(a).arctan2(a, b),
              lambda a, b, z: b / (a * a + b * b), lambda a, b, z: -a / (a * a + b * b)),
    "hypot": (lambda a, b: xp(a).hypot(a, b), lambda a, b, z: a / z, lambda a, b, z: b / z),
    "fmod": (lambda a, b: xp(a).fmod(a, b),
             lambda a, b, z: 0 * a + 1, lambda a, b, z: -D.trunc(a / b)),
    "remainder": (lambda a, b: xp(a).remainder(a, b),
                  lambda a, b, z: 0 * a + 1, lambda a, b, z: -D.floor(a / b)),
    "copysign": (lambda a, b: xp(a).copysign(a, b),
                 lambda a, b, z: D.sign(a) * D.sign(z), lambda a, b, z: 0 * b),
    "logaddexp": (lambda a, b: xp(a).logaddexp(a, b),
                  lambda a, b, z: D.exp(a - z), lambda a, b, z: D.exp(b - z)),
    "logaddexp2": (lambda a, b: xp(a).logaddexp2(a, b),
                   lambda a, b, z: D.exp2(a - z), lambda a, b, z: D.exp2(b - z)),
    "xlogy": (lambda a, b: special(a).xlogy(a, b),
              lambda a, b, z: D.log(b), lambda a, b, z: a / b),
    # regularized incomplete gamma P(a, x) and Q = 1 - P: d/dx P = x^(a-1) e^(-x) / Γ(a)
    "igamma": (lambda a, b: special(a).gammainc(a, b), None,
               lambda a, b, z: D.exp((a - 1) * D.log(b) - b - D.lgamma(a))),
    "igammac": (lambda a, b: special(a).gammaincc(a, b), None,
                lambda a, b, z: -D.exp((a - 1) * D.log(b) - b - D.lgamma(a))),
    "fmax": (lambda a, b: xp(a).fmax(a, b),
             lambda a, b, z: D.chose(a, z), lambda a, b, z: 1 - D.chose(a, z)),
    "fmin": (lambda a, b: xp(a).fmin(a, b),
             lambda a, b, z: D.chose(a, z), lambda a, b, z: 1 - D.chose(a, z)),
}


class Pointwise2(Op):
    """z = f(a, b) for one row of BINARY;  da = grad · ∂f/∂a,  db = grad · ∂f/∂b."""

    forward_fn = da_fn = db_fn = None

    def forward(ctx, a, b):
        z = _like(type(ctx).forward_fn(a, b), a)
        ctx.save_for_backward(a, b, z)
        return z

    def backward(ctx, grad):
        a, b, z = ctx.saved
        rule = type(ctx)
        if ctx.needs_grad(0) and rule.da_fn is None:
            raise NotImplementedError(f"{ctx.name.lower()}: the derivative with respect to "
                                      "its first input is not implemented (as in PyTorch)")
        return (grad * rule.da_fn(a, b, z) if ctx.needs_grad(0) else None,
                grad * rule.db_fn(a, b, z) if ctx.needs_grad(1) else None)


class Chose(Op):
    # 1 where z came from a (z == a), else 0: a constant mask, no gradient of its own
    def forward(ctx, a, z):
        return (a == z).astype(a.dtype)

    def backward(ctx, grad):
        return None, None


OPS2 = {name: _op_class(name, Pointwise2, forward_fn=forward, da_fn=da, db_fn=db)
        for name, (forward, da, db) in BINARY.items()}
D.chose = Chose.call
D.log = Log.call
