"""Transposed convolutions against PyTorch: values, gradients, finite differences and
second derivatives (the op is bilinear: its backward is a convolution)."""
from __future__ import annotations

import numpy
import pytest
import torch
from ops.harness import case, op_table_tests  # tests/ops

import chainrule as cr


def F(m):
    return m.nn.functional


CASES = [
    case("conv-transpose2d", lambda m, x, w: F(m).conv_transpose2d(x, w), (2, 3, 4, 4),
         (3, 2, 3, 3)),
    case("conv-transpose2d-stride-pad-bias", lambda m, x, w, b: F(m).conv_transpose2d(
        x, w, b, stride=2, padding=1, output_padding=1), (2, 3, 3, 4), (3, 2, 3, 2), (2,)),
    case("conv-transpose2d-groups-dilation", lambda m, x, w: F(m).conv_transpose2d(
        x, w, groups=2, dilation=2, stride=(1, 2)), (1, 4, 3, 3), (4, 3, 2, 2)),
    case("conv-transpose2d-unbatched", lambda m, x, w: F(m).conv_transpose2d(x, w, stride=2),
         (3, 3, 3), (3, 1, 2, 2)),
    case("conv-transpose1d", lambda m, x, w, b: F(m).conv_transpose1d(x, w, b, stride=3,
                                                                      padding=1),
         (2, 3, 5), (3, 4, 4), (4,)),
]

(test_forward_matches_torch, test_gradient_matches_torch, test_gradcheck,
 test_second_derivative_matches_torch) = op_table_tests(CASES)


@pytest.mark.parametrize("make", [
    lambda m: m.nn.ConvTranspose2d(3, 2, 4, stride=2, padding=1),
    lambda m: m.nn.ConvTranspose2d(4, 2, (2, 3), groups=2, output_padding=(1, 0), stride=2),
    lambda m: m.nn.ConvTranspose1d(3, 2, 3, bias=False, dilation=2),
])
def test_layers_match_torch(make):
    theirs = make(torch).double()
    ours = make(cr).double()
    ours.load_state_dict({k: cr.tensor(v.detach().numpy()) for k, v in theirs.state_dict().items()})
    shape = (2, theirs.in_channels) + (5,) * (theirs.weight.ndim - 2)
    x = numpy.random.default_rng(1).standard_normal(shape)
    t_x, c_x = torch.tensor(x, requires_grad=True), cr.tensor(x, requires_grad=True)
    t_out, c_out = theirs(t_x), ours(c_x)
    numpy.testing.assert_allclose(c_out.numpy(), t_out.detach().numpy(), rtol=1e-10, atol=1e-12)
    t_out.sum().backward()
    c_out.sum().backward()
    numpy.testing.assert_allclose(c_x.grad.numpy(), t_x.grad.numpy(), rtol=1e-10, atol=1e-12)
    numpy.testing.assert_allclose(ours.weight.grad.numpy(), theirs.weight.grad.numpy(),
                                  rtol=1e-10, atol=1e-12)
    assert repr(ours) == repr(theirs)


def test_output_size_picks_the_output_padding():
    layer = cr.nn.ConvTranspose2d(1, 1, 3, stride=2, padding=1)
    assert layer(cr.zeros(1, 1, 4, 4), output_size=(8, 8)).shape == (1, 1, 8, 8)
    assert layer(cr.zeros(1, 1, 4, 4)).shape == (1, 1, 7, 7)


def test_default_init_has_torchs_bounds():
    layer = cr.nn.ConvTranspose2d(4, 6, 3)
    assert layer.weight.shape == (4, 6, 3, 3)
    bound = 1 / (6 * 9) ** 0.5                         # fan_in = out_channels · k · k
    assert numpy.abs(layer.bias.numpy()).max() <= bound


def test_bad_output_padding_is_refused():
    with pytest.raises(ValueError, match="output_padding"):
        cr.nn.functional.conv_transpose2d(cr.zeros(1, 1, 2, 2), cr.zeros(1, 1, 2, 2),
                                          output_padding=1)
