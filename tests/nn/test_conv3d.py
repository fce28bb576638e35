"""conv3d, conv_transpose3d and their layers against PyTorch: values, gradients, finite
differences and second derivatives (both are bilinear in input and weight)."""
from __future__ import annotations

import dataclasses

import numpy
import pytest
import torch
from ops.harness import assert_close, case, op_table_tests  # tests/ops

import chainrule as cr

# PyTorch warns that 'same' padding with an even kernel copies the input; so do we
pytestmark = pytest.mark.filterwarnings("ignore:Using padding='same'")


def F(m):
    return m.nn.functional


def conv_case(name, fn, *shapes):
    """A case with the float32 tolerance of tests/ops/test_conv.py: the gradients are sums of
    many products, whose float32 rounding depends on how the products are split."""
    return case(name, fn, *shapes, float32_tolerance=(1e-4, 1e-5))


CASES = [
    conv_case("conv3d", lambda m, x, w: F(m).conv3d(x, w), (2, 3, 5, 4, 4), (4, 3, 2, 3, 2)),
    conv_case("conv3d-stride-pad-dilation-bias", lambda m, x, w, b: F(m).conv3d(
        x, w, b, stride=(2, 1, 2), padding=(1, 2, 0), dilation=(2, 1, 1)),
         (2, 3, 7, 6, 5), (4, 3, 3, 2, 2), (4,)),
    conv_case("conv3d-groups-same", lambda m, x, w: F(m).conv3d(x, w, groups=2, padding="same"),
         (1, 4, 4, 4, 3), (6, 2, 3, 2, 3)),
    conv_case("conv3d-unbatched-stride", lambda m, x, w: F(m).conv3d(x, w, stride=2),
         (4, 5, 5, 5), (2, 4, 2, 2, 2)),
    conv_case("conv3d-valid-dilated", lambda m, x, w: F(m).conv3d(x, w, padding="valid",
                                                             dilation=(1, 2, 2)),
         (1, 2, 3, 5, 5), (2, 2, 1, 2, 2)),
    conv_case("conv-transpose3d", lambda m, x, w: F(m).conv_transpose3d(x, w), (2, 3, 3, 4, 2),
         (3, 2, 2, 3, 2)),
    conv_case("conv-transpose3d-stride-pad-output-padding", lambda m, x, w, b: F(m).conv_transpose3d(
        x, w, b, stride=(2, 1, 3), padding=(1, 0, 1), output_padding=(1, 0, 2),
        dilation=(1, 2, 1)), (2, 3, 3, 4, 3), (3, 2, 3, 3, 2), (2,)),
    conv_case("conv-transpose3d-groups-dilation", lambda m, x, w: F(m).conv_transpose3d(
        x, w, groups=3, stride=2, dilation=2, padding=2), (1, 6, 3, 3, 3), (6, 1, 3, 2, 2)),
    conv_case("conv-transpose3d-unbatched", lambda m, x, w: F(m).conv_transpose3d(x, w),
         (3, 3, 2, 2), (3, 2, 2, 2, 2)),
    conv_case("torch.conv3d", lambda m, x, w: m.conv3d(x, w, None, 1, 1), (1, 2, 3, 3, 3),
         (2, 2, 3, 3, 3)),
    conv_case("torch.conv_transpose3d", lambda m, x, w: m.conv_transpose3d(x, w, None, 2),
         (1, 2, 2, 2, 2), (2, 1, 2, 2, 2)),
]


# float32 against PyTorch: sums of a few hundred products, in another order (as test_conv)
CASES = [dataclasses.replace(c, float32_tolerance=(1e-4, 1e-5)) for c in CASES]

(test_forward_matches_torch, test_gradient_matches_torch, test_gradcheck,
 test_second_derivative_matches_torch) = op_table_tests(CASES)


@pytest.mark.parametrize("make, shape, kwargs", [
    *[(lambda m, mode=mode: m.nn.Conv3d(2, 3, (2, 3, 2), stride=(1, 2, 1), padding=1,
                                        padding_mode=mode), (2, 2, 3, 5, 4), {})
      for mode in ("zeros", "reflect", "replicate", "circular")],
    (lambda m: m.nn.ConvTranspose3d(2, 4, 3, stride=2, padding=1, groups=2), (1, 2, 3, 3, 3),
     {"output_size": (6, 5, 6)}),
])
def test_layers_match_torch(make, shape, kwargs):
    theirs, ours = make(torch).double(), make(cr).double()
    ours.load_state_dict({k: cr.tensor(v.detach().numpy()) for k, v in theirs.state_dict().items()})
    x = numpy.random.default_rng(1).standard_normal(shape)
    t_x, c_x = torch.tensor(x, requires_grad=True), cr.tensor(x, requires_grad=True)
    t_out, c_out = theirs(t_x, **kwargs), ours(c_x, **kwargs)
    assert_close(c_out, t_out, numpy.float64, "forward")
    upstream = numpy.random.default_rng(2).standard_normal(tuple(t_out.shape))
    t_out.backward(torch.tensor(upstream))
    c_out.backward(cr.tensor(upstream))
    assert_close(c_x.grad, t_x.grad, numpy.float64, "d/dx")
    assert_close(ours.weight.grad, theirs.weight.grad, numpy.float64, "d/dweight")
    assert_close(ours.bias.grad, theirs.bias.grad, numpy.float64, "d/dbias")


def test_layers_have_torch_shapes_and_repr():
    for make in (lambda m: m.nn.Conv3d(2, 4, 3, stride=2, bias=False),
                 lambda m: m.nn.ConvTranspose3d(2, 4, (1, 2, 3), padding=1, groups=2)):
        ours, theirs = make(cr), make(torch)
        assert repr(ours) == repr(theirs)
        assert {k: tuple(v.shape) for k, v in ours.state_dict().items()} == \
            {k: tuple(v.shape) for k, v in theirs.state_dict().items()}


@pytest.mark.parametrize("call, message", [
    (lambda: F(cr).conv3d(cr.zeros(2, 3, 3), cr.zeros(1, 2, 1, 1, 1)), "4-D"),
    (lambda: F(cr).conv3d(cr.zeros(1, 3, 3, 3, 3), cr.zeros(1, 2, 1, 1, 1)), "channels"),
    (lambda: F(cr).conv3d(cr.zeros(1, 2, 1, 3, 3), cr.zeros(1, 2, 2, 1, 1)), "smaller"),
    (lambda: F(cr).conv3d(cr.zeros(1, 2, 3, 3, 3), cr.zeros(1, 2, 1, 1)), "kd, kh, kw"),
    (lambda: F(cr).conv_transpose3d(cr.zeros(1, 2, 3, 3, 3), cr.zeros(2, 1, 1, 1, 1),
                                    stride=2, output_padding=2), "output_padding"),
])
def test_bad_arguments_name_the_function(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_a_small_volumetric_network_trains_as_in_torch():
    """Conv3d, MaxPool3d, ConvTranspose3d, AdaptiveAvgPool3d and Linear: three SGD steps
    from the same weights give PyTorch's losses."""
    def network(m):
        return m.nn.Sequential(
            m.nn.Conv3d(2, 4, 3, padding=1), m.nn.ReLU(), m.nn.MaxPool3d(2),
            m.nn.ConvTranspose3d(4, 3, 2, stride=2), m.nn.Tanh(),
            m.nn.AdaptiveAvgPool3d((2, 1, 2)), m.nn.Flatten(), m.nn.Linear(12, 3))
    theirs, ours = network(torch).double(), network(cr).double()
    ours.load_state_dict({k: cr.tensor(v.detach().numpy()) for k, v in theirs.state_dict().items()})
    generator = numpy.random.default_rng(4)
    x, y = generator.standard_normal((5, 2, 4, 6, 4)), generator.integers(0, 3, 5)
    losses = {}
    for m, model in ((torch, theirs), (cr, ours)):
        optimizer = m.optim.SGD(model.parameters(), lr=0.5)
        losses[m] = []
        for _ in range(3):
            optimizer.zero_grad()
            loss = m.nn.functional.cross_entropy(model(m.tensor(x)), m.tensor(y))
            loss.backward()
            optimizer.step()
            losses[m].append(loss.item())
    numpy.testing.assert_allclose(losses[cr], losses[torch], rtol=1e-10)
    assert losses[torch][2] != losses[torch][0]   # it learned something
