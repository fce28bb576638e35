"""PyTorch's indexing functions (composites/indexing.py), against PyTorch and finite
differences; the index finders (no gradient) against PyTorch's results."""
from __future__ import annotations

import numpy
import pytest
import torch
from ops.harness import case, op_table_tests  # tests/ops

import chainrule as cr


def _ix(m, values):
    return m.tensor(values)


CASES = [
    case("index_select", lambda m, x: m.index_select(x, 1, _ix(m, [2, 0, 2])), (3, 4)),
    case("masked_fill", lambda m, x: x.masked_fill(x > 0.3, -1.0), (3, 4), kinks=(0.3,)),
    case("masked_fill-broadcast", lambda m, x: m.masked_fill(
        x, _ix(m, [True, False, True, False]), 2.0), (3, 4)),
    case("masked_select", lambda m, x: m.masked_select(x, x > 0), (3, 4), kinks=(0,)),
    case("take", lambda m, x: m.take(x, _ix(m, [[0, 5], [11, 5]])), (3, 4)),
    case("take_along_dim", lambda m, x: m.take_along_dim(x, _ix(m, [[0], [3], [1]]), 1),
         (3, 4)),
    case("index_fill", lambda m, x: x.index_fill(0, _ix(m, [0, 2]), 1.5), (3, 4)),
    case("index_add", lambda m, x, s: m.index_add(x, 0, _ix(m, [0, 2, 0]), s, alpha=2),
         (3, 4), (3, 4)),
    case("index_copy", lambda m, x, s: x.index_copy(1, _ix(m, [3, 0]), s), (3, 4), (3, 2)),
    case("scatter", lambda m, x, s: m.scatter(x, 1, _ix(m, [[1, 0], [3, 2], [0, 1]]), s),
         (3, 4), (3, 2)),
    case("scatter-value", lambda m, x: x.scatter(0, _ix(m, [[1, 0, 2, 2]]), 0.5), (3, 4)),
    case("scatter_add", lambda m, x, s: m.scatter_add(x, 0, _ix(m, [[1, 0, 1, 1],
                                                                    [1, 2, 1, 0]]), s),
         (3, 4), (2, 4)),
    case("scatter_reduce-mean", lambda m, x, s: m.scatter_reduce(
        x, 0, _ix(m, [0, 1, 0, 3]), s, "mean"), (5,), (4,)),
    case("scatter_reduce-sum", lambda m, x, s: m.scatter_reduce(
        x, 0, _ix(m, [0, 1, 0, 3]), s, "sum", include_self=False), (5,), (4,)),
]

(test_forward_matches_torch, test_gradient_matches_torch, test_gradcheck,
 test_second_derivative_matches_torch) = op_table_tests(CASES)


def test_in_place_forms_match_torch():
    results = []
    for m in (cr, torch):
        x = m.zeros(3, 4)
        x.masked_fill_(m.tensor([True, False, True, False]), 1.0)
        x.index_add_(0, m.tensor([2, 2]), m.ones(2, 4))
        x.scatter_(1, m.tensor([[0], [1], [2]]), 7.0)
        results.append(x.numpy())
    numpy.testing.assert_array_equal(*results)


def test_scatter_add_uses_only_the_part_of_src_that_index_covers():
    src = numpy.arange(6.0, dtype=numpy.float32).reshape(2, 3)
    got = cr.zeros(2, 3).scatter_add(1, cr.tensor([[0], [2]]), cr.tensor(src))
    expected = torch.zeros(2, 3).scatter_add(1, torch.tensor([[0], [2]]), torch.tensor(src))
    numpy.testing.assert_array_equal(got.numpy(), expected.numpy())


def test_index_finders_match_torch():
    x = numpy.array([[0.0, 1.5, 0.0], [2.0, 0.0, -1.0]])
    seq = numpy.array([0.0, 1.0, 2.0, 4.0])
    for call in (lambda m: m.nonzero(m.tensor(x)), lambda m: m.argwhere(m.tensor(x) > 0),
                 lambda m: m.nonzero(m.tensor(x), as_tuple=True)[1],
                 lambda m: m.searchsorted(m.tensor(seq), m.tensor([0.5, 2.0, 9.0])),
                 lambda m: m.searchsorted(m.tensor(seq), m.tensor([2.0]), right=True),
                 lambda m: m.bucketize(m.tensor([0.5, 2.0]), m.tensor(seq)),
                 lambda m: m.unique(m.tensor([3, 1, 3, 2]), return_inverse=True)[1],
                 lambda m: m.unique(m.tensor([3, 1, 3, 2]), return_counts=True)[1],
                 lambda m: m.unique_consecutive(m.tensor([1, 1, 2, 2, 1]), return_counts=True)[1],
                 lambda m: m.bincount(m.tensor([0, 2, 2, 5]), minlength=7),
                 lambda m: m.histc(m.tensor([0.1, 0.5, 0.9, 0.2]), bins=4, min=0, max=1)):
        numpy.testing.assert_array_equal(call(cr).numpy(), call(torch).numpy())


@pytest.mark.parametrize("m", [cr, torch], ids=["chainrule", "torch"])
def test_an_index_out_of_range_is_an_index_error(m):
    """As in PyTorch: Python's sequence protocol ends a loop over an object whose
    __getitem__ reads a tensor (a Dataset without __iter__) on the IndexError."""
    x = m.arange(4.0)
    for key in (4, -5, (0, 0), m.tensor([7])):
        with pytest.raises(IndexError):
            x[key]

    class Rows(m.utils.data.Dataset):
        def __getitem__(self, i):
            return x[i] * 2
    assert [row.item() for row in Rows()] == [0.0, 2.0, 4.0, 6.0]


@pytest.mark.parametrize("m", [cr, torch], ids=["chainrule", "torch"])
def test_indexing_a_0_d_tensor_says_to_use_item(m):
    with pytest.raises(IndexError, match=r"invalid index of a 0-dim tensor. Use `tensor.item\(\)`"):
        m.tensor(2.5)[0]
    assert m.tensor(2.5)[None].shape == (1,) and m.tensor(2.5)[()].item() == 2.5
