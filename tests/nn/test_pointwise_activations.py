"""The piecewise-linear and smooth activations (nn/functional/piecewise.py, smooth.py,
nn/layers/pointwise.py) against PyTorch: values, gradients, finite differences and second
derivatives."""
from __future__ import annotations

import numpy
import pytest
import torch
from ops.harness import case, op_table_tests  # tests/ops

import chainrule as cr


def F(m):
    return m.nn.functional


CASES = [
    case("hardtanh", lambda m, x: F(m).hardtanh(x * 2), (3, 4), kinks=(-0.5, 0.5)),
    case("hardtanh-range", lambda m, x: F(m).hardtanh(x * 2, -0.5, 1.5), (3, 4),
         kinks=(-0.25, 0.75)),
    case("relu6", lambda m, x: F(m).relu6(x * 5), (3, 4), kinks=(0, 1.2)),
    case("threshold", lambda m, x: F(m).threshold(x, 0.3, -2.0), (3, 4), kinks=(0.3,)),
    case("softshrink", lambda m, x: F(m).softshrink(x, 0.4), (3, 4), kinks=(-0.4, 0.4)),
    case("hardshrink", lambda m, x: F(m).hardshrink(x), (3, 4), kinks=(-0.5, 0.5)),
    case("prelu-shared", lambda m, x, w: F(m).prelu(x, w), (2, 3, 4), (1,), kinks=(0,)),
    case("prelu-channels", lambda m, x, w: F(m).prelu(x, w), (2, 3, 4), (3,), kinks=(0,)),
    case("rrelu-eval", lambda m, x: F(m).rrelu(x), (3, 4), kinks=(0,)),
    case("elu", lambda m, x: F(m).elu(x * 2), (3, 4), kinks=(0,)),
    case("elu-alpha", lambda m, x: F(m).elu(x * 2, alpha=0.5), (3, 4), kinks=(0,)),
    case("selu", lambda m, x: F(m).selu(x * 2), (3, 4), kinks=(0,)),
    case("celu", lambda m, x: F(m).celu(x * 2, alpha=1.5), (3, 4), kinks=(0,)),
    case("silu", lambda m, x: F(m).silu(x * 3), (3, 4)),
    case("mish", lambda m, x: F(m).mish(x * 3), (3, 4)),
    case("softplus", lambda m, x: F(m).softplus(x * 5), (3, 4)),
    case("softplus-beta", lambda m, x: F(m).softplus(x * 5, beta=2, threshold=4), (3, 4),
         kinks=(2,)),
    case("softsign", lambda m, x: F(m).softsign(x * 3), (3, 4)),
    case("tanhshrink", lambda m, x: F(m).tanhshrink(x * 2), (3, 4)),
    case("glu", lambda m, x: F(m).glu(x), (3, 4)),
    case("glu-dim0", lambda m, x: F(m).glu(x, dim=0), (4, 3)),
    case("softmin", lambda m, x: F(m).softmin(x, dim=1), (3, 4)),
]

# PyTorch's second derivatives of these use float32 constants even in float64
FIRST_ORDER = [
    case("hardsigmoid", lambda m, x: F(m).hardsigmoid(x * 4), (3, 4), kinks=(-0.75, 0.75)),
    case("hardswish", lambda m, x: F(m).hardswish(x * 4), (3, 4), kinks=(-0.75, 0.75)),
]

MODULES = [
    case("Hardtanh", lambda m, x: m.nn.Hardtanh(-2.0, 2.0)(x * 3), (2, 3), kinks=(-2 / 3, 2 / 3)),
    case("ReLU6", lambda m, x: m.nn.ReLU6()(x * 5), (2, 3), kinks=(0, 1.2)),
    case("Hardsigmoid", lambda m, x: m.nn.Hardsigmoid()(x * 4), (2, 3), kinks=(-0.75, 0.75)),
    case("Hardswish", lambda m, x: m.nn.Hardswish()(x * 4), (2, 3), kinks=(-0.75, 0.75)),
    case("Threshold", lambda m, x: m.nn.Threshold(0.1, 20)(x), (2, 3), kinks=(0.1,)),
    case("Softshrink", lambda m, x: m.nn.Softshrink()(x), (2, 3), kinks=(-0.5, 0.5)),
    case("Hardshrink", lambda m, x: m.nn.Hardshrink(0.3)(x), (2, 3), kinks=(-0.3, 0.3)),
    case("ELU", lambda m, x: m.nn.ELU(0.7)(x), (2, 3), kinks=(0,)),
    case("SELU", lambda m, x: m.nn.SELU()(x), (2, 3), kinks=(0,)),
    case("CELU", lambda m, x: m.nn.CELU()(x), (2, 3), kinks=(0,)),
    case("SiLU", lambda m, x: m.nn.SiLU()(x), (2, 3)),
    case("Mish", lambda m, x: m.nn.Mish()(x), (2, 3)),
    case("Softplus", lambda m, x: m.nn.Softplus(beta=0.5)(x), (2, 3)),
    case("Softsign", lambda m, x: m.nn.Softsign()(x), (2, 3)),
    case("Tanhshrink", lambda m, x: m.nn.Tanhshrink()(x), (2, 3)),
    case("GLU", lambda m, x: m.nn.GLU(dim=1)(x), (2, 4)),
    case("Softmin", lambda m, x: m.nn.Softmin(dim=1)(x), (2, 3)),
    case("Softmax2d", lambda m, x: m.nn.Softmax2d()(x), (2, 3, 2, 2)),
    case("RReLU-eval", lambda m, x: m.nn.RReLU().eval()(x), (2, 3), kinks=(0,)),
]

(test_forward_matches_torch, test_gradient_matches_torch, test_gradcheck,
 test_second_derivative_matches_torch) = op_table_tests(CASES, first_order=FIRST_ORDER,
                                                 compared=MODULES)


def test_prelu_module_learns_its_slopes_like_torch():
    x = numpy.random.default_rng(0).standard_normal((4, 3, 5))
    ours, theirs = cr.nn.PReLU(3), torch.nn.PReLU(3).double()
    ours.weight.data = cr.tensor(theirs.weight.detach().numpy())
    out = ours(cr.tensor(x)).sum()
    out.backward()
    expected = theirs(torch.tensor(x))
    expected.sum().backward()
    numpy.testing.assert_allclose(out.item(), expected.sum().item(), rtol=1e-12)
    numpy.testing.assert_allclose(ours.weight.grad.numpy(), theirs.weight.grad.numpy(),
                                  rtol=1e-12)
    assert repr(ours) == "PReLU(num_parameters=3)"


def test_rrelu_training_slopes_lie_between_lower_and_upper():
    x = -cr.ones(1000)
    y = cr.nn.RReLU(0.1, 0.3)(x).numpy()
    assert (-0.3 <= y).all() and (y <= -0.1).all() and y.std() > 0.01


def test_softplus_is_exact_for_large_inputs():
    x = cr.tensor([-800.0, 800.0], dtype=cr.float64)
    numpy.testing.assert_array_equal(cr.nn.functional.softplus(x).numpy(), [0.0, 800.0])


def test_elu_has_finite_gradients_for_huge_inputs():
    x = cr.tensor([1000.0, -1000.0], requires_grad=True)
    cr.nn.functional.elu(x).sum().backward()
    assert numpy.isfinite(x.grad.numpy()).all()


def test_errors_name_the_function():
    with pytest.raises(RuntimeError, match="glu: halving dimension"):
        cr.nn.functional.glu(cr.ones(3))
    with pytest.raises(RuntimeError, match="prelu: 2 slopes"):
        cr.nn.functional.prelu(cr.ones(2, 3), cr.ones(2))
