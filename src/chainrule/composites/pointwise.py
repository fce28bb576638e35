"""The public forms of the pointwise table (`cr.sin(x)`, `x.sin()`, `x.sin_()`,
`cr.sin(x, out=y)`), the comparisons and logical functions (no gradient), and the
composites built from existing ops (lerp, addcmul, ...)."""
from __future__ import annotations

import numbers
import warnings

import numpy

from .. import backend, versions
from ..autograd.grad_mode import is_grad_enabled
from ..backend import xp
from ..ops.pointwise import OPS, OPS2
from ..tensor import Tensor, lift
from . import functions as f

# Functions that keep an integer tensor's dtype (PyTorch rounds integers to themselves).
KEEPS_INTEGERS = ("sign", "floor", "ceil", "trunc", "square", "signbit")
# Binary functions whose integer results are integers (NumPy's name for each).
INTEGER_BINARY = {"remainder": "mod", "fmod": "fmod"}
# What the table calls a row, where PyTorch has another name too.
ALIASES = {"arcsin": "asin", "arccos": "acos", "arctan": "atan", "arcsinh": "asinh",
           "arccosh": "acosh", "arctanh": "atanh", "sgn": "sign", "fix": "trunc",
           "arctan2": "atan2"}


def into(out: Tensor | None, result: Tensor) -> Tensor:
    """`out=`: write the result into `out` (resized if its shape differs), as PyTorch; the
    graph cannot record that, so it refuses inputs that require grad while grad is on."""
    if out is None:
        return result
    if result.requires_grad and is_grad_enabled():
        raise RuntimeError("out=: functions with out= arguments don't support automatic "
                           "differentiation, but one of the arguments requires grad")
    if out.shape == result.shape:
        out.array[...] = result.array
        versions.bump(out.array)
    else:
        out.array = result.array.astype(out.dtype)
    return out


def with_out(function):
    """`function` that also takes PyTorch's `out=`."""
    def with_out_argument(*args, out=None, **kwargs):
        return into(out, function(*args, **kwargs))
    with_out_argument.__name__ = function.__name__
    with_out_argument.__doc__ = function.__doc__
    return with_out_argument


def _unary(name: str):
    op = OPS[name]

    def function(input: Tensor, *, out: Tensor | None = None) -> Tensor:  # noqa: A002
        x = input if isinstance(input, Tensor) else Tensor(input)
        if name not in KEEPS_INTEGERS or x.dtype.kind == "b":
            x = f._floating(x)
        return into(out, op.apply(x))
    function.__name__ = name
    function.__doc__ = f"{name}(input) elementwise, as torch.{name}."
    return function


def _binary(name: str):
    op = OPS2[name]

    def function(input, other, *, out: Tensor | None = None) -> Tensor:  # noqa: A002
        a, b = f._pair(input, other)
        if name in INTEGER_BINARY and a.dtype.kind in "iu" and b.dtype.kind in "iu":
            integer = getattr(backend.xp(a.array), INTEGER_BINARY[name])
            return into(out, Tensor._wrap(integer(a.array, b.array)))
        return into(out, op.apply(f._floating(a), f._floating(b)))
    function.__name__ = name
    function.__doc__ = f"{name}(input, other) elementwise with broadcasting, as torch.{name}."
    return function


FUNCTIONS = {name: _unary(name) for name in OPS if name not in ("trigamma", "tetragamma",
                                                                "pentagamma", "i1")}
FUNCTIONS.update({name: _binary(name) for name in OPS2})


def round(input: Tensor, *, decimals: int = 0, out=None) -> Tensor:  # noqa: A001, A002
    """Round half to even (as torch.round); `decimals` rounds x·10^d and divides back."""
    if decimals == 0:
        return into(out, OPS["round"].apply(input) if input.dtype.kind == "f" else input)
    scale = 10.0 ** decimals
    return into(out, OPS["round"].apply(f._floating(input) * scale) / scale)


def lerp(input, end, weight, *, out=None) -> Tensor:  # noqa: A002
    """start + weight · (end - start)."""
    return into(out, f.add(input, f.mul(weight, f.sub(end, input))))


def addcmul(input, tensor1, tensor2, *scalar_first, value=1, out=None) -> Tensor:  # noqa: A002
    """input + value · tensor1 · tensor2."""
    if scalar_first:
        value, (tensor1, tensor2) = _scalar_first("addcmul", "value", value,
                                                  (tensor1, tensor2, *scalar_first))
    return into(out, f.add(input, f.mul(value, f.mul(tensor1, tensor2))))


def addcdiv(input, tensor1, tensor2, *scalar_first, value=1, out=None) -> Tensor:  # noqa: A002
    """input + value · tensor1 / tensor2."""
    if scalar_first:
        value, (tensor1, tensor2) = _scalar_first("addcdiv", "value", value,
                                                  (tensor1, tensor2, *scalar_first))
    return into(out, f.add(input, f.mul(value, f.div(tensor1, tensor2))))


def _scalar_first(name: str, keyword: str, given, positional: tuple):
    """PyTorch's deprecated overloads that put the scalar before the tensors it scales,
    `add(x, alpha, other)` and `addcmul(x, value, t1, t2)` (pre-1.5 optimizers write
    `p.data.add_(-lr, grad)`): PyTorch still reads them, with a warning. Returns the
    scalar and the operands after it."""
    scalar, operands = positional[0], positional[1:]
    if isinstance(scalar, Tensor) or not isinstance(scalar, numbers.Number) or given != 1:
        raise TypeError(f"{name}(): {len(positional) + 1} positional arguments are only "
                        f"accepted as the deprecated {name}(input, Number {keyword}, "
                        f"{', '.join('Tensor' for _ in operands)}), without {keyword}=")
    warnings.warn(f"This overload of {name} is deprecated: {name}(Number {keyword}, "
                  f"...); use {name}(..., *, Number {keyword}) instead", UserWarning,
                  stacklevel=3)
    return scalar, operands


def float_power(input, exponent, *, out=None) -> Tensor:  # noqa: A002
    """input ** exponent computed in float64, as torch.float_power."""
    a, b = (lift(v, input) if not isinstance(v, Tensor) else v for v in (input, exponent))
    return into(out, f.pow(f.cast(a, backend.float64), f.cast(b, backend.float64)))


def positive(input: Tensor) -> Tensor:  # noqa: A002
    return input


def nan_to_num(input: Tensor, nan: float = 0.0, posinf=None, neginf=None,  # noqa: A002
               *, out=None) -> Tensor:
    """NaN → nan, ±inf → the dtype's largest/smallest (or posinf/neginf); gradient 1 where
    the input was finite and 0 where it was replaced."""
    info = numpy.finfo(input.dtype) if input.dtype.kind == "f" else None
    if info is None:
        return into(out, input)
    finite = Tensor._wrap(backend.xp(input.array).isfinite(input.array))
    replaced = backend.xp(input.array).nan_to_num(
        input.array, nan=nan, posinf=info.max if posinf is None else posinf,
        neginf=info.min if neginf is None else neginf)
    return into(out, f.where(finite, input, Tensor._wrap(replaced)))


# --- comparisons and logic: no gradient, a bool tensor --------------------------------------
def _comparison(name: str, numpy_name: str):
    def function(input, other, *, out=None) -> Tensor:  # noqa: A002
        a, b = f._pair(input, other)
        return into(out, Tensor._wrap(getattr(backend.xp(a.array), numpy_name)(a.array,
                                                                               b.array)))
    function.__name__ = name
    function.__doc__ = f"{name}(input, other): elementwise, a bool tensor (no gradient)."
    return function


COMPARISONS = {"eq": "equal", "ne": "not_equal", "lt": "less", "le": "less_equal",
               "gt": "greater", "ge": "greater_equal", "logical_and": "logical_and",
               "logical_or": "logical_or", "logical_xor": "logical_xor",
               "bitwise_and": "bitwise_and", "bitwise_or": "bitwise_or",
               "bitwise_xor": "bitwise_xor", "bitwise_left_shift": "left_shift",
               "bitwise_right_shift": "right_shift"}
COMPARISON_ALIASES = {"greater": "gt", "greater_equal": "ge", "less": "lt",
                      "less_equal": "le", "not_equal": "ne"}
FUNCTIONS.update({name: _comparison(name, np) for name, np in COMPARISONS.items()})


def _test(name: str, numpy_name: str):
    def function(input: Tensor) -> Tensor:  # noqa: A002
        return Tensor._wrap(getattr(backend.xp(input.array), numpy_name)(input.array))
    function.__name__ = name
    function.__doc__ = f"{name}(input): elementwise, a bool tensor (no gradient)."
    return function


TESTS = {"isnan": "isnan", "isinf": "isinf", "isfinite": "isfinite", "isposinf": "isposinf",
         "isneginf": "isneginf", "isreal": "isreal", "logical_not": "logical_not",
         "bitwise_not": "invert"}
FUNCTIONS.update({name: _test(name, np) for name, np in TESTS.items()})


def isclose(input, other, rtol: float = 1e-05, atol: float = 1e-08,  # noqa: A002
            equal_nan: bool = False) -> Tensor:
    a, b = f._pair(input, other)
    return Tensor._wrap(backend.xp(a.array).isclose(a.array, b.array, rtol=rtol, atol=atol,
                                                    equal_nan=equal_nan))


def allclose(input, other, rtol: float = 1e-05, atol: float = 1e-08,  # noqa: A002
             equal_nan: bool = False) -> bool:
    return bool(isclose(input, other, rtol, atol, equal_nan).array.all())


def equal(input: Tensor, other: Tensor) -> bool:  # noqa: A002
    """True when both have the same shape and the same values."""
    return input.shape == other.shape and bool((input.array == other.array).all())


def add(input, other, *scalar_first, alpha=1, out=None) -> Tensor:  # noqa: A002
    """input + alpha · other (also the deprecated add(input, alpha, other))."""
    if scalar_first:
        alpha, (other,) = _scalar_first("add", "alpha", alpha, (other, *scalar_first))
    if alpha == 1 and out is None:
        return f.add(input, other)
    return into(out, f.add(input, _scaled(other, alpha)))


def sub(input, other, *scalar_first, alpha=1, out=None) -> Tensor:  # noqa: A002
    """input - alpha · other (also the deprecated sub(input, alpha, other))."""
    if scalar_first:
        alpha, (other,) = _scalar_first("sub", "alpha", alpha, (other, *scalar_first))
    return into(out, f.sub(input, _scaled(other, alpha)))


def _scaled(value, alpha):
    if alpha == 1:
        return value
    return f.mul(value, alpha) if isinstance(value, Tensor) else value * alpha


def mul(input, other, *, out=None) -> Tensor:  # noqa: A002
    return into(out, f.mul(input, other))


def div(input, other, *, rounding_mode=None, out=None) -> Tensor:  # noqa: A002
    """input / other; rounding_mode "trunc" or "floor" rounds the quotient (no gradient
    through the rounding, as PyTorch), keeping integer dtypes."""
    if rounding_mode is None:
        return into(out, f.div(input, other))
    if rounding_mode not in ("trunc", "floor"):
        raise ValueError(f"div: rounding_mode must be None, 'trunc' or 'floor', "
                         f"got {rounding_mode!r}")
    a, b = (t.array for t in f._pair(input, other))
    quotient = xp(a).floor_divide(a, b) if rounding_mode == "floor" else (
        xp(a).trunc(a / b).astype(a.dtype) if a.dtype.kind == "f" else
        (xp(a).sign(a) * xp(a).sign(b) * (xp(a).abs(a) // xp(a).abs(b))))
    return into(out, Tensor._wrap(quotient.astype(a.dtype, copy=False)))


def floor_divide(input, other, *, out=None) -> Tensor:  # noqa: A002
    return div(input, other, rounding_mode="floor", out=out)


FUNCTIONS.update({"add": add, "sub": sub, "mul": mul, "div": div, "subtract": sub,
                  "multiply": mul, "divide": div, "true_divide": div,
                  "floor_divide": floor_divide})
FUNCTIONS.update({"round": round, "lerp": lerp, "addcmul": addcmul, "addcdiv": addcdiv,
                  "float_power": float_power, "positive": positive,
                  "nan_to_num": nan_to_num, "isclose": isclose, "allclose": allclose,
                  "equal": equal})
for _alias, _name in {**ALIASES, **COMPARISON_ALIASES}.items():
    FUNCTIONS[_alias] = FUNCTIONS[_name]
