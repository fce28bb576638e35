"""A declarative op test: each case says how to call the op and what inputs it takes; the
checks below run it against PyTorch and against finite differences.

A case's `fn(m, *xs)` is written once and called with `m = chainrule` and `m = torch`
(the two APIs share names), so the table doubles as a record of API parity. Where the two
differ, `torch_fn` gives the PyTorch spelling.

For every case the test files run
- forward vs PyTorch, float32 and float64 (values, shape and dtype);
- gradients vs PyTorch, with a random upstream gradient (so every output element counts);
- `cr.autograd.gradcheck` in float64 (central finite differences);
- second derivatives vs PyTorch: differentiate  s = Σ w ⊙ ∇ₓ(Σ v ⊙ f(x))  once more.

Inputs are drawn from a domain ("real", "positive", "distinct") and then nudged at least
`GAP` away from every kink the case lists (relu and abs at 0, clamp at its bounds): finite
differences and the two libraries' conventions only agree where the function is smooth.
"""
from __future__ import annotations

import dataclasses
from collections.abc import Callable

import numpy
import pytest
import torch
from devices import by_device, float32_tolerance

import chainrule as cr

GAP = 0.1  # how far inputs are kept from a kink (finite-difference eps is 1e-6)

TOLERANCE = {  # (rtol, atol) for comparisons with PyTorch
    numpy.float64: (1e-10, 1e-12),
    numpy.float32: (1e-5, 1e-6),
}
# float64 with eps 1e-6: truncation error ~eps² and rounding ~1e-16/eps, both ≤ 1e-10
GRADCHECK = {"atol": 1e-7, "rtol": 1e-6}
# float64 layers of many ops (attention, transformers) against PyTorch's, which sums in
# another order
LAYERS64 = (1e-7, 1e-9)


@dataclasses.dataclass(frozen=True)
class Case:
    id: str
    fn: Callable  # fn(m, *xs) with m the chainrule or the torch module
    shapes: tuple  # one shape per differentiable input
    domain: str = "real"  # "real" | "positive" | "distinct"
    kinks: tuple = ()  # input values to keep GAP away from
    torch_fn: Callable | None = None
    # why finite differences cannot check this case (they see another function than
    # backward does: a detached copy moves with its source, float32 rounding is too coarse)
    no_gradcheck: str = ""
    # (rtol, atol) in float32 for long sums (convolutions), atol scaled by the largest value
    float32_tolerance: tuple = ()

    def run(self, m, xs):
        fn = self.torch_fn if (m is torch and self.torch_fn is not None) else self.fn
        return fn(m, *xs)


def case(id: str, fn, *shapes, **options) -> Case:
    return Case(id, fn, tuple(shapes), **options)


def ids(cases) -> list[str]:
    return [c.id for c in cases]


def make_arrays(case: Case, dtype, seed: int = 0) -> list[numpy.ndarray]:
    """The case's inputs as NumPy arrays, reproducible from the case id and `seed`."""
    generator = numpy.random.default_rng([seed, *case.id.encode()])
    arrays = []
    for shape in case.shapes:
        n = int(numpy.prod(shape))
        if case.domain == "positive":
            a = generator.uniform(0.5, 2.0, n)
        elif case.domain == "distinct":  # no ties anywhere: max/min pick one element
            a = (generator.permutation(n) - n / 2) * 0.3 + generator.uniform(-0.05, 0.05, n)
        else:
            a = generator.standard_normal(n)
        a = _nudged(a, case.kinks)
        arrays.append(a.reshape(shape).astype(dtype))
    return arrays


def _nudged(a, kinks):
    for kink in kinks:
        near = numpy.abs(a - kink) < GAP
        a = numpy.where(near, kink + numpy.where(a >= kink, GAP, -GAP) * 2, a)
    return a


def chainrule_inputs(arrays, requires_grad=True, device="cpu"):
    return [cr.tensor(a.copy(), requires_grad=requires_grad, device=device) for a in arrays]


def torch_inputs(arrays, requires_grad=True):
    return [torch.tensor(a.copy(), requires_grad=requires_grad) for a in arrays]


def random_arrays(*shapes, seed=0, dtype=numpy.float32) -> list[numpy.ndarray]:
    """Standard normal arrays of these shapes, reproducible from `seed`."""
    generator = numpy.random.default_rng(seed)
    return [generator.standard_normal(s).astype(dtype) for s in shapes]


def assert_close(got, expected, dtype, what="", tolerance=()):
    """chainrule value (Tensor/array) vs a torch tensor (or array), at the dtype's tolerance
    or at `tolerance` = (rtol, atol), atol then scaled by the largest expected value."""
    got = got.numpy() if isinstance(got, cr.Tensor) else numpy.asarray(got)
    expected = expected.detach().numpy() if isinstance(expected, torch.Tensor) else expected
    expected = numpy.asarray(expected)
    rtol, atol = TOLERANCE[numpy.dtype(dtype).type]
    if tolerance:
        rtol, atol = tolerance
        atol *= max(1.0, float(numpy.abs(expected).max())) if expected.size else 1.0
    assert got.shape == expected.shape, f"{what}: shape {got.shape} != torch {expected.shape}"
    numpy.testing.assert_allclose(got, expected, rtol=rtol, atol=atol, err_msg=what)


def same_dtype(got: cr.Tensor, expected: torch.Tensor) -> bool:
    return numpy.dtype(got.dtype) == torch.empty((), dtype=expected.dtype).numpy().dtype


# --- the four checks ------------------------------------------------------------------------
def check_forward(case: Case, dtype, device="cpu") -> None:
    arrays = make_arrays(case, dtype)
    got = case.run(cr, chainrule_inputs(arrays, requires_grad=False, device=device))
    expected = case.run(torch, torch_inputs(arrays, requires_grad=False))
    assert isinstance(got, cr.Tensor)
    assert got.device.type == device, f"{case.id}: result on {got.device}, inputs on {device}"
    assert same_dtype(got, expected), f"dtype {got.dtype} != torch {expected.dtype}"
    assert got.grad_fn is None and not got.requires_grad
    assert_close(got, expected, dtype, f"{case.id} forward", _tolerance(case, dtype, device))


def check_backward(case: Case, dtype, device="cpu") -> None:
    arrays = make_arrays(case, dtype)
    xs, ts = chainrule_inputs(arrays, device=device), torch_inputs(arrays)
    out, expected = case.run(cr, xs), case.run(torch, ts)
    tolerance = _tolerance(case, dtype, device)
    assert_close(out, expected, dtype, f"{case.id} forward", tolerance)
    upstream = numpy.asarray(
        numpy.random.default_rng(1).standard_normal(tuple(expected.shape)), dtype=dtype)
    out.backward(cr.tensor(upstream, device=device))
    expected.backward(torch.tensor(upstream))
    for i, (x, t) in enumerate(zip(xs, ts)):
        assert x.grad is not None, f"{case.id}: input {i} got no gradient"
        assert x.grad.dtype == x.dtype and x.grad.shape == x.shape
        assert x.grad.grad_fn is None and x.grad.device == x.device
        assert_close(x.grad, t.grad, dtype, f"{case.id} d/dx{i}", tolerance)


def _tolerance(case: Case, dtype, device="cpu") -> tuple:
    if numpy.dtype(dtype) != numpy.float32:
        return ()
    return float32_tolerance(device, case.float32_tolerance)


def check_gradcheck(case: Case) -> None:
    if case.no_gradcheck:
        pytest.skip(case.no_gradcheck)
    xs = chainrule_inputs(make_arrays(case, numpy.float64))
    assert cr.autograd.gradcheck(lambda *x: case.run(cr, x), xs, **GRADCHECK)


def check_second_derivative(case: Case) -> None:
    """d/dx of  s = Σᵢ wᵢ ⊙ gᵢ  where gᵢ = d(Σ v ⊙ f(x))/dxᵢ was built with create_graph."""
    arrays = make_arrays(case, numpy.float64)
    generator = numpy.random.default_rng(2)
    out_shape = case.run(torch, torch_inputs(arrays, requires_grad=False)).shape
    v = numpy.asarray(generator.standard_normal(tuple(out_shape)))
    ws = [numpy.asarray(generator.standard_normal(a.shape)) for a in arrays]
    got = _second(cr, cr.autograd.grad, cr.tensor, case, chainrule_inputs(arrays), v, ws)
    expected = _second(torch, torch.autograd.grad, torch.tensor, case, torch_inputs(arrays),
                       v, ws)
    for i, (g, e) in enumerate(zip(got, expected)):
        assert_close(g, e, numpy.float64, f"{case.id} d²/dx{i}")


def _second(m, grad, tensor, case, xs, v, ws):
    out = case.run(m, xs)
    first = grad((out * tensor(v)).sum(), xs, create_graph=True, allow_unused=True)
    terms = [(g * tensor(w)).sum() for g, w in zip(first, ws) if g is not None]
    s = terms[0]
    for term in terms[1:]:
        s = s + term
    if not s.requires_grad:  # the gradient does not depend on x: f is linear in x
        return [numpy.zeros(w.shape) for w in ws]
    second = grad(s, xs, allow_unused=True)
    return [numpy.zeros(w.shape) if h is None else _numpy(h) for h, w in zip(second, ws)]


def _numpy(t):
    return t.numpy() if isinstance(t, cr.Tensor) else t.detach().numpy(force=True)  # ZeroTensor


def op_table_tests(cases, first_order=(), compared=()):
    """The four checks every op table gets, as pytest test functions:

        (test_forward_matches_torch, test_gradient_matches_torch, test_gradcheck,
         test_second_derivative_matches_torch) = op_table_tests(CASES)

    `first_order` cases skip the second derivative, and `compared` cases (modules wrapping
    ops already checked) are only compared with torch, forward and gradient.
    """
    cases, first_order, compared = list(cases), list(first_order), list(compared)
    by_case = pytest.mark.parametrize("case", cases, ids=ids(cases))
    gradchecked = cases + first_order
    by_gradchecked_case = pytest.mark.parametrize("case", gradchecked, ids=ids(gradchecked))
    everything = gradchecked + compared
    by_any_case = pytest.mark.parametrize("case", everything, ids=ids(everything))
    by_dtype = pytest.mark.parametrize("dtype", [numpy.float32, numpy.float64])

    @by_dtype
    @by_any_case
    @by_device
    def forward(case: Case, dtype, device) -> None:
        check_forward(case, dtype, device)

    @by_dtype
    @by_any_case
    @by_device
    def gradient(case: Case, dtype, device) -> None:
        check_backward(case, dtype, device)

    @by_gradchecked_case
    def gradcheck(case: Case) -> None:
        check_gradcheck(case)

    @by_case
    def second_derivative(case: Case) -> None:
        check_second_derivative(case)

    return forward, gradient, gradcheck, second_derivative
