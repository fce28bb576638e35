"""The pointwise table (ops/pointwise.py) and its public forms (composites/pointwise.py),
against PyTorch and finite differences: every differentiable row, its in-place and out=
forms, the comparisons."""
from __future__ import annotations

import numpy
import pytest
import torch
from ops.harness import case, op_table_tests  # tests/ops

import chainrule as cr

# x ↦ inputs inside each function's domain (the harness draws reals or (0.5, 2)).
UNIT = lambda m, x: m.tanh(x) * 0.9  # noqa: E731 - on (-0.9, 0.9)

CASES = [
    case("sin", lambda m, x: m.sin(x), (2, 3)),
    case("cos", lambda m, x: m.cos(x), (2, 3)),
    case("tan", lambda m, x: m.tan(x * 0.5), (2, 3)),
    case("asin", lambda m, x: m.asin(UNIT(m, x)), (2, 3)),
    case("acos", lambda m, x: m.acos(UNIT(m, x)), (2, 3)),
    case("atan", lambda m, x: m.atan(x), (2, 3)),
    case("arcsin", lambda m, x: m.arcsin(UNIT(m, x)), (4,)),
    case("sinh", lambda m, x: m.sinh(x), (2, 3)),
    case("cosh", lambda m, x: m.cosh(x), (2, 3)),
    case("asinh", lambda m, x: m.asinh(x), (2, 3)),
    case("acosh", lambda m, x: m.acosh(x + 1), (2, 3), domain="positive"),
    case("atanh", lambda m, x: m.atanh(UNIT(m, x)), (2, 3)),
    case("deg2rad", lambda m, x: m.deg2rad(x), (3,)),
    case("rad2deg", lambda m, x: m.rad2deg(x), (3,)),
    case("exp2", lambda m, x: m.exp2(x), (2, 3)),
    case("expm1", lambda m, x: m.expm1(x), (2, 3)),
    case("log2", lambda m, x: m.log2(x), (2, 3), domain="positive"),
    case("log10", lambda m, x: m.log10(x), (2, 3), domain="positive"),
    case("log1p", lambda m, x: m.log1p(x), (2, 3), domain="positive"),
    case("logit", lambda m, x: m.logit(m.sigmoid(x)), (2, 3)),
    case("square", lambda m, x: m.square(x), (2, 3)),
    case("reciprocal", lambda m, x: m.reciprocal(x), (2, 3), domain="positive"),
    case("rsqrt", lambda m, x: m.rsqrt(x), (2, 3), domain="positive"),
    case("erf", lambda m, x: m.erf(x), (2, 3)),
    case("erfc", lambda m, x: m.erfc(x), (2, 3)),
    case("erfinv", lambda m, x: m.erfinv(UNIT(m, x)), (2, 3)),
    case("sinc", lambda m, x: m.sinc(x), (2, 3)),
    case("frac", lambda m, x: m.frac(x), (2, 3), kinks=(-2, -1, 0, 1, 2)),
    case("floor", lambda m, x: m.floor(x) * x, (2, 3), kinks=(-2, -1, 0, 1, 2)),
    case("sign", lambda m, x: m.sign(x) * x, (2, 3), kinks=(0,)),
    case("round", lambda m, x: m.round(x) + x, (2, 3), kinks=(-1.5, -0.5, 0.5, 1.5)),
    case("atan2", lambda m, a, b: m.atan2(a, b), (2, 3), (3,)),
    case("hypot", lambda m, a, b: m.hypot(a, b), (2, 3), (2, 3)),
    case("fmod", lambda m, a, b: m.fmod(a, b), (2, 3), (2, 3), domain="positive",
         no_gradcheck=""),
    case("remainder", lambda m, a, b: m.remainder(a * 3, b), (2, 3), (2, 3),
         domain="positive"),
    case("logaddexp", lambda m, a, b: m.logaddexp(a, b), (2, 3), (2, 3)),
    case("logaddexp2", lambda m, a, b: m.logaddexp2(a, b), (2, 3), (3,)),
    case("xlogy", lambda m, a, b: m.xlogy(a, b), (2, 3), (2, 3), domain="positive"),
    case("fmax", lambda m, a, b: m.fmax(a, b), (6,), (6,), domain="distinct"),
    case("igamma", lambda m, x: m.igamma(m.tensor([0.5, 2.0, 3.0], dtype=x.dtype), x), (2, 3),
         domain="positive"),
    case("igammac", lambda m, x: m.igammac(m.tensor([0.5, 2.0, 3.0], dtype=x.dtype), x),
         (2, 3), domain="positive"),
    case("lerp", lambda m, a, b, w: m.lerp(a, b, w), (2, 3), (2, 3), (2, 3)),
    case("addcmul", lambda m, a, b, c: m.addcmul(a, b, c, value=0.5), (2, 3), (3,), (2, 3)),
    case("addcdiv", lambda m, a, b, c: m.addcdiv(a, b, c, value=2), (3,), (3,), (3,),
         domain="positive"),
    case("sub-alpha", lambda m, a, b: m.sub(a, b, alpha=3), (2, 3), (3,)),
    # the deprecated scalar-first overloads (pre-1.5 optimizers: p.data.add_(-lr, grad))
    case("add-scalar-first", lambda m, a, b: m.add(a, -0.5, b), (2, 3), (3,)),
    case("sub-scalar-first", lambda m, a, b: a.sub(2, b), (2, 3), (2, 3)),
    case("addcmul-scalar-first", lambda m, a, b, c: a.addcmul(0.5, b, c), (2, 3), (3,),
         (2, 3)),
    case("addcdiv-scalar-first", lambda m, a, b, c: m.addcdiv(a, -2, b, c), (3,), (3,),
         (3,), domain="positive"),
    case("method-sin-cos", lambda m, x: x.sin() * x.cos() + x.log10().abs(), (2, 3),
         domain="positive"),
]

# PyTorch's polygamma is accurate to ~5e-10 (relative): the digamma family's derivatives
# are checked against it at that tolerance below, and against finite differences here.
FIRST_ORDER = [case("lgamma", lambda m, x: m.lgamma(x), (2, 3), domain="positive")]

(test_forward_matches_torch, test_gradient_matches_torch, test_gradcheck,
 test_second_derivative_matches_torch) = op_table_tests(CASES, first_order=FIRST_ORDER)


def test_digamma_and_its_derivative_match_torch():
    values = numpy.array([0.3, 1.0, 2.5, 7.0])
    x, t = cr.tensor(values, requires_grad=True), torch.tensor(values, requires_grad=True)
    cr.digamma(x).sum().backward()
    torch.digamma(t).sum().backward()
    numpy.testing.assert_allclose(cr.digamma(x).detach().numpy(),
                                  torch.digamma(t).detach().numpy(), rtol=1e-12)
    numpy.testing.assert_allclose(x.grad.numpy(), t.grad.numpy(), rtol=1e-8)
    assert cr.autograd.gradcheck(cr.digamma, [cr.tensor(values, requires_grad=True)])


@pytest.mark.parametrize("name", ["sin", "exp", "log1p", "sqrt", "floor", "erf", "sigmoid",
                                  "tanh", "reciprocal", "neg", "abs"])
def test_in_place_and_out_forms_match_torch(name):
    values = numpy.array([0.25, 1.5, 2.0])
    ours, theirs = cr.tensor(values), torch.tensor(values)
    assert getattr(ours, name + "_")() is ours
    getattr(theirs, name + "_")()
    numpy.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-12)
    out = cr.empty(3, dtype=cr.float64)
    assert getattr(cr, name)(cr.tensor(values), out=out) is out
    numpy.testing.assert_allclose(out.numpy(), theirs.numpy(), rtol=1e-12)


@pytest.mark.filterwarnings("ignore:This overload")
def test_scalar_first_overloads_in_place_match_torch():
    """Adam as written before PyTorch 1.5: every update in the scalar-first forms."""
    values = [numpy.random.default_rng(i).standard_normal(5).astype(numpy.float32)
              for i in range(3)]
    results = []
    for m in (cr, torch):
        p, avg, grad = (m.tensor(v) for v in values)
        square = m.zeros(5)
        avg.mul_(0.9).add_(1 - 0.9, grad)
        square.mul_(0.999).addcmul_(1 - 0.999, grad, grad)
        p.addcdiv_(-0.01, avg, square.sqrt().add_(1e-8))
        p.sub_(0.1, grad)
        results.append((p.numpy(), avg.numpy(), square.numpy(), m.add(p, 2, 3).numpy()))
    for ours, theirs in zip(*results):
        numpy.testing.assert_allclose(ours, theirs, rtol=1e-6)


def test_scalar_first_overloads_warn_and_refuse_other_orders():
    x, y = cr.ones(2), cr.ones(2)
    with pytest.warns(UserWarning, match="add is deprecated"):
        x.add(2, y)
    with pytest.raises(TypeError, match="add"):
        cr.add(x, y, 2)          # the tensor first: not a PyTorch overload either
    with pytest.raises(TypeError, match="alpha"):
        cr.add(x, 2, y, alpha=3)
    with pytest.raises(TypeError, match="addcmul"):
        cr.addcmul(x, 0.5, y, y, value=2)


def test_in_place_inside_the_graph_matches_torch():
    results = []
    for m in (cr, torch):
        w = m.tensor([0.5, -1.0, 2.0], requires_grad=True)
        h = w * 3
        h.sin_()
        h.mul_(w)
        h.sum().backward()
        results.append((h.detach().numpy(), w.grad.numpy()))
    for a, b in zip(*results):
        numpy.testing.assert_allclose(a, b, rtol=1e-6)


def test_in_place_on_a_leaf_that_requires_grad_refuses():
    w = cr.ones(2, requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf"):
        w.sin_()
    with cr.no_grad():
        w.add_(1.0, alpha=2)
    assert w.tolist() == [3.0, 3.0]


def test_out_refuses_inputs_that_require_grad():
    with pytest.raises(RuntimeError, match="out="):
        cr.sin(cr.ones(2, requires_grad=True), out=cr.empty(2))


@pytest.mark.parametrize("name", ["eq", "ne", "lt", "le", "gt", "ge", "greater", "less_equal",
                                  "logical_and", "logical_xor", "isclose"])
def test_comparisons_match_torch(name):
    a, b = numpy.array([1.0, 2.0, 3.0, numpy.nan]), numpy.array([1.0, 2.5, 2.0, 1.0])
    got = getattr(cr, name)(cr.tensor(a), cr.tensor(b))
    expected = getattr(torch, name)(torch.tensor(a), torch.tensor(b))
    numpy.testing.assert_array_equal(got.numpy(), expected.numpy())
    numpy.testing.assert_array_equal(getattr(cr.tensor(a), name)(cr.tensor(b)).numpy(),
                                     expected.numpy())


@pytest.mark.parametrize("name", ["isnan", "isinf", "isfinite", "isposinf", "isneginf",
                                  "logical_not", "signbit", "sign", "floor", "trunc"])
def test_tests_match_torch(name):
    a = numpy.array([1.5, -numpy.inf, numpy.inf, numpy.nan, -0.5, 0.0])
    got, expected = getattr(cr, name)(cr.tensor(a)), getattr(torch, name)(torch.tensor(a))
    numpy.testing.assert_array_equal(got.numpy(), expected.numpy())
    assert got.dtype == expected.numpy().dtype


def test_integers():
    ints = [3, -7, 8]
    for name in ("floor", "sign", "square"):
        got, expected = getattr(cr, name)(cr.tensor(ints)), getattr(torch, name)(torch.tensor(ints))
        assert got.dtype == cr.int64 and got.tolist() == expected.tolist()
    assert cr.sin(cr.tensor(ints)).dtype == cr.float32
    for mode in ("floor", "trunc"):
        assert cr.div(cr.tensor(ints), 2, rounding_mode=mode).tolist() == \
            torch.div(torch.tensor(ints), 2, rounding_mode=mode).tolist()
    assert cr.equal(cr.tensor(ints), cr.tensor(ints)) and not cr.equal(cr.tensor(ints),
                                                                       cr.tensor([3, 7, 8]))
    assert cr.allclose(cr.tensor([1.0]), cr.tensor([1.0 + 1e-9]))


def test_nan_to_num_matches_torch():
    a = numpy.array([numpy.nan, numpy.inf, -numpy.inf, 1.0], dtype=numpy.float32)
    got = cr.nan_to_num(cr.tensor(a), nan=0.5)
    numpy.testing.assert_array_equal(got.numpy(), torch.nan_to_num(torch.tensor(a), 0.5).numpy())
