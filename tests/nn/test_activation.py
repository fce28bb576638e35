"""Activations (nn/functional/activation.py, ops/activation.py) and their modules against
PyTorch: values, gradients, finite differences and second derivatives."""
from __future__ import annotations

import math

import numpy
import pytest
import torch
from ops.harness import (  # tests/ops
    case,
    op_table_tests,
)

import chainrule as cr
import chainrule.nn.functional as F
from chainrule.ops.activation import erf

CASES = [
    case("relu", lambda m, x: m.nn.functional.relu(x), (3, 4), kinks=(0,)),
    case("leaky-relu", lambda m, x: m.nn.functional.leaky_relu(x), (3, 4), kinks=(0,)),
    case("leaky-relu-slope", lambda m, x: m.nn.functional.leaky_relu(x, negative_slope=0.3),
         (2, 5), kinks=(0,)),
    case("gelu", lambda m, x: m.nn.functional.gelu(x * 3), (4, 5)),
    # (inputs within ±5: beyond, 1 + tanh u cancels in float32 in both libraries)
    case("gelu-tanh", lambda m, x: m.nn.functional.gelu(x * 2, approximate="tanh"), (4, 5)),
    case("tanh", lambda m, x: m.nn.functional.tanh(x), (3, 4)),
    case("sigmoid", lambda m, x: m.nn.functional.sigmoid(x * 4), (3, 4)),
    case("logsigmoid", lambda m, x: m.nn.functional.logsigmoid(x * 10), (3, 4)),
    case("softmax", lambda m, x: m.nn.functional.softmax(x, dim=1), (3, 4)),
    case("softmax-dim0", lambda m, x: m.nn.functional.softmax(x, dim=0), (2, 3, 4)),
    case("log-softmax", lambda m, x: m.nn.functional.log_softmax(x, dim=-1), (3, 4)),
]

MODULES = [
    case("ReLU", lambda m, x: m.nn.ReLU()(x), (2, 3), kinks=(0,)),
    case("LeakyReLU", lambda m, x: m.nn.LeakyReLU(0.2)(x), (2, 3), kinks=(0,)),
    case("GELU", lambda m, x: m.nn.GELU()(x), (2, 3)),
    case("GELU-tanh", lambda m, x: m.nn.GELU(approximate="tanh")(x), (2, 3)),
    case("Tanh", lambda m, x: m.nn.Tanh()(x), (2, 3)),
    case("Sigmoid", lambda m, x: m.nn.Sigmoid()(x), (2, 3)),
    case("Softmax", lambda m, x: m.nn.Softmax(dim=-1)(x), (2, 3)),
    case("LogSoftmax", lambda m, x: m.nn.LogSoftmax(dim=1)(x), (2, 3)),
]


(test_forward_matches_torch, test_gradient_matches_torch, test_gradcheck,
 test_second_derivative_matches_torch) = op_table_tests(CASES, compared=MODULES)


def test_erf_matches_torch_to_float64_precision() -> None:
    x = numpy.concatenate([numpy.linspace(-7, 7, 20001), numpy.geomspace(1e-10, 30, 500),
                           -numpy.geomspace(1e-10, 30, 500), [0.0, numpy.inf, -numpy.inf]])
    expected = torch.erf(torch.from_numpy(x)).numpy()
    numpy.testing.assert_allclose(erf(x), expected, rtol=2e-13, atol=1e-300)
    assert numpy.isnan(erf(numpy.array([numpy.nan]))).all()
    x32 = x.astype(numpy.float32)
    got = erf(x32)
    assert got.dtype == numpy.float32
    numpy.testing.assert_allclose(got, torch.erf(torch.from_numpy(x32)).numpy(), rtol=5e-7,
                                  atol=1e-7)
    assert erf(numpy.array([0.5]))[0] == pytest.approx(math.erf(0.5), rel=1e-15)


@pytest.mark.parametrize("approximate", ["none", "tanh"])
def test_gelu_of_large_inputs_is_exact(approximate) -> None:
    x = cr.tensor([-60.0, -10.0, 10.0, 60.0], requires_grad=True)
    t = torch.tensor(x.numpy(), requires_grad=True)
    y = F.gelu(x, approximate=approximate)
    expected = torch.nn.functional.gelu(t, approximate=approximate)
    numpy.testing.assert_allclose(y.numpy(), expected.detach().numpy(), atol=1e-6)
    y.sum().backward()
    expected.sum().backward()
    numpy.testing.assert_allclose(x.grad.numpy(), t.grad.numpy(), atol=1e-6)


def test_module_reprs_match_torch() -> None:
    for ours, theirs in [(cr.nn.ReLU(), torch.nn.ReLU()), (cr.nn.LeakyReLU(0.2),
                         torch.nn.LeakyReLU(0.2)), (cr.nn.GELU("tanh"), torch.nn.GELU("tanh")),
                         (cr.nn.Softmax(dim=1), torch.nn.Softmax(dim=1)),
                         (cr.nn.LogSoftmax(dim=0), torch.nn.LogSoftmax(dim=0)),
                         (cr.nn.Tanh(), torch.nn.Tanh()), (cr.nn.Sigmoid(), torch.nn.Sigmoid())]:
        assert repr(ours) == repr(theirs)
    assert not list(cr.nn.ReLU().parameters())


def test_softmax_without_dim_warns_and_picks_torchs_dim() -> None:
    x = numpy.random.default_rng(0).standard_normal((2, 3)).astype(numpy.float32)
    with pytest.warns(UserWarning, match="Implicit dimension"):
        y = F.softmax(cr.tensor(x))
    with pytest.warns(UserWarning):
        expected = torch.nn.functional.softmax(torch.tensor(x))
    numpy.testing.assert_allclose(y.numpy(), expected.numpy(), rtol=1e-6)


def test_errors_name_the_problem() -> None:
    with pytest.raises(ValueError, match="approximate"):
        F.gelu(cr.randn(3), approximate="fast")
    with pytest.raises(ValueError, match="approximate"):
        cr.nn.GELU("fast")
    with pytest.raises(TypeError, match="floating point"):
        F.gelu(cr.tensor([1, 2]))
    with pytest.raises(IndexError, match="dim 2"):
        F.softmax(cr.randn(2, 3), dim=2)


def test_softmax_dtype_argument_casts_first() -> None:
    x = cr.tensor([[1.0, 2.0, 3.0]])
    y = F.log_softmax(x, dim=1, dtype=cr.float64)
    assert y.dtype == cr.float64
    expected = torch.log_softmax(torch.tensor([[1.0, 2.0, 3.0]]), 1, dtype=torch.float64)
    numpy.testing.assert_allclose(y.numpy(), expected.numpy(), rtol=1e-12)
