"""Check a backward pass against central finite differences, in float64.

For a function f and inputs x, the engine's gradient of  s = Σ f(x) ⊙ v  (v a fixed random
tensor, so every output element counts) is compared element by element with

    ds/dxᵢ ≈ (s(x + εeᵢ) - s(x - εeᵢ)) / 2ε.
"""
from __future__ import annotations

import inspect
import re

import numpy

from .. import backend
from ..autograd import engine
from ..autograd.grad_mode import enable_grad, no_grad
from ..sparse import dense_tensor
from ..tensor import Tensor


class GradcheckError(AssertionError):
    """The analytical and numerical gradients disagree; the message shows the worst element."""


def gradcheck(fn, inputs, eps: float = 1e-6, atol: float = 1e-5, rtol: float = 1e-3,
              seed: int = 0) -> bool:
    inputs = (inputs,) if isinstance(inputs, Tensor) else tuple(inputs)
    checked = [i for i, x in enumerate(inputs) if isinstance(x, Tensor) and x.requires_grad]
    if not checked:
        raise ValueError("gradcheck: no input requires grad")
    for i in checked:
        if inputs[i].dtype != backend.float64:
            raise TypeError(f"gradcheck: input {i} is {inputs[i].dtype}; use float64 "
                            "(finite differences in float32 are too coarse)")
    outputs = _as_tuple(fn(*inputs))
    generator = numpy.random.default_rng(seed)
    weights = [generator.standard_normal(o.shape) for o in outputs]

    def scalar(*xs) -> Tensor:
        total = None
        for o, w in zip(_as_tuple(fn(*xs)), weights):
            term = (o * Tensor(w, dtype=o.dtype, device=o.device)).sum()
            total = term if total is None else total + term
        return total

    analytical = engine.grad(scalar(*inputs), [inputs[i] for i in checked], allow_unused=True)
    for i, got in zip(checked, analytical):
        expected = _numerical(scalar, inputs, i, eps)
        got = numpy.zeros_like(expected) if got is None else dense_tensor(got).numpy()
        _compare(i, got, expected, atol, rtol)
    return True


def _as_tuple(out):
    return tuple(out) if isinstance(out, (tuple, list)) else (out,)


def _numerical(scalar, inputs, i, eps):
    x = inputs[i].array
    grad = numpy.zeros(x.shape)
    with no_grad():
        for index in numpy.ndindex(*x.shape):
            original = x[index].item()
            x[index] = original + eps
            above = scalar(*inputs).item()
            x[index] = original - eps
            below = scalar(*inputs).item()
            x[index] = original
            grad[index] = (above - below) / (2 * eps)
    return grad


def _compare(i, got, expected, atol, rtol):
    error = numpy.abs(got - expected) - (atol + rtol * numpy.abs(expected))
    if error.size and error.max() > 0:
        worst = numpy.unravel_index(int(error.argmax()), error.shape)
        raise GradcheckError(
            f"gradcheck: input {i}, element {tuple(int(k) for k in worst)}: backward gave "
            f"{got[worst]:.8g}, finite differences {expected[worst]:.8g} "
            f"(|difference| {abs(got[worst] - expected[worst]):.3g} > atol {atol} + "
            f"rtol {rtol}·|expected|); {int((error > 0).sum())} of {error.size} elements differ")


def gradgradcheck(fn, inputs, grad_outputs=None, eps: float = 1e-6, atol: float = 1e-5,
                  rtol: float = 1e-3, seed: int = 0) -> bool:
    """Second derivatives against finite differences: gradcheck of the first gradient
    g(x) = ∂(Σ f(x) ⊙ v)/∂x (built with create_graph, v fixed random or `grad_outputs`)."""
    inputs = (inputs,) if isinstance(inputs, Tensor) else tuple(inputs)
    outputs = _as_tuple(fn(*inputs))
    generator = numpy.random.default_rng(seed + 1)
    vs = _as_tuple(grad_outputs) if grad_outputs is not None else tuple(
        Tensor(generator.standard_normal(o.shape), dtype=o.dtype) for o in outputs)

    checked = [i for i, x in enumerate(inputs) if isinstance(x, Tensor) and x.requires_grad]

    def first_gradient(*xs):
        # (finite differences call this under no_grad with plain copies: leaves again)
        xs = [x if i not in checked or x.requires_grad else x.detach().requires_grad_()
              for i, x in enumerate(xs)]
        with enable_grad():
            outs = _as_tuple(fn(*xs))
            total = sum((o * v).sum() for o, v in zip(outs, vs))
            return engine.grad(total, [xs[i] for i in checked], create_graph=True)

    return gradcheck(first_gradient, inputs, eps=eps, atol=atol, rtol=rtol, seed=seed)


def verify(function, *inputs, eps: float = 1e-6, atol: float = 1e-5, rtol: float = 1e-3) -> bool:
    """`MyFunction.verify(*inputs)`: check a user Function's `backward` against central
    finite differences, in float64.

    Floating tensors among `inputs` become float64 copies that require grad; other
    arguments are passed unchanged. Returns True, or raises `GradcheckError` naming the
    input and the element where backward and the finite difference disagree."""
    args = tuple(Tensor(a.array.copy(), dtype=numpy.float64, requires_grad=True)
                 if isinstance(a, Tensor) and a.dtype.kind == "f" else a for a in inputs)
    try:
        return gradcheck(lambda *xs: function.apply(*xs), args, eps=eps, atol=atol, rtol=rtol)
    except GradcheckError as err:
        names = _argument_names(function.forward)

        def named(match):
            i = int(match.group(1))
            return f"input {i} ({names[i]})," if i < len(names) else match.group(0)
        text = re.sub(r"input (\d+),", named, str(err).removeprefix("gradcheck: "), count=1)
        raise GradcheckError(f"{function.__name__}.backward disagrees with finite "
                             f"differences: {text}") from None


def _argument_names(forward) -> list:
    """forward's parameter names after ctx, for error messages ("input 1 (weight)")."""
    try:
        parameters = list(inspect.signature(forward).parameters.values())[1:]
    except (TypeError, ValueError):
        return []
    return [p.name for p in parameters if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
