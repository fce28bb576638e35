"""Elementwise ops (ops/elementwise.py) and their operators, against PyTorch and finite
differences; broadcasting shapes drawn by hypothesis."""
from __future__ import annotations

import numpy
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import mutually_broadcastable_shapes

import chainrule as cr

from .harness import (
    assert_close,
    case,
    chainrule_inputs,
    op_table_tests,
    torch_inputs,
)

CASES = [
    # binary arithmetic, operators and functional forms, with broadcasting
    case("add", lambda m, a, b: a + b, (2, 3), (2, 3)),
    case("add-broadcast", lambda m, a, b: m.add(a, b), (2, 3), (3,)),
    case("sub-broadcast", lambda m, a, b: a - b, (2, 1, 3), (4, 1)),
    case("sub-fn", lambda m, a, b: m.sub(a, b), (3,), (2, 3)),
    case("mul", lambda m, a, b: a * b, (2, 3), (2, 3)),
    case("mul-broadcast", lambda m, a, b: m.mul(a, b), (3, 1), (1, 4)),
    case("mul-self", lambda m, x: x * x, (2, 3)),
    case("div", lambda m, a, b: a / b, (2, 3), (2, 3), kinks=(0,)),
    case("div-broadcast", lambda m, a, b: m.div(a, b), (4, 3), (1, 3), kinks=(0,)),
    case("div-self", lambda m, x: (x + 3) / x, (5,), kinks=(0,)),
    case("pow-tensor", lambda m, a, b: a ** b, (2, 3), (2, 3), domain="positive"),
    case("pow-broadcast", lambda m, a, b: m.pow(a, b), (2, 3), (3,), domain="positive"),
    case("neg", lambda m, x: -x, (2, 3)),
    case("neg-fn", lambda m, x: m.neg(x), (4,)),
    # with Python scalars, both sides (reflected operators)
    case("add-scalar", lambda m, x: x + 2.5, (2, 3)),
    case("radd-scalar", lambda m, x: 2.5 + x, (2, 3)),
    case("sub-scalar", lambda m, x: x - 2.5, (2, 3)),
    case("rsub-scalar", lambda m, x: 2.5 - x, (2, 3)),
    case("mul-scalar", lambda m, x: x * -1.5, (2, 3)),
    case("rmul-scalar", lambda m, x: 3 * x, (2, 3)),
    case("div-scalar", lambda m, x: x / 1.7, (2, 3)),
    case("rdiv-scalar", lambda m, x: 1.7 / x, (2, 3), kinks=(0,)),
    case("pow-int-2", lambda m, x: x ** 2, (2, 3)),
    case("pow-int-3-negative-base", lambda m, x: x ** 3, (2, 3)),
    case("pow-half", lambda m, x: x ** 0.5, (2, 3), domain="positive"),
    case("pow-negative", lambda m, x: x ** -1.5, (2, 3), domain="positive"),
    case("rpow-scalar", lambda m, x: 2.0 ** x, (2, 3)),
    # unary functions, as functions and as methods
    case("exp", lambda m, x: m.exp(x), (2, 3)),
    case("exp-method", lambda m, x: x.exp(), (3,)),
    case("log", lambda m, x: m.log(x), (2, 3), domain="positive"),
    case("log-method", lambda m, x: x.log(), (3,), domain="positive"),
    case("sqrt", lambda m, x: m.sqrt(x), (2, 3), domain="positive"),
    case("abs", lambda m, x: m.abs(x), (2, 3), kinks=(0,)),
    case("abs-builtin", lambda m, x: abs(x), (5,), kinks=(0,)),
    case("tanh", lambda m, x: m.tanh(x), (2, 3)),
    case("sigmoid", lambda m, x: m.sigmoid(x), (2, 3)),
    case("sigmoid-method", lambda m, x: (3 * x).sigmoid(), (7,)),
    case("relu", lambda m, x: m.relu(x), (3, 4), kinks=(0,)),
    case("relu-method", lambda m, x: x.relu(), (5,), kinks=(0,)),
    case("clamp-min", lambda m, x: m.clamp(x, min=-0.5), (3, 4), kinks=(-0.5,)),
    case("clamp-max", lambda m, x: x.clamp(max=0.3), (3, 4), kinks=(0.3,)),
    case("clamp-both", lambda m, x: m.clamp(x, -0.5, 0.5), (3, 4), kinks=(-0.5, 0.5)),
    case("maximum", lambda m, a, b: m.maximum(a, b), (2, 3), (2, 3), domain="distinct"),
    case("minimum", lambda m, a, b: m.minimum(a, b), (2, 3), (3,), domain="distinct"),
    # where: the condition gets no gradient, a and b broadcast against it
    case("where", lambda m, a, b: m.where(a > 0, a, b), (2, 3), (2, 3), kinks=(0,)),
    case("where-broadcast", lambda m, a, b: m.where(b > 0, a, b * b), (3,), (2, 1),
         kinks=(0,)),
    case("where-scalar", lambda m, x: m.where(x > 0, x, 0.5), (2, 3), kinks=(0,)),
    # detach and clone: a detached copy is a constant
    case("detach", lambda m, x: x.detach() * x + x, (2, 3),
         no_gradcheck="finite differences also move the detached copy"),
    # to(dtype): the gradient goes back in the source dtype
    case("to-float64", lambda m, x: x.to(m.float64) * x.to(m.float64), (2, 3)),
    case("to-float32-and-back", lambda m, x: (x.to(m.float32) * 2).to(m.float64), (2, 3),
         no_gradcheck="float32 rounding swamps a 1e-6 finite difference"),
    case("clone", lambda m, x: x.clone() * x, (2, 3)),
    # compositions: every gradient path has to be summed
    case("composite", lambda m, a, b: m.tanh(a * b + a.exp() / (1 + b * b)) ** 2 - a,
         (2, 3), (3,)),
]


(test_forward_matches_torch, test_gradient_matches_torch, test_gradcheck,
 test_second_derivative_matches_torch) = op_table_tests(CASES)


# --- broadcasting, shapes drawn by hypothesis ----------------------------------------------
BINARY = {
    "add": lambda m, a, b: a + b,
    "sub": lambda m, a, b: a - b,
    "mul": lambda m, a, b: a * b,
    "div": lambda m, a, b: a / (b * b + 0.5),
    "pow": lambda m, a, b: (a * a + 0.5) ** b,
    "where": lambda m, a, b: m.where(a > b, a, b),
}


@settings(max_examples=25, deadline=None)
@given(shapes=mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=4, max_side=3),
       name=st.sampled_from(sorted(BINARY)), seed=st.integers(0, 2**16))
def test_binary_broadcasting_matches_torch(shapes, name, seed) -> None:
    """Forward and both gradients vs PyTorch in float64 (the gradient of each input is the
    upstream gradient summed over the dimensions broadcasting stretched)."""
    generator = numpy.random.default_rng(seed)
    arrays = [generator.standard_normal(s) for s in shapes.input_shapes]
    arrays = [numpy.asarray(a, dtype=numpy.float64) for a in arrays]
    xs, ts = chainrule_inputs(arrays), torch_inputs(arrays)
    out, expected = BINARY[name](cr, *xs), BINARY[name](torch, *ts)
    assert out.shape == shapes.result_shape
    assert_close(out, expected, numpy.float64, f"{name} forward")
    upstream = numpy.asarray(generator.standard_normal(shapes.result_shape))
    out.backward(cr.tensor(upstream))
    expected.backward(torch.tensor(upstream))
    for i, (x, t) in enumerate(zip(xs, ts)):
        assert x.grad.shape == x.shape
        assert_close(x.grad, t.grad, numpy.float64, f"{name} d/dx{i}")


@settings(max_examples=25, deadline=None)
@given(shapes=mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=3, max_side=3),
       name=st.sampled_from(sorted(BINARY)))
def test_binary_broadcasting_gradcheck(shapes, name) -> None:
    """Finite differences agree with backward's broadcast reduction (float64). `where`
    compares a > b; a tie within eps = 1e-6 has probability ~1e-6 per element."""
    generator = numpy.random.default_rng(0)
    xs = [cr.tensor(numpy.asarray(generator.standard_normal(s)), requires_grad=True)
          for s in shapes.input_shapes]
    assert cr.autograd.gradcheck(lambda a, b: BINARY[name](cr, a, b), xs, atol=1e-7,
                                 rtol=1e-6)


# --- kinks: the subgradient each library picks -------------------------------------------
def test_relu_and_abs_gradient_at_zero_is_zero_as_torch() -> None:
    for fn in (cr.relu, cr.abs):
        x = cr.tensor([-1.0, 0.0, 2.0], requires_grad=True)
        fn(x).sum().backward()
        t = torch.tensor([-1.0, 0.0, 2.0], requires_grad=True)
        getattr(torch, fn.__name__)(t).sum().backward()
        assert x.grad.tolist() == t.grad.tolist()


def test_clamp_gradient_at_the_bounds_is_one_as_torch() -> None:
    x = cr.tensor([-2.0, -1.0, 0.0, 1.0, 2.0], requires_grad=True)
    x.clamp(-1.0, 1.0).sum().backward()
    t = torch.tensor([-2.0, -1.0, 0.0, 1.0, 2.0], requires_grad=True)
    t.clamp(-1.0, 1.0).sum().backward()
    assert x.grad.tolist() == t.grad.tolist() == [0.0, 1.0, 1.0, 1.0, 0.0]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_sigmoid_keeps_relative_precision_for_very_negative_inputs(dtype) -> None:
    values = [-700.0, -100.0, -80.0, -30.0, -20.0, -9.0, -1.0]
    if dtype == "float32":
        values = values[2:]  # beyond, e^x is below float32's smallest number
    got = cr.tensor(values, dtype=dtype).sigmoid()
    expected = torch.tensor(values, dtype=getattr(torch, dtype)).sigmoid()
    assert (got.numpy() > 0).all()
    numpy.testing.assert_allclose(got.numpy(), expected.numpy(), rtol=1e-6, atol=0)
    numpy.testing.assert_allclose(got.log().numpy(), expected.log().numpy(), rtol=1e-6)


def test_sigmoid_and_tanh_saturate_without_overflow() -> None:
    x = cr.tensor([-1000.0, -50.0, 0.0, 50.0, 1000.0], requires_grad=True)
    y = x.sigmoid()
    y.sum().backward()
    assert y.tolist() == pytest.approx([0.0, 1.9287498e-22, 0.5, 1.0, 1.0], rel=1e-5, abs=0)
    assert numpy.isfinite(x.grad.numpy()).all()
    assert x.grad.numpy()[[0, 4]].tolist() == [0.0, 0.0]
    assert x.grad.numpy()[2] == 0.25


# --- dtypes --------------------------------------------------------------------------------
def test_to_dtype_is_differentiable_and_gradient_keeps_source_dtype() -> None:
    x = cr.tensor([1.0, -2.0, 3.0], requires_grad=True)
    y = x.to(cr.float64)
    assert y.dtype == cr.float64 and y.requires_grad
    (y * y * 3).sum().backward()
    assert x.grad.dtype == cr.float32
    numpy.testing.assert_array_equal(x.grad.numpy(), numpy.float32([6.0, -12.0, 18.0]))
    assert x.double().dtype == cr.float64 and x.double().float().dtype == cr.float32
    assert x.to(cr.float32) is x  # no-op conversion returns the tensor itself


def test_float32_stays_float32_with_python_scalars_as_torch() -> None:
    x = cr.tensor([1.0, 2.0])
    for y in (x + 1, 1 + x, x * 2.5, 2.5 / x, x ** 2, 2 ** x, x - 0.1, -x):
        assert y.dtype == cr.float32
    x64 = cr.tensor([1.0, 2.0], dtype=cr.float64)
    assert (x64 * 0.1).dtype == cr.float64 and (0.1 * x64).dtype == cr.float64


@pytest.mark.parametrize("name, fn", [
    ("truediv", lambda m, a: a / a),
    ("rtruediv", lambda m, a: 2 / a),
    ("exp", lambda m, a: m.exp(a)),
    ("log", lambda m, a: m.log(a)),
    ("sqrt", lambda m, a: m.sqrt(a)),
    ("tanh", lambda m, a: m.tanh(a)),
    ("sigmoid", lambda m, a: m.sigmoid(a)),
    ("add", lambda m, a: a + a),
    ("mul-int", lambda m, a: a * 3),
    ("neg", lambda m, a: -a),
    ("abs", lambda m, a: m.abs(a)),
])
def test_integer_inputs_give_torch_dtypes(name, fn) -> None:
    """Integer tensors: true division and float functions give the default float dtype,
    integer arithmetic stays int64, as in PyTorch."""
    got = fn(cr, cr.tensor([1, 2, 4]))
    expected = fn(torch, torch.tensor([1, 2, 4]))
    assert str(got.dtype) == str(expected.dtype).replace("torch.", "")
    numpy.testing.assert_allclose(got.numpy(), expected.numpy(), rtol=1e-6)


def test_comparisons_give_bool_tensors_without_graph() -> None:
    a = cr.tensor([1.0, 2.0, 3.0], requires_grad=True)
    for mask, expected in ((a > 2, [False, False, True]), (a <= 2, [True, True, False]),
                           (a == 2, [False, True, False]), (a != 2, [True, False, True]),
                           (a >= cr.tensor([3.0, 2.0, 1.0]), [False, True, True])):
        assert mask.dtype == cr.bool and mask.tolist() == expected
        assert not mask.requires_grad and mask.grad_fn is None
