"""explain.trace: the chain rule path by path. The sum over paths of the product of local
derivatives must equal the engine's gradient and a finite difference, for numbers and for
tensors, with one path or several, and the graph must be left intact."""
from __future__ import annotations

import numpy
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import chainrule as cr
from chainrule import nn
from chainrule.explain import trace
from chainrule.explain import trace as trace_module  # noqa: F401 (the module is importable)


def scalar(value):
    return cr.tensor(value, dtype=cr.float64, requires_grad=True)


# --- one-element tensors: numbers --------------------------------------------------------------
def test_scalar_chain_product_equals_engine_and_finite_difference() -> None:
    w = scalar(0.5)

    def f():
        return ((w * 1.5).sigmoid() - 1) ** 2

    result = trace(f(), w, fn=f)
    (path,) = result.paths
    assert [s.op for s in path.steps] == ["Pow", "Sub", "Sigmoid", "Mul"]
    product = numpy.prod([s.local for s in path.steps])
    assert product == pytest.approx(float(result.gradient), rel=1e-12)
    assert float(result.product) == pytest.approx(float(result.gradient), rel=1e-12)
    assert float(result.numerical) == pytest.approx(float(result.gradient), rel=1e-7)
    assert result.matches and result.agrees_with_engine and result.scalar
    # each local derivative is the textbook one
    y = 1 / (1 + numpy.exp(-0.75))
    locals_ = [s.local for s in path.steps]
    assert locals_ == pytest.approx([2 * (y - 1), 1.0, y * (1 - y), 1.5])


def test_scalar_printout_shows_the_product_with_numbers() -> None:
    w = scalar(0.5)

    def f():
        return ((w * 1.5).sigmoid() - 1) ** 2

    text = str(trace(f(), w, fn=f))
    assert "dL/dw = dL/dt3 · dt3/dt2 · dt2/dt1 · dt1/dw" in text
    assert "= (-0.6416)(1)(0.2179)(1.5)" in text
    assert "= -0.2097" in text
    assert "✓ matches finite difference" in text
    assert "Sigmoid" in text and "dy/dx = y(1 - y)" in text  # the op's own math comment


def test_parameter_used_twice_gives_two_paths_that_sum_to_the_gradient() -> None:
    w = scalar(0.5)

    def f():
        return (w * w * 3.0).tanh()

    result = trace(f(), w, fn=f, names={w: "w"})
    assert len(result.paths) == 2
    assert [p.steps[-1].input_index for p in result.paths] == [0, 1]
    shares = [float(p.value) for p in result.paths]
    assert sum(shares) == pytest.approx(float(result.gradient), rel=1e-12)
    assert result.matches
    text = str(result)
    assert "sum over the 2 paths" in text and "through input 1 of Mul" in text


def test_paths_through_different_branches() -> None:
    w = scalar(0.3)

    def f():
        a = (w * 2.0).tanh()
        b = w.exp() * a
        return b + w ** 3

    result = trace(f(), w, fn=f)
    assert len(result.paths) == 3  # through exp, through tanh, through w³
    assert [p.steps[-1].op for p in result.paths] == ["Exp", "Mul", "Pow"]
    assert float(result.product) == pytest.approx(float(result.gradient), rel=1e-12)
    assert result.matches


@settings(max_examples=40, deadline=None)
@given(st.floats(-2, 2), st.floats(0.2, 3))
def test_sum_of_path_products_is_the_gradient_for_any_values(a, b) -> None:
    w, v = scalar(a), scalar(b)
    loss = (w * v).sigmoid() * w + (v / (1 + w * w)).log() * w
    result = trace(loss, w)
    total = sum(numpy.prod([s.local for s in p.steps]) for p in result.paths)
    assert total == pytest.approx(float(result.gradient), rel=1e-9, abs=1e-12)


def test_named_intermediates_group_the_chain() -> None:
    w = scalar(0.4)
    z = w * 2.0 + 0.1
    h = z.sigmoid()
    loss = (h - 1.0) ** 2
    result = trace(loss, w, names={w: "w", z: "z", h: "h", loss: "L"})
    (path,) = result.paths
    assert [(f.output, f.input) for f in path.factors] == [("L", "h"), ("h", "z"), ("z", "w")]
    hv = float(h.item())
    assert [f.local for f in path.factors] == pytest.approx([2 * (hv - 1), hv * (1 - hv), 2.0])
    assert result.formula(path) == "dL/dw = dL/dh · dh/dz · dz/dw"


# --- tensors: vector-Jacobian products ---------------------------------------------------------
def mlp():
    cr.manual_seed(0)
    x = cr.randn(4, 3, dtype=cr.float64)
    w1 = cr.randn(3, 5, dtype=cr.float64, requires_grad=True)
    b1 = cr.zeros(5, dtype=cr.float64, requires_grad=True)
    w2 = cr.randn(5, 1, dtype=cr.float64, requires_grad=True)

    def f():
        return (((x @ w1 + b1).tanh() @ w2) ** 2).mean()
    return f, w1, b1, w2


@pytest.mark.parametrize("which", [0, 1, 2])
def test_tensor_trace_matches_engine_and_finite_differences(which) -> None:
    f, *params = mlp()
    param = params[which]
    result = trace(f(), param, fn=f, names={params[0]: "w1", params[1]: "b1", params[2]: "w2"})
    assert not result.scalar
    numpy.testing.assert_allclose(result.product, result.gradient, rtol=1e-12)
    numpy.testing.assert_allclose(result.numerical, result.gradient, rtol=1e-6, atol=1e-9)
    assert result.matches
    for path in result.paths:
        for step in path.steps:
            assert step.gradient.shape == step.input_shape  # broadcast summed (b1: (4,5) → (5,))
    text = str(result)
    assert "‖dL/d" in text
    if which == 1:  # the bias is broadcast over the batch; its step shows both shapes
        assert "(4, 5) ← (5,)" in text


def test_tensor_broadcast_and_shared_weight() -> None:
    cr.manual_seed(1)
    x = cr.randn(6, 4, dtype=cr.float64)
    w = cr.randn(4, 4, dtype=cr.float64, requires_grad=True)

    def f():
        return ((x @ w).relu() @ w).sum()  # w used by two matmuls: two paths

    result = trace(f(), w, fn=f)
    assert len(result.paths) == 2
    numpy.testing.assert_allclose(result.paths[0].value + result.paths[1].value,
                                  result.gradient, rtol=1e-12)
    assert result.matches


def test_large_parameter_is_checked_along_one_direction() -> None:
    cr.manual_seed(2)
    x = cr.randn(8, 30, dtype=cr.float64)
    w = cr.randn(30, 20, dtype=cr.float64, requires_grad=True)

    def f():
        return (x @ w).tanh().mean()

    result = trace(f(), w, fn=f)
    assert result.numerical is None and result.matches
    assert "random direction" in result.check_note


def test_module_parameter_names() -> None:
    cr.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 1)).to(cr.float64)
    x = cr.randn(5, 3, dtype=cr.float64)
    loss = model(x).pow(2).mean()
    weight = dict(model.named_parameters())["0.weight"]
    result = trace(loss, weight, names=model)
    assert result.param_name == "0.weight"
    assert "dL/d0.weight" in str(result)
    numpy.testing.assert_allclose(result.product, result.gradient, rtol=1e-10)


# --- reads, never writes ------------------------------------------------------------------------
def test_trace_leaves_the_graph_usable_for_backward() -> None:
    f, w1, _b1, _w2 = mlp()
    loss = f()
    result = trace(loss, w1)
    assert loss.grad_fn.saved is not None
    assert w1.grad is None  # trace does not touch .grad
    loss.backward()
    numpy.testing.assert_allclose(w1.grad.numpy(), result.gradient, rtol=1e-12)


def test_without_fn_says_not_checked() -> None:
    w = scalar(2.0)
    result = trace((w * w).log(), w)
    assert result.numerical is None and result.matches is None
    assert "not checked numerically" in str(result)


def test_trace_through_a_user_function() -> None:
    class Square(cr.autograd.Function):
        # y = x²;  dy/dx = 2x
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * x

        @staticmethod
        def backward(ctx, grad):
            (x,) = ctx.saved_tensors
            return grad * 2 * x

    w = scalar(1.5)

    def f():
        return Square.apply(w).tanh()

    result = trace(f(), w, fn=f)
    assert result.paths[0].steps[-1].op == "Square"
    assert result.rules["Square"] == "y = x²;  dy/dx = 2x"
    assert result.matches


# --- errors --------------------------------------------------------------------------------------
def test_errors_are_readable() -> None:
    w, v = scalar(1.0), scalar(2.0)
    with pytest.raises(ValueError, match="does not influence"):
        trace(v * 3.0, w, names={w: "w"})
    with pytest.raises(ValueError, match="single number"):
        trace(cr.tensor([1.0, 2.0], requires_grad=True) * 2, w)
    with pytest.raises(ValueError, match="does not require grad"):
        trace(w * 2, cr.tensor(1.0))
    loss = w * v
    loss.backward()
    with pytest.raises(RuntimeError, match="retain_graph"):
        trace(loss, w)


def test_a_graph_thousands_of_ops_deep() -> None:
    """No recursion and no per-step copying: a 6000-step path traces in well under a second."""
    w = scalar(0.5)
    y = w
    for _ in range(2000):
        y = (y * 0.999 + 0.001).tanh()
    result = trace(y, w)
    (path,) = result.paths
    assert len(path.steps) == 6000
    assert float(result.product) == pytest.approx(float(result.gradient), rel=1e-9)
