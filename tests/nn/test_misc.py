"""F.pad against PyTorch: every mode, PyTorch's pad order (last dim first), gradients."""
from __future__ import annotations

import numpy
import pytest
import torch

import chainrule as cr
import chainrule.nn.functional as F


def data(shape, seed=0, dtype=numpy.float32):
    return numpy.random.default_rng(seed).standard_normal(shape).astype(dtype)


def compare(shape, pad, **kwargs):
    x = data(shape)
    cx, tx = cr.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    got = F.pad(cx, pad, **kwargs)
    expected = torch.nn.functional.pad(tx, pad, **kwargs)
    assert got.shape == tuple(expected.shape) and got.dtype == cx.dtype
    numpy.testing.assert_allclose(got.numpy(), expected.detach().numpy())
    upstream = data(tuple(expected.shape), seed=1)
    got.backward(cr.tensor(upstream))
    expected.backward(torch.tensor(upstream))
    numpy.testing.assert_allclose(cx.grad.numpy(), tx.grad.numpy(), rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("shape, pad, kwargs", [
    ((2, 3, 4, 5), (1, 2), {}),  # last dim only
    ((2, 3, 4, 5), (1, 2, 0, 3), dict(value=1.5)),
    ((2, 3, 4, 5), (1, 2, 3, 0, 1, 1), {}),
    ((2, 3, 4, 5), (1, 1, 1, 1, 1, 1, 1, 1), dict(value=-2.0)),  # every dim
    ((2, 3, 4, 5), (-1, 2, 1, -2), {}),  # negative widths crop
    ((2, 3, 4, 5), (0, 0), {}),
    ((5,), (2, 3), dict(mode="constant", value=7.0)),
])
def test_constant_pad_matches_torch(shape, pad, kwargs):
    compare(shape, pad, **kwargs)


@pytest.mark.parametrize("mode", ["reflect", "replicate", "circular"])
@pytest.mark.parametrize("shape, pad", [
    ((2, 3, 5), (4, 3)),
    ((2, 3, 4, 5), (1, 2, 3, 0)),
    ((1, 2, 4, 4, 5), (1, 1, 2, 0, 0, 3)),
])
def test_other_modes_match_torch(mode, shape, pad):
    compare(shape, pad, mode=mode)


@pytest.mark.parametrize("pad, kwargs", [
    ((1, -1, 2, 0), dict(value=2.0)),
    ((2, 1), dict(mode="reflect")),
    ((2, 3, 1, 0), dict(mode="replicate")),
    ((3, 1), dict(mode="circular")),
])
def test_gradcheck(pad, kwargs):
    x = cr.tensor(data((2, 3, 4), dtype=numpy.float64), requires_grad=True)
    assert cr.autograd.gradcheck(lambda x: F.pad(x, pad, **kwargs), [x])


def test_second_derivative_through_pad():
    x = data((2, 3, 4), dtype=numpy.float64)
    results = []
    for m, f in ((cr, F.pad), (torch, torch.nn.functional.pad)):
        tx = m.tensor(x, requires_grad=True)
        y = f(tx, (1, 2, -1, 1), value=0.5)
        (g,) = m.autograd.grad((y * y * y).sum(), (tx,), create_graph=True)
        (g * g).sum().backward()
        results.append(tx.grad.numpy())
    numpy.testing.assert_allclose(results[0], results[1], rtol=1e-10)


@pytest.mark.parametrize("call, pattern", [
    (lambda: F.pad(cr.randn(2, 3), (1,)), "pair"),
    (lambda: F.pad(cr.randn(2, 3), (1, 1, 1, 1, 1, 1)), "at most 2 pairs"),
    (lambda: F.pad(cr.randn(2, 3), (1, 1), mode="mirror"), "mode must be"),
    (lambda: F.pad(cr.randn(2, 3), (3, 0), mode="reflect"), "smaller than the padded dim"),
    (lambda: F.pad(cr.randn(2, 3), (4, 0), mode="circular"), "at most the padded dim"),
    (lambda: F.pad(cr.randn(2, 3), (-1, 0), mode="replicate"), "negative"),
    (lambda: F.pad(cr.randn(2, 3), (-2, -2)), "crops more"),
    (lambda: F.pad(cr.randn(2, 3), (1, 0), mode="reflect", value=1.0), "constant"),
])
def test_errors(call, pattern):
    with pytest.raises(ValueError, match=pattern):
        call()
