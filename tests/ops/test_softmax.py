"""softmax and log_softmax (ops/softmax.py), including extreme logits."""
from __future__ import annotations

import numpy
import pytest
import torch

import chainrule as cr

from .harness import (
    case,
    op_table_tests,
)

CASES = [
    case("softmax", lambda m, x: m.softmax(x, dim=-1), (3, 4)),
    case("softmax-dim0", lambda m, x: x.softmax(0), (3, 4)),
    case("softmax-dim1-3d", lambda m, x: m.softmax(x, dim=1), (2, 3, 4)),
    case("softmax-1d", lambda m, x: x.softmax(-1), (5,)),
    case("log-softmax", lambda m, x: m.log_softmax(x, dim=-1), (3, 4)),
    case("log-softmax-dim0", lambda m, x: x.log_softmax(0), (3, 4)),
    case("log-softmax-dim1-3d", lambda m, x: m.log_softmax(x, dim=1), (2, 3, 4)),
    case("softmax-of-log-softmax", lambda m, x: m.softmax(x.log_softmax(-1) * 2, dim=0),
         (3, 4)),
]


(test_forward_matches_torch, test_gradient_matches_torch, test_gradcheck,
 test_second_derivative_matches_torch) = op_table_tests(CASES)


EXTREME = [[1000.0, -1000.0, 0.0], [-1000.0, -1000.0, -1000.0], [1000.0, 1000.0, 999.0]]


@pytest.mark.parametrize("dtype", [cr.float32, cr.float64])
@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
def test_extreme_logits_stay_finite_and_match_torch(name, dtype) -> None:
    x = cr.tensor(EXTREME, dtype=dtype, requires_grad=True)
    t = torch.tensor(EXTREME, dtype=getattr(torch, str(dtype)), requires_grad=True)
    y, expected = getattr(cr, name)(x, dim=-1), getattr(torch, name)(t, dim=-1)
    assert numpy.isfinite(y.numpy()).all()
    numpy.testing.assert_allclose(y.numpy(), expected.detach().numpy(), rtol=1e-6, atol=1e-7)
    upstream = numpy.random.default_rng(0).standard_normal((3, 3)).astype(dtype)
    y.backward(cr.tensor(upstream))
    expected.backward(torch.tensor(upstream))
    assert numpy.isfinite(x.grad.numpy()).all()
    numpy.testing.assert_allclose(x.grad.numpy(), t.grad.numpy(), rtol=1e-5, atol=1e-6)


def test_log_softmax_of_extreme_logits_is_exact() -> None:
    y = cr.log_softmax(cr.tensor([1000.0, -1000.0]), dim=0)
    assert y.tolist() == [0.0, -2000.0]
    assert cr.softmax(cr.tensor([1000.0, -1000.0]), dim=0).tolist() == [1.0, 0.0]


def test_softmax_rows_sum_to_one() -> None:
    y = cr.randn(4, 7, dtype=cr.float64).softmax(-1)
    numpy.testing.assert_allclose(y.sum(-1).numpy(), numpy.ones(4), rtol=1e-14)
