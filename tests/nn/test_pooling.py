"""Max, average and adaptive average pooling (functions and layers) against PyTorch."""
from __future__ import annotations

import numpy
import pytest
import torch

import chainrule as cr
import chainrule.nn.functional as F

RTOL, ATOL = 1e-5, 1e-6


def data(shape, seed=0, ties=False, dtype=numpy.float32):
    generator = numpy.random.default_rng(seed)
    a = generator.standard_normal(shape)
    if ties:  # as after a ReLU: many windows hold several equal zeros
        a = numpy.maximum(a, 0)
    return a.astype(dtype)


def distinct(shape, seed=0):
    """float64 values without ties, at least 0.1 apart (max pools are then smooth)."""
    generator = numpy.random.default_rng(seed)
    n = int(numpy.prod(shape))
    return ((generator.permutation(n) - n / 2) * 0.1).reshape(shape).astype(numpy.float64)


def compare(name, shape, ties=False, **kwargs):
    """Output (and indices) and input gradient equal PyTorch's."""
    x = data(shape, ties=ties)
    cx, tx = cr.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    got = getattr(F, name)(cx, **kwargs)
    expected = getattr(torch.nn.functional, name)(tx, **kwargs)
    if kwargs.get("return_indices"):
        (got, got_index), (expected, expected_index) = got, expected
        assert got_index.dtype == cr.int64
        numpy.testing.assert_array_equal(got_index.numpy(), expected_index.numpy())
    assert got.shape == tuple(expected.shape)
    numpy.testing.assert_allclose(got.numpy(), expected.detach().numpy(), RTOL, ATOL)
    upstream = data(tuple(expected.shape), seed=1)
    got.backward(cr.tensor(upstream))
    expected.backward(torch.tensor(upstream))
    numpy.testing.assert_allclose(cx.grad.numpy(), tx.grad.numpy(), RTOL, ATOL)


MAX_POOL2D = [
    ((2, 3, 8, 8), dict(kernel_size=2), False),
    ((2, 3, 8, 8), dict(kernel_size=2, return_indices=True), True),  # ties: first wins
    ((2, 3, 9, 7), dict(kernel_size=3, stride=2, padding=1, return_indices=True), False),
    ((2, 3, 9, 7), dict(kernel_size=3, stride=1, padding=1), True),  # overlapping, ties
    ((2, 3, 9, 7), dict(kernel_size=(3, 2), stride=(2, 3), padding=(1, 1), dilation=(2, 1),
                        ceil_mode=True, return_indices=True), False),
    ((1, 2, 10, 11), dict(kernel_size=4, stride=3, ceil_mode=True), False),
    ((1, 2, 7, 7), dict(kernel_size=2, ceil_mode=True, return_indices=True), True),
    ((3, 10, 11), dict(kernel_size=2, stride=1), False),  # unbatched
    ((8, 16, 24, 24), dict(kernel_size=2), True),  # W3's first pool, after a ReLU
]


@pytest.mark.parametrize("shape, kwargs, ties", MAX_POOL2D,
                         ids=[f"{s}-{k}-ties{t}" for s, k, t in MAX_POOL2D])
def test_max_pool2d_matches_torch(shape, kwargs, ties):
    compare("max_pool2d", shape, ties, **kwargs)


@pytest.mark.parametrize("shape, kwargs", [
    ((2, 3, 11), dict(kernel_size=3, stride=2, padding=1, return_indices=True)),
    ((2, 3, 12), dict(kernel_size=2)),
    ((3, 12), dict(kernel_size=3, dilation=2, ceil_mode=True)),
])
def test_max_pool1d_matches_torch(shape, kwargs):
    compare("max_pool1d", shape, **kwargs)


AVG_POOL2D = [
    ((2, 3, 8, 8), dict(kernel_size=2)),
    ((2, 3, 9, 7), dict(kernel_size=3, stride=2, padding=1)),
    ((2, 3, 9, 7), dict(kernel_size=3, stride=2, padding=1, count_include_pad=False)),
    ((2, 3, 9, 7), dict(kernel_size=(4, 3), stride=(3, 2), padding=(2, 1), ceil_mode=True)),
    ((2, 3, 9, 7), dict(kernel_size=(4, 3), stride=(3, 2), padding=(2, 1), ceil_mode=True,
                        count_include_pad=False)),
    ((2, 3, 9, 7), dict(kernel_size=3, divisor_override=5)),
    ((2, 3, 9, 7), dict(kernel_size=3, stride=1)),  # overlapping
    ((3, 6, 6), dict(kernel_size=2, stride=(2, 1))),  # unbatched
]


@pytest.mark.parametrize("shape, kwargs", AVG_POOL2D, ids=[f"{s}-{k}" for s, k in AVG_POOL2D])
def test_avg_pool2d_matches_torch(shape, kwargs):
    compare("avg_pool2d", shape, **kwargs)


def test_avg_pool1d_matches_torch():
    compare("avg_pool1d", (2, 3, 9), kernel_size=3, stride=2, padding=1, ceil_mode=True)
    compare("avg_pool1d", (2, 3, 9), kernel_size=2, count_include_pad=False, padding=1)


@pytest.mark.parametrize("shape, size", [
    ((2, 3, 8, 6), (4, 3)),  # divisible: equal windows
    ((2, 3, 9, 7), (4, 3)),  # windows of two sizes
    ((2, 3, 8, 6), 1),  # global average
    ((2, 3, 8, 6), (None, 5)),
    ((3, 5, 4), (7, 6)),  # larger than the input, unbatched
])
def test_adaptive_avg_pool2d_matches_torch(shape, size):
    compare("adaptive_avg_pool2d", shape, output_size=size)


def test_adaptive_avg_pool1d_matches_torch():
    compare("adaptive_avg_pool1d", (2, 3, 10), output_size=4)
    compare("adaptive_avg_pool1d", (2, 3, 10), output_size=5)


# --- finite differences and second derivatives ------------------------------------------
@pytest.mark.parametrize("fn", [
    lambda x: F.max_pool2d(x, 2),
    lambda x: F.max_pool2d(x, 3, stride=2, padding=1, dilation=(1, 2), ceil_mode=True),
    lambda x: F.avg_pool2d(x, 3, stride=2, padding=1, count_include_pad=False, ceil_mode=True),
    lambda x: F.avg_pool2d(x, 2),
    lambda x: F.adaptive_avg_pool2d(x, (3, 4)),
    lambda x: F.max_pool1d(x.flatten(2), 3, stride=2),
], ids=["max2", "max-general", "avg-general", "avg2", "adaptive", "max1d"])
def test_gradcheck(fn):
    x = cr.tensor(distinct((2, 2, 7, 6)), requires_grad=True)
    assert cr.autograd.gradcheck(fn, [x])


@pytest.mark.parametrize("name, kwargs", [
    ("max_pool2d", dict(kernel_size=3, stride=2, padding=1)),  # overlapping windows
    ("max_pool2d", dict(kernel_size=2)),  # windows tiling the input
    ("avg_pool2d", dict(kernel_size=3, stride=2, padding=1, count_include_pad=False)),
    ("adaptive_avg_pool2d", dict(output_size=(3, 4))),
])
def test_second_derivatives_match_torch(name, kwargs):
    """d/dx of Σ w ⊙ ∇ₓ(Σ v ⊙ pool(x)³): the backward passes are differentiable."""
    x = distinct((2, 2, 7, 6))
    results = []
    for m, f in ((cr, getattr(F, name)), (torch, getattr(torch.nn.functional, name))):
        tx = m.tensor(x, requires_grad=True)
        y = f(tx, **kwargs)
        generator = numpy.random.default_rng(3)
        v = m.tensor(generator.standard_normal(tuple(y.shape)))
        w = m.tensor(generator.standard_normal(x.shape))
        (g,) = m.autograd.grad((y * y * y * v).sum(), (tx,), create_graph=True)
        (g * w).sum().backward()
        results.append(tx.grad.numpy())
    numpy.testing.assert_allclose(results[0], results[1], rtol=1e-9, atol=1e-9)


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
    x = data(shape)
    assert repr(ours) == repr(theirs)
    assert list(ours.parameters()) == []
    numpy.testing.assert_allclose(ours(cr.tensor(x)).numpy(),
                                  theirs(torch.tensor(x)).numpy(), RTOL, ATOL)


def test_max_pool_layer_return_indices():
    x = data((2, 3, 6, 6))
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
