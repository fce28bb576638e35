"""Elementwise ops. Each backward is the local derivative times the incoming gradient.

Broadcasting is not handled here: a backward returns gradients shaped like the output,
and the engine sums them back to each input's shape (`sum_to`).
"""
from __future__ import annotations

import math

from ..autograd.op import Op
from ..backend import device_of, on_gpu, to_device, xp
from ..kernels.gpu import activation as gpu_activation


def _infinite_at_zero(ctx, kind, slope, fix):
    """For anomaly mode: (kind, slope, fix) when the first saved value holds a 0."""
    return (kind, slope, fix) if (ctx.saved[0] == 0).any() else None


class Add(Op):
    # z = a + b;  dz/da = 1,  dz/db = 1
    def forward(ctx, a, b):
        return a + b

    def backward(ctx, grad):
        return grad, grad

    def nan_cause(ctx, a, b, out):
        if xp(out).isnan(out).any() and (xp(a).isinf(a).any() or xp(b).isinf(b).any()):
            return "inf-minus-inf", "∞ − ∞ = NaN: both inputs hold infinities of opposite sign"
        return None


class Sub(Op):
    # z = a - b;  dz/da = 1,  dz/db = -1
    def forward(ctx, a, b):
        return a - b

    def backward(ctx, grad):
        return grad, (-grad if ctx.needs_grad(1) else None)

    nan_cause = Add.nan_cause


class Mul(Op):
    # z = a · b;  dz/da = b,  dz/db = a
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return a * b

    def backward(ctx, grad):
        a, b = ctx.saved
        return (grad * b if ctx.needs_grad(0) else None,
                grad * a if ctx.needs_grad(1) else None)


class Div(Op):
    # z = a / b;  dz/da = 1/b,  dz/db = -a/b² = -z/b
    def forward(ctx, a, b):
        z = a / b
        ctx.save_for_backward(b, z)
        return z

    def backward(ctx, grad):
        b, z = ctx.saved
        grad_a = grad / b
        return grad_a, (-grad_a * z if ctx.needs_grad(1) else None)

    def nan_cause(ctx, a, b, out):
        zeros = int((b == 0).sum())
        if zeros:
            return "division-by-zero", (f"division by zero: the divisor has {zeros} zero(s) "
                                        "(x/0 = ±inf, 0/0 = NaN): add a small epsilon to the "
                                        "divisor, or mask the zeros out before dividing")
        return None

    def infinite_slope(ctx, index):
        return _infinite_at_zero(ctx, "division-by-zero",
                                 "the derivatives of a/b (1/b and −a/b²) divide by b = 0",
                                 "add a small epsilon to the divisor")


class Neg(Op):
    # z = -a;  dz/da = -1
    def forward(ctx, a):
        return -a

    def backward(ctx, grad):
        return (-grad,)


class Pow(Op):
    # z = a^b;  dz/da = b·a^(b-1),  dz/db = z·ln(a)
    def forward(ctx, a, b):
        z = a ** b
        ctx.save_for_backward(a, b, z)
        return z

    def backward(ctx, grad):
        a, b, z = ctx.saved
        grad_a = grad * b * a ** (b - 1) if ctx.needs_grad(0) else None
        grad_b = grad * z * Log.call(a) if ctx.needs_grad(1) else None
        return grad_a, grad_b

    def nan_cause(ctx, a, b, out):
        base, exponent = xp(a).broadcast_arrays(a, b)
        if ((base == 0) & (exponent < 0)).any():
            return "division-by-zero", "0 to a negative power is a division by zero"
        if ((base < 0) & (exponent != xp(a).round(exponent))).any():
            return "negative-fractional-power", ("a negative number to a fractional "
                                                 "power is NaN: clamp the base first")
        return None

    def infinite_slope(ctx, index):
        base, exponent = xp(ctx.saved[0]).broadcast_arrays(*ctx.saved[:2])
        if index == 0 and ((base == 0) & (exponent < 1)).any():
            return ("pow-zero", "the slope of a^b at a = 0 is b·0^(b−1) = ∞ for b < 1",
                    "keep the base away from 0")
        if index == 1 and (base <= 0).any():
            return ("log-zero", "d(a^b)/db = a^b·ln a needs ln a, undefined for a ≤ 0",
                    "keep the base positive")
        return None


class Exp(Op):
    # y = e^x;  dy/dx = e^x = y
    def forward(ctx, x):
        y = xp(x).exp(x)
        ctx.save_for_backward(y)
        return y

    def backward(ctx, grad):
        (y,) = ctx.saved
        return (grad * y,)

    def nan_cause(ctx, x, out):
        limit = math.log(float(xp(x).finfo(x.dtype).max))
        return "exp-overflow", (f"exp overflow: an input is {float(x.max()):.4g}, and e^x "
                                f"overflows {x.dtype} above {limit:.1f}: use a stable form "
                                "(subtract the maximum first, logsumexp, softmax / "
                                "log_softmax, BCEWithLogitsLoss), or lower the learning rate")


class Log(Op):
    # y = ln x;  dy/dx = 1/x
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return xp(x).log(x)

    def backward(ctx, grad):
        (x,) = ctx.saved
        return (grad / x,)

    def nan_cause(ctx, x, out):
        if (x == 0).any():
            return "log-zero", ("log of 0 = -inf (often a probability that underflowed to "
                                "0): add a small epsilon or clamp (x.clamp(min=1e-12)), or "
                                "use log_softmax / a *WithLogits loss, which never take log 0")
        if (x < 0).any():
            return "log-negative", ("log of a negative number is NaN: the input should be "
                                    "positive. If this log is the branch of where() that "
                                    "is not taken, give it a safe input instead: "
                                    "log(where(x > 0, x, 1))")
        return None

    def infinite_slope(ctx, index):
        return _infinite_at_zero(ctx, "log-zero", "the slope of ln x at x = 0 is 1/0 = ∞",
                                 "add a small epsilon or clamp the input")


class Sqrt(Op):
    # y = √x;  dy/dx = 1/(2√x) = 1/(2y)
    def forward(ctx, x):
        y = xp(x).sqrt(x)
        ctx.save_for_backward(y)
        return y

    def backward(ctx, grad):
        (y,) = ctx.saved
        return (grad / (2 * y),)

    def nan_cause(ctx, x, out):
        if (x < 0).any():
            return "sqrt-negative", ("sqrt of a negative number is NaN: clamp the input "
                                     "(x.clamp(min=0)), or check the sign of what goes in "
                                     "(a variance made negative by rounding?)")
        return None

    def infinite_slope(ctx, index):
        return _infinite_at_zero(ctx, "sqrt-zero", "the slope of √x at x = 0 is 1/(2√0) = ∞",
                                 "keep the input away from 0 (sqrt(x + 1e-12)) or clamp it")


class Abs(Op):
    # y = |x|;  dy/dx = sign(x)  (0 at x = 0, as PyTorch)
    def forward(ctx, x):
        ctx.save_for_backward(xp(x).sign(x))
        return xp(x).abs(x)

    def backward(ctx, grad):
        (sign,) = ctx.saved
        return (grad * sign,)


class Tanh(Op):
    # y = tanh x;  dy/dx = 1 - y²
    def forward(ctx, x):
        y = xp(x).tanh(x)
        ctx.save_for_backward(y)
        return y

    def backward(ctx, grad):
        (y,) = ctx.saved
        if on_gpu(grad):  # one fused kernel
            return (gpu_activation.tanh_backward(grad, y),)
        return (grad * (1 - y * y),)


class Sigmoid(Op):
    # y = 1 / (1 + e^-x);  dy/dx = y(1 - y)
    def forward(ctx, x):
        # With e = e^-|x| ≤ 1 (never overflows): 1/(1+e) for x ≥ 0, e/(1+e) for x < 0. The
        # second form keeps full relative precision for very negative x, where 1 - (…) and
        # ½(1 + tanh(x/2)) round to 0 (sigmoid(-20) ≈ 2e-9 in float32, and log of it).
        e = xp(x).exp(-xp(x).abs(x))
        y = xp(x).where(x >= 0, 1, e) / (1 + e)
        ctx.save_for_backward(y)
        return y

    def backward(ctx, grad):
        (y,) = ctx.saved
        if on_gpu(grad):  # one fused kernel
            return (gpu_activation.sigmoid_backward(grad, y),)
        return (grad * y * (1 - y),)


class Relu(Op):
    # y = max(x, 0);  dy/dx = 1 where x > 0, else 0
    def forward(ctx, x):
        y = xp(x).maximum(x, 0)
        ctx.save_for_backward(y)
        return y

    def backward(ctx, grad):
        (y,) = ctx.saved
        if on_gpu(grad):  # one fused kernel
            return (gpu_activation.relu_backward(grad, y),)
        return (grad * (y > 0),)


class Clamp(Op):
    # y = min(max(x, lo), hi);  dy/dx = 1 where lo ≤ x ≤ hi, else 0
    torch_name = "ClampBackward1"

    def forward(ctx, x, lo=None, hi=None):
        ctx.save_for_backward(_inside(x, lo, hi))
        return xp(x).clip(x, lo, hi)

    def backward(ctx, grad):
        (inside,) = ctx.saved
        return (grad * inside,)


def _inside(x, lo, hi):
    if lo is None:
        return x <= hi
    if hi is None:
        return x >= lo
    return (x >= lo) & (x <= hi)


class Where(Op):
    # z = where(c, a, b);  dz/da = c,  dz/db = not c  (c is a constant mask)
    def forward(ctx, a, b, condition=None):
        ctx.save_for_backward(condition)
        return xp(a).where(condition, a, b)

    def backward(ctx, grad):
        (condition,) = ctx.saved
        return (grad * condition if ctx.needs_grad(0) else None,
                grad * ~condition if ctx.needs_grad(1) else None)


class Cast(Op):
    # y = x as another dtype;  the gradient goes back as x's dtype
    torch_name = "ToCopyBackward0"

    def forward(ctx, x, dtype=None):
        ctx.source = x.dtype
        return x.astype(dtype)

    def backward(ctx, grad):
        return (Cast.call(grad, dtype=ctx.source),)


class ToDevice(Op):
    # y = x copied to another device;  the gradient is copied back
    torch_name = "ToCopyBackward0"

    def forward(ctx, x, device="cpu"):
        ctx.source = device_of(x)
        return to_device(x, device)

    def backward(ctx, grad):
        return (ToDevice.call(grad, device=ctx.source),)


class Clone(Op):
    # y = a copy of x;  dy/dx = 1
    def forward(ctx, x):
        return x.copy()

    def backward(ctx, grad):
        return (grad,)
