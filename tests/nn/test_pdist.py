"""pdist (distances between all pairs of rows) against PyTorch: values, gradients (0 where
two rows or two coordinates are equal, as PyTorch), finite differences, second derivatives."""
from __future__ import annotations

import numpy
import pytest
import torch
from ops.harness import case, op_table_tests  # tests/ops

import chainrule as cr

CASES = [
    case(f"pdist-p{p}", lambda m, x, p=p: m.nn.functional.pdist(x, p), (5, 3),
         domain="distinct")
    for p in (0.5, 1, 1.5, 2, 3, float("inf"))
] + [
    case("torch.pdist", lambda m, x: m.pdist(x), (4, 6)),
    case("pdist-one-row", lambda m, x: m.pdist(x), (1, 3)),
]
# PyTorch has no second derivative of pdist ('_pdist_backward' is not differentiable)
FIRST_ORDER = CASES + [  # p = 0 counts differing coordinates: a step function, gradient 0
    case("pdist-p0", lambda m, x: m.pdist(x, 0), (4, 3), domain="distinct",
         no_gradcheck="a count of coordinates is piecewise constant"),
]

(test_forward_matches_torch, test_gradient_matches_torch, test_gradcheck,
 test_second_derivative_matches_torch) = op_table_tests([], first_order=FIRST_ORDER)


@pytest.mark.parametrize("p", [0, 0.5, 1, 2, 3, float("inf")])
def test_equal_rows_and_coordinates_have_torchs_zero_gradient(p):
    a = numpy.random.default_rng(0).standard_normal((5, 3))
    a[3] = a[1]                 # a zero distance
    a[4, 0] = a[2, 0]           # a zero coordinate difference
    x, t = cr.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    upstream = numpy.random.default_rng(1).standard_normal(10)
    cr.pdist(x, p).backward(cr.tensor(upstream))
    torch.pdist(t, p).backward(torch.tensor(upstream))
    assert numpy.isfinite(x.grad.numpy()).all()
    numpy.testing.assert_allclose(x.grad.numpy(), t.grad.numpy(), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("call, message", [
    (lambda: cr.pdist(cr.zeros(2, 3, 4)), "2-D"),
    (lambda: cr.pdist(cr.zeros(2, 3), -1), "non-negative"),
])
def test_bad_arguments_are_refused(call, message):
    with pytest.raises(ValueError, match=message):
        call()
