"""CrossMapLRN2d against PyTorch: the forward (with the Lua-era window that always holds
channel 0) value for value; the gradient against autograd through the same formula in
PyTorch, and finite differences. PyTorch's own CrossMapLRN2d backward is not the
derivative of its forward (torch.autograd.gradcheck fails on it), so it is not the oracle
for the gradient."""
from __future__ import annotations

import numpy
import pytest
import torch
from ops.harness import case, op_table_tests  # tests/ops

import chainrule as cr

ARGUMENTS = [(1, 1e-4, 0.75, 1.0), (2, 0.5, 0.75, 1.5), (3, 0.3, 0.5, 2.0),
             (4, 1.0, 1.0, 1.0), (5, 0.2, 0.75, 1.0), (9, 0.4, 0.3, 0.7)]


def _formula(x, size, alpha, beta, k):
    """The forward PyTorch's CrossMapLRN2d computes, in PyTorch operations."""
    channels = x.shape[1]
    reach = int((size - 1) / 2 + 1)
    c = torch.arange(channels)
    windows = (c[:, None] - c[None, :]).abs() <= reach - 1
    windows[:, 0] = True
    sums = torch.einsum("dc,nchw->ndhw", windows.to(x.dtype), x * x)
    return x * (k + alpha / size * sums) ** (-beta)


CASES = [
    case(f"CrossMapLRN2d-{size}", lambda m, x, args=(size, alpha, beta, k): (
        cr.nn.CrossMapLRN2d(*args)(x) if m is cr else _formula(x, *args)), (2, 7, 3, 2))
    for size, alpha, beta, k in ARGUMENTS
]

(test_forward_matches_torch, test_gradient_matches_torch, test_gradcheck,
 test_second_derivative_matches_torch) = op_table_tests(CASES)


@pytest.mark.parametrize("size, alpha, beta, k", ARGUMENTS)
def test_forward_matches_torchs_layer(size, alpha, beta, k):
    a = numpy.random.default_rng(size).standard_normal((2, 7, 3, 2))
    got = cr.nn.CrossMapLRN2d(size, alpha, beta, k)(cr.tensor(a))
    expected = torch.nn.CrossMapLRN2d(size, alpha, beta, k)(torch.tensor(a))
    numpy.testing.assert_allclose(got.numpy(), expected.numpy(), rtol=1e-12, atol=1e-14)
    assert repr(cr.nn.CrossMapLRN2d(size, alpha, beta, k)) == \
        repr(torch.nn.CrossMapLRN2d(size, alpha, beta, k))


def test_torchs_backward_is_not_its_forwards_derivative():
    """Why the gradient oracle is the formula: PyTorch's layer fails its own gradcheck."""
    x = torch.randn(1, 5, 2, 2, dtype=torch.float64, requires_grad=True)
    layer = torch.nn.CrossMapLRN2d(3, alpha=0.5)
    assert not torch.autograd.gradcheck(layer, (x,), raise_exception=False)
    assert torch.autograd.gradcheck(lambda t: _formula(t, 3, 0.5, 0.75, 1.0), (x,))


def test_input_must_be_4d():
    with pytest.raises(ValueError, match="4D"):
        cr.nn.CrossMapLRN2d(3)(cr.zeros(2, 3, 4))
