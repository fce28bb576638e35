"""index_reduce (torch.index_reduce, Tensor.index_reduce, index_reduce_), histogramdd,
Tensor.map2_ and Tensor.retains_grad against PyTorch."""
from __future__ import annotations

import numpy
import pytest
import torch
from ops.harness import case, op_table_tests  # tests/ops

import chainrule as cr

pytestmark = pytest.mark.filterwarnings("ignore:index_reduce.*beta")

INDEX = numpy.array([0, 4, 0, 2, 4, 4])         # repeats, and rows 1 and 3 never named
COLUMNS = numpy.array([2, 0, 2])


def index(m, array):
    return (torch.tensor if m is torch else cr.tensor)(array)


# `distinct` inputs: no ties, so amax/amin pick one element in both libraries
FIRST_ORDER = [
    case(f"index-reduce-{reduce}-{'self' if include_self else 'no-self'}",
         lambda m, x, s, reduce=reduce, include_self=include_self: m.index_reduce(
             x, 0, index(m, INDEX), s, reduce, include_self=include_self),
         (5, 3), (6, 3), domain="distinct")
    for reduce in ("prod", "mean", "amax", "amin") for include_self in (True, False)
] + [
    case("index-reduce-dim1-method", lambda m, x, s: x.index_reduce(
        1, index(m, COLUMNS), s, "amax"), (2, 4), (2, 3), domain="distinct"),
    case("index-reduce-negative-dim-mean", lambda m, x, s: m.index_reduce(
        x, -1, index(m, COLUMNS), s, "mean", include_self=False), (2, 4), (2, 3)),
]

(test_forward_matches_torch, test_gradient_matches_torch, test_gradcheck,
 _) = op_table_tests([], first_order=FIRST_ORDER)


def test_index_reduce_in_place_and_on_integers_as_torch():
    for reduce in ("prod", "mean", "amax", "amin"):
        ours, theirs = cr.arange(10).reshape(5, 2), torch.arange(10).reshape(5, 2)
        source = numpy.array([[3, 8], [5, 1], [7, 7]])
        result = ours.index_reduce_(0, cr.tensor([1, 1, 3]), cr.tensor(source), reduce)
        theirs.index_reduce_(0, torch.tensor([1, 1, 3]), torch.tensor(source), reduce)
        assert result is ours and ours.tolist() == theirs.tolist(), reduce


def test_index_reduce_refuses_bad_arguments():
    x = cr.zeros(3, 2)
    with pytest.raises(ValueError, match="reduce must be one of"):
        x.index_reduce(0, cr.tensor([0]), cr.ones(1, 2), "sum")
    with pytest.raises(IndexError, match="out of range"):
        x.index_reduce(0, cr.tensor([3]), cr.ones(1, 2), "prod")
    with pytest.raises(ValueError, match="index has 2 entries"):
        x.index_reduce(0, cr.tensor([0, 1]), cr.ones(1, 2), "prod")


@pytest.mark.parametrize("options", [dict(bins=4), dict(bins=[2, 3, 4]),
                                     dict(bins=3, range=[-1.0, 1.0, -2.0, 2.0, 0.0, 1.0]),
                                     dict(bins=[2, 2, 5], density=True)], ids=str)
def test_histogramdd_matches_torch(options):
    points = numpy.random.default_rng(0).standard_normal((4, 25, 3))
    weight = numpy.random.default_rng(1).uniform(0, 2, (4, 25))
    for weighted in (False, True):
        extra = dict(weight=weight) if weighted else {}
        ours = cr.histogramdd(cr.tensor(points), **options,
                              **{k: cr.tensor(v) for k, v in extra.items()})
        theirs = torch.histogramdd(torch.tensor(points), **options,
                                   **{k: torch.tensor(v) for k, v in extra.items()})
        numpy.testing.assert_allclose(ours.hist.numpy(), theirs.hist.numpy(), rtol=1e-12)
        for a, b in zip(ours.bin_edges, theirs.bin_edges, strict=True):
            numpy.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-12, atol=1e-15)


def test_histogramdd_takes_edge_tensors():
    points = numpy.random.default_rng(2).uniform(0, 3, (30, 2))
    edges = [numpy.array([0.0, 1.0, 3.0]), numpy.array([0.0, 0.5, 2.0, 3.0])]
    ours = cr.histogramdd(cr.tensor(points), bins=[cr.tensor(e) for e in edges])
    theirs = torch.histogramdd(torch.tensor(points), bins=[torch.tensor(e) for e in edges])
    assert ours.hist.tolist() == theirs.hist.tolist()


def test_map2_applies_a_function_of_three_elements_in_place():
    ours, theirs = cr.tensor([[1.0, 2.0], [3.0, 4.0]]), torch.tensor([[1.0, 2.0], [3.0, 4.0]])
    for m, t in ((cr, ours), (torch, theirs)):
        t.map2_(m.tensor([10.0, 20.0]), m.tensor([[1.0], [2.0]]), lambda a, b, c: a + b * c)
    assert ours.tolist() == theirs.tolist()


def test_retains_grad_as_torch():
    for m in (cr, torch):
        x = m.ones(2, requires_grad=True)
        h = x * 2
        assert not x.retains_grad and not h.retains_grad
        h.retain_grad()
        h.retain_grad()                        # twice keeps one gradient, not two
        assert h.retains_grad and not x.retains_grad
        (h * 3).sum().backward()
        assert h.grad.tolist() == [3.0, 3.0]


def test_histogramdd_writes_into_out():
    hist, edges = cr.empty(0), [cr.empty(0), cr.empty(0)]
    result = cr.histogramdd(cr.tensor([[0.0, 0.0], [1.0, 1.0], [1.0, 0.0]]), bins=2,
                            out=(hist, edges))
    assert result.hist is hist and hist.tolist() == [[1.0, 0.0], [1.0, 1.0]]
    assert edges[0].tolist() == [0.0, 0.5, 1.0]
