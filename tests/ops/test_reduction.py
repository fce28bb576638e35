"""Reductions (ops/reduction.py, and var/std/max/min/argmax in composites/functions.py) against
PyTorch and finite differences, including the gradient's behaviour on ties."""
from __future__ import annotations

import numpy
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import array_shapes

import chainrule as cr

from .harness import (
    assert_close,
    case,
    op_table_tests,
)

S = (2, 3, 4)

CASES = [
    case("sum", lambda m, x: x.sum(), S),
    case("sum-fn", lambda m, x: m.sum(x), (5,)),
    case("sum-dim0", lambda m, x: x.sum(0), S),
    case("sum-dim-neg", lambda m, x: x.sum(dim=-1), S),
    case("sum-dim-tuple", lambda m, x: x.sum(dim=(0, 2)), S),
    case("sum-dim-tuple-neg-keepdim", lambda m, x: m.sum(x, dim=(-1, 0), keepdim=True), S),
    case("sum-keepdim", lambda m, x: x.sum(1, keepdim=True), S),
    case("sum-none-keepdim", lambda m, x: x.sum(dim=None, keepdim=True), S),
    case("sum-0d", lambda m, x: x.sum() * x.sum(), ()),
    case("mean", lambda m, x: x.mean(), S),
    case("mean-dim", lambda m, x: m.mean(x, 1), S),
    case("mean-dim-tuple-keepdim", lambda m, x: x.mean(dim=(0, -1), keepdim=True), S),
    case("var", lambda m, x: x.var(), S),
    case("var-dim", lambda m, x: m.var(x, 1), S),
    case("var-dim-neg-keepdim", lambda m, x: x.var(dim=-1, keepdim=True), S),
    case("var-dim-tuple", lambda m, x: x.var(dim=(0, 2)), S),
    case("var-biased", lambda m, x: x.var(0, unbiased=False), S),
    case("var-correction0", lambda m, x: x.var(dim=2, correction=0), S),
    case("std", lambda m, x: x.std(), S),
    case("std-dim", lambda m, x: m.std(x, dim=0), S),
    case("std-dim-tuple-keepdim", lambda m, x: x.std(dim=(1, 2), keepdim=True), S),
    case("std-biased", lambda m, x: x.std(-1, unbiased=False), S),
    # max/min on distinct values (no ties); tie behaviour is tested below
    case("max", lambda m, x: x.max(), S, domain="distinct"),
    case("min-fn", lambda m, x: m.min(x), S, domain="distinct"),
    case("max-dim", lambda m, x: x.max(dim=1)[0], S, domain="distinct"),
    case("max-dim-keepdim", lambda m, x: m.max(x, 0, keepdim=True)[0], S,
         domain="distinct"),
    case("min-dim-neg", lambda m, x: x.min(-1)[0], S, domain="distinct"),
    case("min-dim-keepdim", lambda m, x: m.min(x, dim=2, keepdim=True)[0], S,
         domain="distinct"),
]


(test_forward_matches_torch, test_gradient_matches_torch, test_gradcheck,
 test_second_derivative_matches_torch) = op_table_tests(CASES)


@settings(max_examples=25, deadline=None)
@given(shape=array_shapes(min_dims=1, max_dims=4, min_side=2, max_side=3),
       data=st.data(), name=st.sampled_from(["sum", "mean", "var", "std"]),
       keepdim=st.booleans())
def test_reductions_over_random_dims_match_torch(shape, data, name, keepdim) -> None:
    """Any subset of dims, given as negative or positive ints, in any order."""
    dims = data.draw(st.lists(st.integers(0, len(shape) - 1), min_size=1, unique=True))
    dims = tuple(d - len(shape) if data.draw(st.booleans()) else d for d in dims)
    dim = dims[0] if len(dims) == 1 else dims
    array = numpy.random.default_rng(len(shape)).standard_normal(shape)
    x = cr.tensor(array, requires_grad=True)
    t = torch.tensor(array, requires_grad=True)
    got = getattr(x, name)(dim=dim, keepdim=keepdim)
    expected = getattr(t, name)(dim=dim, keepdim=keepdim)
    assert_close(got, expected, numpy.float64, f"{name} dim={dim}")
    upstream = numpy.random.default_rng(0).standard_normal(tuple(expected.shape))
    got.backward(cr.tensor(upstream))
    expected.backward(torch.tensor(upstream))
    assert_close(x.grad, t.grad, numpy.float64, f"{name} dim={dim} gradient")


# --- max/min: indices, and where the gradient goes on ties ----------------------------------
@pytest.mark.parametrize("fn", ["max", "min"])
@pytest.mark.parametrize("dim, keepdim", [(0, False), (1, True), (-1, False), (-2, True)])
def test_max_min_with_dim_return_values_and_indices_as_torch(fn, dim, keepdim) -> None:
    array = numpy.random.default_rng(3).permutation(12).reshape(3, 4).astype(numpy.float32)
    values, indices = getattr(cr.tensor(array), fn)(dim, keepdim=keepdim)
    expected = getattr(torch.tensor(array), fn)(dim, keepdim=keepdim)
    assert values.tolist() == expected.values.tolist()
    assert indices.dtype == cr.int64 and indices.tolist() == expected.indices.tolist()


@pytest.mark.parametrize("fn", ["max", "min"])
def test_max_min_with_dim_on_ties_send_gradient_to_the_returned_index(fn) -> None:
    array = [[1.0, 5.0, 5.0, 0.0], [2.0, 2.0, 2.0, 2.0], [-3.0, 7.0, -3.0, 7.0]]
    x = cr.tensor(array, requires_grad=True)
    values, indices = getattr(x, fn)(dim=1)
    (values * cr.tensor([1.0, 2.0, 3.0])).sum().backward()
    t = torch.tensor(array, requires_grad=True)
    expected = getattr(t, fn)(dim=1)
    (expected.values * torch.tensor([1.0, 2.0, 3.0])).sum().backward()
    assert indices.tolist() == expected.indices.tolist()  # the first extreme in each row
    assert x.grad.tolist() == t.grad.tolist()
    for row, i in enumerate(indices.tolist()):  # the whole gradient at the returned index
        assert x.grad.numpy()[row, i] == row + 1.0
        assert numpy.count_nonzero(x.grad.numpy()[row]) == 1


@pytest.mark.parametrize("fn", ["max", "min"])
def test_max_min_without_dim_on_ties_share_the_gradient_evenly(fn) -> None:
    array = [[1.0, 4.0, -1.0], [4.0, -1.0, 4.0]]
    x = cr.tensor(array, dtype=cr.float64, requires_grad=True)
    y = getattr(x, fn)()
    (y * 6).backward()
    t = torch.tensor(array, dtype=torch.float64, requires_grad=True)
    (getattr(t, fn)() * 6).backward()
    assert y.item() == (4.0 if fn == "max" else -1.0)
    share = 2.0 if fn == "max" else 3.0  # 6 split over 3 (max) or 2 (min) tied elements
    expected = numpy.where(numpy.array(array) == y.item(), share, 0.0)
    numpy.testing.assert_array_equal(x.grad.numpy(), expected)
    numpy.testing.assert_array_equal(x.grad.numpy(), t.grad.numpy())


@pytest.mark.parametrize("fn", ["argmax", "argmin"])
@pytest.mark.parametrize("kwargs", [{}, {"dim": 0}, {"dim": -1}, {"dim": 1, "keepdim": True}])
def test_argmax_argmin_match_torch_and_have_no_gradient(fn, kwargs) -> None:
    array = numpy.random.default_rng(4).permutation(24).reshape(2, 3, 4).astype(numpy.float32)
    x = cr.tensor(array, requires_grad=True)
    got = getattr(cr, fn)(x, **kwargs)
    assert got.tolist() == getattr(torch, fn)(torch.tensor(array), **kwargs).tolist()
    assert got.dtype == cr.int64
    assert not got.requires_grad and got.grad_fn is None
    assert getattr(x, fn)(**kwargs).tolist() == got.tolist()


def test_argmax_on_ties_returns_the_first_index_as_torch() -> None:
    array = [[3.0, 1.0, 3.0], [0.0, 0.0, 0.0]]
    assert cr.tensor(array).argmax(dim=1).tolist() == [0, 0]
    assert torch.tensor(array).argmax(dim=1).tolist() == [0, 0]


def test_var_of_a_single_element_is_nan_as_torch() -> None:
    with pytest.warns(RuntimeWarning):
        assert numpy.isnan(cr.tensor([2.0]).var().item())
    assert cr.tensor([2.0]).var(unbiased=False).item() == 0.0


def test_sum_of_integers_stays_integer_and_mean_of_integers_refuses() -> None:
    assert cr.tensor([1, 2, 3]).sum().dtype == cr.int64
    assert cr.tensor([True, False, True]).sum().item() == 2
    with pytest.raises(TypeError, match="mean.*int64"):
        cr.tensor([1, 2, 3]).mean()
