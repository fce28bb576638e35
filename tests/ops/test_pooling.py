"""Max, average and adaptive average pooling (ops/pooling.py, the functions and the layers):
the op table through the ops harness, then ties and indices, the layers, the errors."""
from __future__ import annotations

import numpy
import pytest
import torch

import chainrule as cr
import chainrule.nn.functional as F

from .harness import assert_close, case, op_table_tests, random_arrays


def pool(name, **kwargs):
    return lambda m, x: getattr(m.nn.functional, name)(x, **kwargs)


def pool_case(name, shape, domain="real", **kwargs):
    label = ",".join(f"{k}={v}" for k, v in kwargs.items()).replace(" ", "")
    return case(f"{name}-{shape}-{label}".replace(" ", ""), pool(name, **kwargs), shape,
                domain=domain)


MAX = "distinct"  # max pools are smooth where no window holds a tie
CASES = [
    pool_case("max_pool2d", (2, 3, 8, 8), MAX, kernel_size=2),
    pool_case("max_pool2d", (2, 2, 7, 6), MAX, kernel_size=3, stride=2, padding=1),
    pool_case("max_pool2d", (2, 2, 7, 6), MAX, kernel_size=3, stride=2, padding=1,
              dilation=(1, 2), ceil_mode=True),
    pool_case("max_pool2d", (2, 3, 9, 7), MAX, kernel_size=(3, 2), stride=(2, 3),
              padding=(1, 1), dilation=(2, 1), ceil_mode=True),
    pool_case("max_pool2d", (1, 2, 10, 11), MAX, kernel_size=4, stride=3, ceil_mode=True),
    pool_case("max_pool2d", (3, 10, 11), MAX, kernel_size=2, stride=1),  # unbatched
    pool_case("max_pool2d", (2, 2, 9, 8), MAX, kernel_size=(3, 4)),  # tiles, 3 and 4 offsets
    pool_case("max_pool2d", (2, 2, 8, 8), MAX, kernel_size=2, stride=3),  # gaps between
    pool_case("max_pool1d", (2, 3, 12), MAX, kernel_size=2),
    pool_case("max_pool1d", (2, 2, 42), MAX, kernel_size=3, stride=2),
    pool_case("max_pool1d", (3, 12), MAX, kernel_size=3, dilation=2, ceil_mode=True),
    pool_case("avg_pool2d", (2, 3, 8, 8), kernel_size=2),
    pool_case("avg_pool2d", (2, 3, 9, 7), kernel_size=3, stride=2, padding=1),
    pool_case("avg_pool2d", (2, 3, 9, 7), kernel_size=3, stride=2, padding=1,
              count_include_pad=False),
    pool_case("avg_pool2d", (2, 3, 9, 7), kernel_size=(4, 3), stride=(3, 2), padding=(2, 1),
              ceil_mode=True),
    pool_case("avg_pool2d", (2, 3, 9, 7), kernel_size=(4, 3), stride=(3, 2), padding=(2, 1),
              ceil_mode=True, count_include_pad=False),
    pool_case("avg_pool2d", (2, 3, 9, 7), kernel_size=3, divisor_override=5),
    pool_case("avg_pool2d", (2, 3, 9, 7), kernel_size=3, stride=1),  # overlapping
    pool_case("avg_pool2d", (3, 6, 6), kernel_size=2, stride=(2, 1)),  # unbatched
    pool_case("avg_pool1d", (2, 3, 9), kernel_size=3, stride=2, padding=1, ceil_mode=True),
    pool_case("avg_pool1d", (2, 3, 9), kernel_size=2, count_include_pad=False, padding=1),
    pool_case("adaptive_avg_pool2d", (2, 3, 8, 6), output_size=(4, 3)),  # equal windows
    pool_case("adaptive_avg_pool2d", (2, 3, 9, 7), output_size=(4, 3)),  # two sizes
    pool_case("adaptive_avg_pool2d", (2, 3, 8, 6), output_size=1),  # global average
    pool_case("adaptive_avg_pool2d", (2, 3, 8, 6), output_size=(None, 5)),
    pool_case("adaptive_avg_pool2d", (3, 5, 4), output_size=(7, 6)),  # larger, unbatched
    pool_case("adaptive_avg_pool1d", (2, 3, 10), output_size=4),
    pool_case("adaptive_avg_pool1d", (2, 3, 10), output_size=5),
]

(test_forward_matches_torch, test_gradient_matches_torch, test_gradcheck,
 test_second_derivative_matches_torch) = op_table_tests(CASES)


# --- ties and indices: the first largest element of a window wins, as in PyTorch --------
def relu_data(shape, seed=0):
    """As after a ReLU: many windows hold several equal zeros."""
    return numpy.maximum(random_arrays(shape, seed=seed)[0], 0)


def compare_max(name, shape, **kwargs):
    """Output, indices and input gradient equal PyTorch's on inputs full of ties."""
    x = relu_data(shape)
    cx, tx = cr.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    got = getattr(F, name)(cx, **kwargs)
    expected = getattr(torch.nn.functional, name)(tx, **kwargs)
    if kwargs.get("return_indices"):
        (got, got_index), (expected, expected_index) = got, expected
        assert got_index.dtype == cr.int64
        numpy.testing.assert_array_equal(got_index.numpy(), expected_index.numpy())
    assert_close(got, expected, numpy.float32, "forward")
    upstream = random_arrays(tuple(expected.shape), seed=1)[0]
    got.backward(cr.tensor(upstream))
    expected.backward(torch.tensor(upstream))
    assert_close(cx.grad, tx.grad, numpy.float32, "d/dx")


TIES = [
    ("max_pool2d", (2, 3, 8, 8), dict(kernel_size=2, return_indices=True)),
    ("max_pool2d", (2, 3, 9, 7), dict(kernel_size=3, stride=2, padding=1, return_indices=True)),
    ("max_pool2d", (2, 3, 9, 7), dict(kernel_size=3, stride=1, padding=1)),  # overlapping
    ("max_pool2d", (2, 3, 9, 7), dict(kernel_size=(3, 2), stride=(2, 3), padding=(1, 1),
                                      dilation=(2, 1), ceil_mode=True, return_indices=True)),
    ("max_pool2d", (1, 2, 7, 7), dict(kernel_size=2, ceil_mode=True, return_indices=True)),
    ("max_pool2d", (8, 16, 24, 24), dict(kernel_size=2)),  # W3's first pool
    ("max_pool2d", (2, 3, 9, 12), dict(kernel_size=3, return_indices=True)),  # 3×3 tiles
    ("max_pool2d", (2, 3, 8, 9), dict(kernel_size=(2, 3), stride=3)),  # gaps between rows
    ("max_pool1d", (2, 3, 12), dict(kernel_size=4)),
    ("max_pool1d", (2, 3, 11), dict(kernel_size=3, stride=2, padding=1, return_indices=True)),
]


@pytest.mark.parametrize("name, shape, kwargs", TIES, ids=[f"{n}-{s}-{k}" for n, s, k in TIES])
def test_max_pools_with_ties_match_torch(name, shape, kwargs):
    compare_max(name, shape, **kwargs)


# --- layers ----------------------------------------------------------------------------
@pytest.mark.parametrize("ours, theirs, shape", [
    (cr.nn.MaxPool2d(2), torch.nn.MaxPool2d(2), (2, 3, 8, 8)),
    (cr.nn.MaxPool2d(3, 2, 1, ceil_mode=True), torch.nn.MaxPool2d(3, 2, 1, ceil_mode=True),
     (2, 3, 9, 9)),
    (cr.nn.MaxPool1d(3, 2), torch.nn.MaxPool1d(3, 2), (2, 3, 9)),
    (cr.nn.AvgPool2d(3, 1, 1), torch.nn.AvgPool2d(3, 1, 1), (2, 3, 6, 6)),
    (cr.nn.AvgPool1d(2), torch.nn.AvgPool1d(2), (2, 3, 8)),
    (cr.nn.AdaptiveAvgPool2d((2, 3)), torch.nn.AdaptiveAvgPool2d((2, 3)), (2, 3, 7, 8)),
    (cr.nn.AdaptiveAvgPool1d(3), torch.nn.AdaptiveAvgPool1d(3), (2, 3, 7)),
], ids=lambda v: type(v).__name__ if not isinstance(v, tuple) else str(v))
def test_layers_match_torch(ours, theirs, shape):
    (x,) = random_arrays(shape)
    assert repr(ours) == repr(theirs)
    assert list(ours.parameters()) == []
    numpy.testing.assert_allclose(ours(cr.tensor(x)).numpy(),
                                  theirs(torch.tensor(x)).numpy(), rtol=1e-5, atol=1e-6)


def test_max_pool_layer_return_indices():
    (x,) = random_arrays((2, 3, 6, 6))
    values, index = cr.nn.MaxPool2d(2, return_indices=True)(cr.tensor(x))
    expected, expected_index = torch.nn.MaxPool2d(2, return_indices=True)(torch.tensor(x))
    numpy.testing.assert_array_equal(index.numpy(), expected_index.numpy())
    numpy.testing.assert_allclose(values.numpy(), expected.numpy())


# --- errors ----------------------------------------------------------------------------
@pytest.mark.parametrize("call, pattern", [
    (lambda: F.max_pool2d(cr.randn(2, 3, 1, 1), 2), "smaller than the pooling window"),
    (lambda: F.max_pool2d(cr.randn(2, 3, 8, 8), 2, padding=2), "at most half"),
    (lambda: F.avg_pool2d(cr.randn(2, 3, 8, 8), 3, padding=2), "at most half"),
    (lambda: F.max_pool2d(cr.randn(8, 8), 2), "3-D \\(unbatched\\) or 4-D"),
    (lambda: F.max_pool1d(cr.randn(2, 3, 8, 8), 2), "2-D \\(unbatched\\) or 3-D"),
    (lambda: F.avg_pool2d(cr.randn(2, 3, 8, 8), 0), "kernel_size"),
    (lambda: F.avg_pool2d(cr.randn(2, 3, 8, 8), 2, divisor_override=0), "divisor_override"),
    (lambda: F.adaptive_avg_pool2d(cr.randn(2, 3, 8, 8), (2, 2, 2)), "output_size"),
    (lambda: F.adaptive_avg_pool2d(cr.randn(2, 3, 8, 8), 0), "positive"),
])
def test_argument_errors(call, pattern):
    with pytest.raises(ValueError, match=pattern):
        call()
