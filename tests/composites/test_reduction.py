"""PyTorch's reductions (composites/reduction.py, ops/cumulative.py): products,
running sums, logsumexp, amax/amin, norms, sorting and selection, against PyTorch and
finite differences."""
from __future__ import annotations

import numpy
import pytest
import torch
from ops.harness import case, op_table_tests  # tests/ops

import chainrule as cr

CASES = [
    case("sum-keepdims", lambda m, x: x.sum(1, keepdims=True) if m is cr else
         x.sum(1, keepdim=True), (3, 4)),
    case("sum-dims", lambda m, x: m.sum(x, (0, 2)), (2, 3, 4)),
    case("nansum", lambda m, x: m.nansum(x, 1), (3, 4)),
    case("cumsum", lambda m, x: m.cumsum(x, 1), (3, 4)),
    case("cumsum-method", lambda m, x: x.cumsum(0) * x, (5,)),
    case("logcumsumexp", lambda m, x: m.logcumsumexp(x, 1), (3, 4)),
    case("logsumexp", lambda m, x: m.logsumexp(x, 1), (3, 4)),
    case("logsumexp-keepdim", lambda m, x: x.logsumexp((0, 1), keepdim=True), (3, 4)),
    case("amax", lambda m, x: m.amax(x, 1), (3, 4), domain="distinct"),
    case("amin-dims", lambda m, x: x.amin((0, 2), keepdim=True), (2, 3, 2), domain="distinct"),
    case("norm", lambda m, x: m.norm(x), (3, 4)),
    case("norm-dim", lambda m, x: x.norm(dim=1), (3, 4)),
    case("norm-1", lambda m, x: m.norm(x, 1, 0), (3, 4), kinks=(0,)),
    case("norm-3", lambda m, x: m.norm(x, 3, 1, True), (3, 4), kinks=(0,)),
    case("norm-inf", lambda m, x: m.norm(x, float("inf"), 1), (3, 4), domain="distinct"),
    case("dist", lambda m, a, b: m.dist(a, b), (3, 4), (3, 4)),
    case("var_mean", lambda m, x: m.var_mean(x, 1)[0] * m.var_mean(x, 1)[1], (3, 4)),
    case("std_mean", lambda m, x: m.std_mean(x, 0, correction=0)[0], (3, 4)),
    case("sort", lambda m, x: m.sort(x, 1)[0], (3, 4), domain="distinct"),
    case("sort-descending", lambda m, x: x.sort(0, descending=True).values, (3, 4),
         domain="distinct"),
    case("topk", lambda m, x: m.topk(x, 2, 1).values, (3, 4), domain="distinct"),
    case("topk-smallest", lambda m, x: x.topk(3, 0, largest=False)[0], (5, 2), domain="distinct"),
    case("kthvalue", lambda m, x: m.kthvalue(x, 2, 1).values, (3, 4), domain="distinct"),
    case("median", lambda m, x: m.median(x), (3, 4), domain="distinct"),
    case("median-dim", lambda m, x: x.median(1, keepdim=True).values, (3, 4), domain="distinct"),
    case("cummax", lambda m, x: m.cummax(x, 1).values, (3, 4), domain="distinct"),
    case("cummin", lambda m, x: m.cummin(x, 0)[0], (3, 4), domain="distinct"),
    case("diff", lambda m, x: m.diff(x, 2, 1), (3, 5)),
]
FIRST_ORDER = [  # backward on arrays (once_differentiable): checked to first order
    case("prod", lambda m, x: m.prod(x), (2, 3)),
    case("prod-dim", lambda m, x: x.prod(1, keepdim=True), (3, 4)),
    case("cumprod", lambda m, x: m.cumprod(x, 1), (3, 4)),
]

(test_forward_matches_torch, test_gradient_matches_torch, test_gradcheck,
 test_second_derivative_matches_torch) = op_table_tests(CASES, first_order=FIRST_ORDER)


@pytest.mark.parametrize("values", [[2.0, 0.0, 3.0], [0.0, 0.0, 3.0], [1.5, -2.0, 0.5]])
def test_prod_and_cumprod_gradients_with_zeros_match_torch(values):
    for name, call in (("prod", lambda m, x: m.prod(x)), ("cumprod", lambda m, x: m.cumprod(x, 0))):
        x, t = cr.tensor(values, requires_grad=True), torch.tensor(values, requires_grad=True)
        call(cr, x).sum().backward()
        call(torch, t).sum().backward()
        numpy.testing.assert_allclose(x.grad.numpy(), t.grad.numpy(), err_msg=name)


def test_indices_and_no_gradient_results_match_torch():
    x = numpy.array([[3.0, 1.0, 2.0, 1.0], [0.0, 5.0, 5.0, -1.0]])
    ours, theirs = cr.tensor(x), torch.tensor(x)
    for call in (lambda m, t: m.argsort(t, 1), lambda m, t: m.sort(t, dim=1, stable=True)[1],
                 lambda m, t: m.topk(t, 2)[1], lambda m, t: m.cummax(t, 1)[1],
                 lambda m, t: m.count_nonzero(t, 1), lambda m, t: m.all(t > -2, 1),
                 lambda m, t: m.any(t > 4), lambda m, t: m.mode(t, 1).values,
                 lambda m, t: m.mode(t, 1).indices, lambda m, t: m.amax(t),
                 lambda m, t: m.aminmax(t, dim=1).min, lambda m, t: m.median(t, 1).indices):
        numpy.testing.assert_array_equal(call(cr, ours).numpy(), call(torch, theirs).numpy())


def test_ties_share_amax_gradient_as_torch():
    values = [1.0, 3.0, 3.0, 2.0]
    x, t = cr.tensor(values, requires_grad=True), torch.tensor(values, requires_grad=True)
    cr.amax(x).backward()
    torch.amax(t).backward()
    assert x.grad.tolist() == t.grad.tolist()


def test_integer_sums_and_dtype_argument():
    ints = cr.tensor([[1, 2], [3, 4]], dtype=cr.int32)
    assert cr.cumsum(ints, 0).dtype == cr.int64 and cr.sum(cr.tensor([True, True])).item() == 2
    assert cr.sum(ints, dtype=cr.float64).dtype == cr.float64
    assert cr.prod(cr.tensor([2, 3])).item() == 6
