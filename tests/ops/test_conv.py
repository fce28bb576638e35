"""conv1d / conv2d (ops/conv.py) and the Conv1d / Conv2d layers: the op table (forward and
gradients against PyTorch in float32 and float64, finite differences, second derivatives),
then the scratch buffers, the layers and the error messages."""
from __future__ import annotations

import math

import numpy
import pytest
import torch

import chainrule as cr
import chainrule.nn.functional as F
from chainrule.kernels import im2col as conv_ops

from .harness import assert_close, case, op_table_tests, random_arrays

# PyTorch warns that it copies the input for 'same' padding with even kernels
pytestmark = pytest.mark.filterwarnings("ignore:Using padding='same':UserWarning")

CONV32 = (1e-4, 1e-5)  # float32 against PyTorch (sums of up to a few hundred products)


def close(got, expected, what=""):
    assert_close(got, expected, numpy.float32, what, CONV32)


def conv_case(nd, x_shape, w_shape, kwargs, bias):
    """conv1d/conv2d of x and W (and b) with these arguments, as an op-table case."""
    shapes = (x_shape, w_shape) + (((w_shape[0],),) if bias else ())
    name = f"conv{nd}d-{x_shape}-{w_shape}-{kwargs}-bias{bias}".replace(" ", "")

    def fn(m, x, w, b=None):
        return getattr(m.nn.functional, f"conv{nd}d")(x, w, b, **kwargs)
    return case(name, fn, *shapes, float32_tolerance=CONV32)


CONV2D = [  # (input shape, weight shape, keyword arguments, bias)
    ((2, 3, 7, 9), (4, 3, 3, 3), {}, True),
    ((1, 1, 5, 5), (2, 1, 5, 5), {}, False),  # batch 1, kernel = image
    ((2, 3, 8, 8), (5, 3, 3, 2), dict(stride=2, padding=1), True),
    ((2, 3, 9, 7), (4, 3, 3, 3), dict(stride=(2, 1), padding=(0, 2)), False),
    ((2, 2, 10, 11), (3, 2, 3, 3), dict(dilation=2), True),
    ((2, 2, 10, 11), (3, 2, 2, 3), dict(dilation=(1, 3), padding=2, stride=(1, 2)), True),
    ((2, 4, 6, 7), (6, 2, 3, 3), dict(groups=2, padding=1), True),
    ((2, 4, 6, 7), (4, 1, 3, 3), dict(groups=4, padding=1), True),  # depthwise
    ((2, 3, 6, 7), (6, 1, 3, 3), dict(groups=3, stride=2), False),  # depthwise × 2
    ((2, 3, 7, 8), (4, 3, 3, 3), dict(padding="same"), True),
    ((2, 3, 7, 8), (4, 3, 4, 2), dict(padding="same"), True),  # even kernel: pad after
    ((2, 3, 7, 8), (4, 3, 2, 3), dict(padding="same", dilation=(3, 2)), True),
    ((2, 3, 7, 8), (4, 3, 3, 3), dict(padding="valid"), True),
    ((3, 2, 6, 11), (5, 2, 1, 1), dict(stride=3), True),  # 1×1 kernel
    ((2, 4, 6, 5), (6, 2, 3, 2), dict(stride=(2, 1), padding=(1, 2), dilation=(1, 2),
                                      groups=2), True),
    ((1, 4, 17, 16), (6, 2, 3, 3), dict(padding=1, groups=2), False),  # ≥ 256 pixels/image
    # kw·C ≥ CHANNELS_LAST_RUN: unfolded channels last (kernels/im2col.py, im2row)
    ((2, 11, 6, 7), (3, 11, 3, 3), dict(padding=1), True),
    ((2, 8, 7, 9), (3, 8, 3, 4), dict(stride=(2, 1), padding=(1, 2), dilation=(1, 2)), False),
]
CONV1D = [
    ((2, 3, 10), (4, 3, 3), {}, True),
    ((1, 2, 9), (3, 2, 4), dict(stride=2, padding=1), False),
    ((2, 4, 12), (4, 2, 3), dict(groups=2, dilation=2), True),
    ((2, 4, 11), (8, 1, 3), dict(groups=4, padding="same"), True),
    ((2, 4, 260), (4, 2, 3), dict(padding=1, groups=2), True),  # ≥ 256 outputs per image
]
LARGE = [  # compared with PyTorch only (finite differences over every element are slow)
    (2, (2, 4, 20, 18), (6, 2, 3, 3), dict(groups=2, padding=1), True),
    (2, (2, 3, 17, 19), (5, 3, 2, 3), dict(dilation=(1, 2)), True),
    (2, (4, 1, 28, 28), (16, 1, 5, 5), {}, True),  # W3's first layer
    (2, (4, 16, 12, 12), (32, 16, 5, 5), {}, True),  # W3's second layer
    (1, (2, 3, 300), (2, 3, 5), dict(padding=2), True),
]
CASES = [conv_case(2, *c) for c in CONV2D] + [conv_case(1, *c) for c in CONV1D]

(test_forward_matches_torch, test_gradient_matches_torch, test_gradcheck,
 test_second_derivative_matches_torch) = op_table_tests(
    CASES, compared=[conv_case(*c) for c in LARGE])


def test_stacked_convolutions_keep_their_own_columns():
    """Each Conv2d keeps its forward's columns for the weight gradient: a later convolution
    of the same shape must not overwrite them (the scratch buffers are shared)."""
    x, w1, w2 = random_arrays((2, 3, 8, 8), (3, 3, 3, 3), (3, 3, 3, 3))
    ours = [cr.tensor(a, requires_grad=True) for a in (x, w1, w2)]
    theirs = [torch.tensor(a, requires_grad=True) for a in (x, w1, w2)]
    for (a, b, c), conv in ((ours, F.conv2d), (theirs, torch.nn.functional.conv2d)):
        (conv(conv(a, b, padding=1), c, padding=1) ** 2).sum().backward()
    for got, expected, what in zip(ours, theirs, ("d/dinput", "d/dw1", "d/dw2")):
        close(got.grad, expected.grad, what)


def test_unbatched_input():
    x, w = random_arrays((3, 6, 7), (2, 3, 3, 3))
    got = F.conv2d(cr.tensor(x), cr.tensor(w), padding=1)
    close(got, torch.nn.functional.conv2d(torch.tensor(x), torch.tensor(w), padding=1))
    x, w = random_arrays((3, 8), (2, 3, 3))
    got = F.conv1d(cr.tensor(x), cr.tensor(w))
    close(got, torch.nn.functional.conv1d(torch.tensor(x), torch.tensor(w)))


def test_float64_stays_float64():
    x, w = random_arrays((2, 2, 5, 5), (3, 2, 3, 3), dtype=numpy.float64)
    cx = cr.tensor(x, requires_grad=True)
    y = F.conv2d(cx, cr.tensor(w))
    assert y.dtype == cr.float64
    y.sum().backward()
    assert cx.grad.dtype == cr.float64


def test_small_cnn_training_step_matches_torch():
    """W3's network, one forward and backward: two convolutions interleaved through the
    shared scratch buffers still give PyTorch's gradients."""
    cr.manual_seed(0)
    ours = cr.nn.Sequential(cr.nn.Conv2d(1, 4, 5), cr.nn.MaxPool2d(2), cr.nn.Conv2d(4, 6, 5),
                            cr.nn.MaxPool2d(2), cr.nn.Flatten(), cr.nn.Linear(6 * 4 * 4, 3))
    theirs = torch.nn.Sequential(torch.nn.Conv2d(1, 4, 5), torch.nn.MaxPool2d(2),
                                 torch.nn.Conv2d(4, 6, 5), torch.nn.MaxPool2d(2),
                                 torch.nn.Flatten(), torch.nn.Linear(6 * 4 * 4, 3))
    with torch.no_grad():
        for t, c in zip(theirs.parameters(), ours.parameters()):
            t.copy_(torch.tensor(c.numpy()))
    (x,) = random_arrays((3, 1, 28, 28))
    got = ours(cr.tensor(x))
    expected = theirs(torch.tensor(x))
    close(got, expected, "forward")
    (got * got).sum().backward()
    (expected * expected).sum().backward()
    for (name, c), t in zip(ours.named_parameters(), theirs.parameters()):
        close(c.grad, t.grad, name)


# --- layers ----------------------------------------------------------------------------
def test_conv2d_layer_shapes_init_and_repr():
    cr.manual_seed(0)
    layer = cr.nn.Conv2d(4, 8, (3, 5), stride=2, padding=1, groups=2)
    assert layer.weight.shape == (8, 2, 3, 5) and layer.bias.shape == (8,)
    bound = 1 / math.sqrt(2 * 3 * 5)  # kaiming_uniform(a=√5): U(-1/√fan_in, 1/√fan_in)
    for p in (layer.weight, layer.bias):
        assert numpy.abs(p.numpy()).max() <= bound
        assert numpy.abs(p.numpy()).max() > 0.8 * bound
    assert [name for name, _ in layer.named_parameters()] == ["weight", "bias"]
    assert repr(layer) == repr(torch.nn.Conv2d(4, 8, (3, 5), stride=2, padding=1, groups=2))
    assert layer(cr.randn(2, 4, 9, 9)).shape == (2, 8, 5, 4)


def test_conv1d_layer_without_bias():
    layer = cr.nn.Conv1d(3, 6, 3, padding="same", bias=False)
    assert layer.bias is None and len(list(layer.parameters())) == 1
    assert repr(layer) == repr(torch.nn.Conv1d(3, 6, 3, padding="same", bias=False))
    assert layer(cr.randn(2, 3, 10)).shape == (2, 6, 10)


@pytest.mark.parametrize("mode", ["reflect", "replicate", "circular"])
@pytest.mark.parametrize("nd, padding", [(2, 1), (2, "same"), (1, 2)])
def test_padding_modes_match_torch(mode, nd, padding):
    cr.manual_seed(0)
    ours = (cr.nn.Conv1d if nd == 1 else cr.nn.Conv2d)(3, 4, 3, padding=padding,
                                                       padding_mode=mode)
    theirs = (torch.nn.Conv1d if nd == 1 else torch.nn.Conv2d)(3, 4, 3, padding=padding,
                                                               padding_mode=mode)
    with torch.no_grad():
        theirs.weight.copy_(torch.tensor(ours.weight.numpy()))
        theirs.bias.copy_(torch.tensor(ours.bias.numpy()))
    (x,) = random_arrays((2, 3) + (6,) * nd)
    cx, tx = cr.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    got, expected = ours(cx), theirs(tx)
    close(got, expected, "forward")
    got.sum().backward()
    expected.sum().backward()
    close(cx.grad, tx.grad, "d/dinput")
    close(ours.weight.grad, theirs.weight.grad, "d/dweight")


# --- errors ----------------------------------------------------------------------------
def test_wrong_channels_names_the_layer_and_both_shapes():
    layer = cr.nn.Conv2d(3, 8, 3)
    with pytest.raises(ValueError) as info:
        layer(cr.randn(2, 4, 10, 10))
    message = str(info.value)
    assert message.startswith("Conv2d(3, 8, kernel_size=(3, 3)")
    assert "(2, 4, 10, 10)" in message and "(8, 3, 3, 3)" in message
    assert "expected input with 3 channels" in message


def test_input_smaller_than_kernel_says_so():
    with pytest.raises(ValueError, match=r"smaller than the kernel.*\(4 x 4\).*\(5 x 5\)"):
        cr.nn.Conv2d(3, 8, 5)(cr.randn(2, 3, 4, 4))
    with pytest.raises(ValueError, match="dilated to 5"):
        F.conv1d(cr.randn(1, 1, 4), cr.randn(1, 1, 3), dilation=2)


@pytest.mark.parametrize("call, pattern", [
    (lambda: F.conv2d(cr.randn(1, 2, 5, 5), cr.randn(2, 2, 3)), "weight must have 4"),
    (lambda: F.conv2d(cr.randn(2, 5, 5), cr.randn(2, 3, 3, 3)), "expected input with 3"),
    (lambda: F.conv2d(cr.randn(1, 2, 5, 5, 1), cr.randn(2, 2, 3, 3)), "4-D"),
    (lambda: F.conv2d(cr.randn(1, 4, 5, 5), cr.randn(3, 2, 3, 3), groups=2), "divisible"),
    (lambda: F.conv2d(cr.randn(1, 2, 5, 5), cr.randn(3, 2, 3, 3), stride=2, padding="same"),
     "not supported for strided"),
    (lambda: F.conv2d(cr.randn(1, 2, 5, 5), cr.randn(3, 2, 3, 3), padding="full"),
     "padding must be"),
    (lambda: F.conv2d(cr.randn(1, 2, 5, 5), cr.randn(3, 2, 3, 3), cr.randn(2)), "bias"),
    (lambda: F.conv2d(cr.randn(1, 2, 5, 5), cr.randn(3, 2, 3, 3), stride=0), "stride"),
    (lambda: cr.nn.Conv2d(3, 4, 3, groups=2), "divisible by groups"),
    (lambda: cr.nn.Conv2d(3, 4, 3, padding_mode="mirror"), "padding_mode"),
])
def test_argument_errors(call, pattern):
    with pytest.raises(ValueError, match=pattern):
        call()


def test_workspace_is_reused_and_not_returned():
    """Scratch buffers hold only temporaries: outputs never alias them."""
    (x,) = random_arrays((2, 3, 8, 8))
    w = cr.randn(4, 3, 3, 3)
    y1 = F.conv2d(cr.tensor(x), w, padding=1)
    kept = y1.numpy().copy()
    F.conv2d(cr.randn(2, 3, 8, 8), w, padding=1)
    numpy.testing.assert_array_equal(y1.numpy(), kept)
    assert conv_ops.workspace.buffers
    for buffer in conv_ops.workspace.buffers.values():
        assert not numpy.shares_memory(buffer, y1.numpy())


@pytest.mark.parametrize("x_shape, w_shape, kwargs", [
    ((2, 3, 7, 8), (4, 3, 3, 3), dict(padding=1)),
    ((2, 5, 9, 8), (4, 5, 3, 2), dict(stride=(2, 1), padding=(2, 1), dilation=(1, 2))),
    ((3, 16, 12, 12), (8, 16, 5, 5), {}),  # W3's second layer
])
def test_both_layouts_of_the_columns_agree(monkeypatch, x_shape, w_shape, kwargs):
    """Channels last (im2row) or channels first (im2col), whichever `channels_last` picks:
    the same output and gradients."""
    results = []
    for run in (1, 10 ** 9):  # every convolution channels last, then none
        monkeypatch.setattr(conv_ops, "CHANNELS_LAST_RUN", run)
        x, w, b = (cr.tensor(a, requires_grad=True)
                   for a in random_arrays(x_shape, w_shape, w_shape[:1], dtype=numpy.float64))
        y = F.conv2d(x, w, b, **kwargs)
        (y * y).sum().backward()
        results.append([y.numpy(), x.grad.numpy(), w.grad.numpy(), b.grad.numpy()])
    for got, expected in zip(*results):
        numpy.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("x_shape, w_shape, stride, dilation, groups", [
    ((2, 3, 9, 8), (4, 3, 3, 2), (1, 1), (1, 1), 1),
    ((2, 3, 9, 8), (4, 3, 3, 3), (2, 3), (1, 1), 1),
    ((2, 4, 11, 10), (6, 2, 2, 3), (1, 2), (2, 2), 2),
    ((2, 1, 12, 12), (5, 1, 5, 5), (1, 1), (1, 1), 1),  # W3's first layer: few inputs
])
def test_both_ways_to_the_input_gradient_agree(x_shape, w_shape, stride, dilation, groups):
    """The input gradient spreads grad's columns before the product or after it, whichever
    moves fewer numbers (see conv.py, Note [input gradient]); both give the same rows."""
    (n, _, h, w), (o, cg, kh, kw) = x_shape, w_shape
    oh, ow = (conv_ops.out_size(s, k, st, 0, d)
              for s, k, st, d in zip((h, w), (kh, kw), stride, dilation))
    grad, weight = random_arrays((n, o, oh, ow), w_shape, dtype=numpy.float64)
    results = []
    for make_rows in (conv_ops._spread_then_multiply, conv_ops._multiply_then_spread):
        rows = numpy.full((groups, kh, cg, n, oh, w), numpy.nan)
        make_rows(grad, weight, stride, dilation, groups, rows)
        results.append(rows)
    numpy.testing.assert_allclose(*results, rtol=1e-12, atol=1e-12)
