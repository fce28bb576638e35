"""3-D pooling, LP pooling, max unpooling, fractional max pooling and the `_with_indices`
forms against PyTorch: values, indices, gradients, finite differences, second derivatives."""
from __future__ import annotations

import dataclasses

import numpy
import pytest
import torch
from ops.harness import case, op_table_tests  # tests/ops

import chainrule as cr


def F(m):
    return m.nn.functional


def _unpooled(m, x, nd, kernel, stride, padding, output_size=None):
    """max pool, then unpool (twice the values) at the pooled indices."""
    values, indices = getattr(F(m), f"max_pool{nd}d")(x, kernel, stride, padding,
                                                       return_indices=True)
    return getattr(F(m), f"max_unpool{nd}d")(values * 2, indices, kernel, stride, padding,
                                             output_size=output_size)


SAMPLES = numpy.random.default_rng(7).uniform(size=(2, 3, 3))


# Overlapping windows can pool one element twice; unpooling gives both copies the slot's
# gradient (PyTorch's backward: a gather at the indices), which finite differences count once.
TWICE = "overlapping windows: PyTorch's unpooling gradient counts a twice-pooled element twice"


def _samples(m, x, nd, batch=2):
    """Fixed _random_samples of the input's dtype: (batch, 3 channels, nd)."""
    return m.tensor(SAMPLES[:batch, :, :nd], dtype=x.dtype)


MAX = [
    case("max-pool3d", lambda m, x: F(m).max_pool3d(x, 2), (2, 3, 4, 4, 4)),
    case("max-pool3d-stride-pad-dilation-ceil", lambda m, x: F(m).max_pool3d(
        x, (3, 2, 3), stride=(2, 1, 2), padding=(1, 1, 0), dilation=(1, 2, 1), ceil_mode=True),
         (1, 2, 5, 4, 5)),
    case("max-pool3d-unbatched", lambda m, x: F(m).max_pool3d(x, 3, 2, 1, ceil_mode=True),
         (2, 6, 5, 7)),
    case("torch.max_pool3d", lambda m, x: m.max_pool3d(x, 2, 1), (1, 2, 3, 3, 3)),
    case("max-pool3d-with-indices", lambda m, x: F(m).max_pool3d_with_indices(x, 2, 1, 1)[0],
         (1, 2, 3, 4, 3)),
    case("max-pool2d-with-indices", lambda m, x: F(m).max_pool2d_with_indices(x, 3, 2, 1)[0],
         (1, 2, 5, 5)),
    case("max-pool1d-with-indices", lambda m, x: F(m).max_pool1d_with_indices(x, 3, 2, 1)[0],
         (2, 2, 7)),
    case("torch.max_pool1d_with_indices", lambda m, x: m.max_pool1d_with_indices(x, 2)[0],
         (2, 2, 6)),
    case("adaptive-max-pool3d", lambda m, x: F(m).adaptive_max_pool3d(x, (2, None, 3)),
         (1, 2, 5, 3, 7)),
    case("adaptive-max-pool3d-unbatched", lambda m, x: F(m).adaptive_max_pool3d(x, 2),
         (2, 3, 4, 5)),
    case("adaptive-max-pool2d-with-indices", lambda m, x: F(m).adaptive_max_pool2d_with_indices(
        x, (3, 2))[0], (1, 2, 5, 4)),
    case("max-unpool1d", lambda m, x: _unpooled(m, x, 1, 3, 1, 1), (2, 3, 7),
         no_gradcheck=TWICE),
    case("max-unpool1d-output-size", lambda m, x: _unpooled(m, x, 1, 2, 2, 0, (2, 3, 7)),
         (2, 3, 7)),
    case("max-unpool2d", lambda m, x: _unpooled(m, x, 2, 2, 2, 0), (2, 3, 4, 6)),
    case("max-unpool2d-overlapping", lambda m, x: _unpooled(m, x, 2, 3, 2, 1, (7, 7)),
         (1, 3, 7, 7), no_gradcheck=TWICE),
    case("max-unpool3d", lambda m, x: _unpooled(m, x, 3, (3, 2, 2), (2, 1, 2), (1, 1, 0),
                                                (5, 4, 5)), (1, 2, 5, 4, 5), no_gradcheck=TWICE),
    case("max-unpool3d-unbatched", lambda m, x: _unpooled(m, x, 3, 2, 2, 0), (2, 4, 6, 4)),
    case("fractional-max-pool2d", lambda m, x: F(m).fractional_max_pool2d(
        x, 2, output_size=(5, 4), _random_samples=_samples(m, x, 2)), (2, 3, 6, 6)),
    case("fractional-max-pool2d-ratio", lambda m, x: F(m).fractional_max_pool2d_with_indices(
        x, (3, 2), output_ratio=(0.5, 0.4), _random_samples=_samples(m, x, 2, 1))[0],
         (1, 3, 9, 11)),
    case("fractional-max-pool3d", lambda m, x: F(m).fractional_max_pool3d(
        x, 2, output_size=(3, 3, 2), _random_samples=_samples(m, x, 3, 1)), (1, 3, 5, 5, 4)),
    case("fractional-max-pool3d-unbatched", lambda m, x: F(m).fractional_max_pool3d_with_indices(
        x, (1, 2, 3), output_size=(3, 3, 1), _random_samples=_samples(m, x, 3, 1))[0],
         (3, 4, 5, 4)),
]
MAX = [dataclasses.replace(c, domain="distinct") for c in MAX]  # no ties: one winner

AVERAGE = [
    case(f"avg-pool3d-ceil{int(ceil)}-include{int(include)}-override{override}",
         lambda m, x, ceil=ceil, include=include, override=override: F(m).avg_pool3d(
             x, (3, 2, 3), stride=(2, 1, 2), padding=(1, 1, 1), ceil_mode=ceil,
             count_include_pad=include, divisor_override=override), (2, 2, 6, 5, 8))
    for ceil in (False, True) for include in (True, False) for override in (None, 5)
] + [
    case("avg-pool3d-unbatched", lambda m, x: F(m).avg_pool3d(x, 2), (3, 4, 4, 5)),
    case("adaptive-avg-pool3d", lambda m, x: F(m).adaptive_avg_pool3d(x, (2, None, 3)),
         (2, 2, 5, 4, 7)),
    case("adaptive-avg-pool3d-global", lambda m, x: F(m).adaptive_avg_pool3d(x, 1),
         (2, 5, 4, 7)),
    case("adaptive-avg-pool3d-up", lambda m, x: F(m).adaptive_avg_pool3d(x, (3, 4, 2)),
         (1, 2, 2, 3, 2)),
]
LP = [
    case(f"lp-pool{nd}d-p{p}", lambda m, x, nd=nd, p=p, kernel=kernel, stride=stride,
         ceil=ceil: getattr(F(m), f"lp_pool{nd}d")(x, p, kernel, stride, ceil_mode=ceil),
         shape, domain="real" if p == 2 else "positive")
    for nd, kernel, stride, ceil, shape in (
        (1, 3, 2, True, (2, 3, 8)), (2, 2, None, False, (2, 3, 4, 5)),
        (2, (2, 3), (1, 2), True, (1, 2, 5, 6)), (3, (2, 1, 3), (1, 2, 2), True, (2, 2, 3, 5, 6)))
    for p in (1, 2, 3, 1.5)
]
# (odd p: a window sum crossing 0 is a kink; p = 1.5: x^p needs x > 0)

MODULES = [
    case("MaxPool3d", lambda m, x: m.nn.MaxPool3d(2, 1, 1)(x), (1, 2, 3, 4, 3),
         domain="distinct"),
    case("AvgPool3d", lambda m, x: m.nn.AvgPool3d(2, ceil_mode=True)(x), (1, 2, 3, 4, 5)),
    case("AdaptiveAvgPool3d", lambda m, x: m.nn.AdaptiveAvgPool3d((2, 1, 3))(x),
         (1, 2, 3, 4, 5)),
    case("AdaptiveMaxPool3d", lambda m, x: m.nn.AdaptiveMaxPool3d(2)(x), (2, 3, 4, 5),
         domain="distinct"),
    case("LPPool1d", lambda m, x: m.nn.LPPool1d(2, 3)(x), (2, 3, 7)),
    case("LPPool2d", lambda m, x: m.nn.LPPool2d(2, (2, 3), 1)(x), (2, 3, 4, 5)),
    case("LPPool3d", lambda m, x: m.nn.LPPool3d(1.5, 2)(x), (1, 2, 4, 4, 4), domain="positive"),
    case("MaxUnpool2d", lambda m, x: m.nn.MaxUnpool2d(2)(*m.nn.MaxPool2d(2, return_indices=True)(x)),
         (1, 2, 4, 4), domain="distinct"),
    case("MaxUnpool1d", lambda m, x: m.nn.MaxUnpool1d(2)(*m.nn.MaxPool1d(2, return_indices=True)(x),
                                                         output_size=(7,)),
         (1, 2, 7), domain="distinct"),
    case("MaxUnpool3d", lambda m, x: m.nn.MaxUnpool3d(2)(*m.nn.MaxPool3d(2, return_indices=True)(x)),
         (1, 2, 4, 4, 2), domain="distinct"),
    case("FractionalMaxPool2d", lambda m, x: m.nn.FractionalMaxPool2d(
        3, output_size=4, _random_samples=_samples(m, x, 2, 1))(x), (1, 3, 7, 8),
         domain="distinct"),
    case("FractionalMaxPool3d", lambda m, x: m.nn.FractionalMaxPool3d(
        2, output_ratio=0.5, return_indices=True, _random_samples=_samples(m, x, 3, 1))(x)[0],
         (1, 3, 6, 5, 4), domain="distinct"),
]

(test_forward_matches_torch, test_gradient_matches_torch, test_gradcheck,
 test_second_derivative_matches_torch) = op_table_tests(MAX + AVERAGE + LP, compared=MODULES)


def _distinct(shape, dtype=numpy.float64):
    n = int(numpy.prod(shape))
    return (numpy.random.default_rng(3).permutation(n).reshape(shape) * 0.1).astype(dtype)


@pytest.mark.parametrize("call, shape", [
    (lambda m, x: F(m).max_pool3d(x, (3, 2, 3), (2, 1, 2), (1, 1, 0), (1, 2, 1), True, True),
     (2, 2, 7, 6, 7)),
    (lambda m, x: F(m).max_pool3d_with_indices(x, 3, 2, 1, ceil_mode=True), (2, 6, 5, 7)),
    (lambda m, x: F(m).max_pool2d_with_indices(x, 2), (2, 3, 4, 5)),
    (lambda m, x: F(m).max_pool1d_with_indices(x, 3, 1, 1), (3, 5)),
    (lambda m, x: F(m).adaptive_max_pool1d(x, 3, True), (2, 7)),
    (lambda m, x: F(m).adaptive_max_pool1d_with_indices(x, 3), (2, 3, 7)),
    (lambda m, x: F(m).adaptive_max_pool2d(x, (None, 4), return_indices=True), (2, 3, 4, 7)),
    (lambda m, x: F(m).adaptive_max_pool3d_with_indices(x, (2, 3, 2)), (2, 3, 4, 7, 5)),
    (lambda m, x: F(m).fractional_max_pool2d(x, 2, 3, return_indices=True,
                                             _random_samples=_samples(m, x, 2)), (2, 3, 6, 6)),
    (lambda m, x: F(m).fractional_max_pool3d(x, 2, (2, 3, 2), return_indices=True,
                                             _random_samples=_samples(m, x, 3)), (2, 3, 5, 6, 5)),
    (lambda m, x: m.nn.MaxPool3d(2, return_indices=True)(x), (1, 2, 4, 4, 4)),
    (lambda m, x: m.nn.AdaptiveMaxPool3d(2, return_indices=True)(x), (1, 2, 4, 5, 3)),
])
def test_indices_match_torch(call, shape):
    x = _distinct(shape)
    (values, indices), (t_values, t_indices) = call(cr, cr.tensor(x)), call(torch, torch.tensor(x))
    numpy.testing.assert_array_equal(indices.numpy(), t_indices.numpy())
    assert indices.dtype == cr.int64
    numpy.testing.assert_allclose(values.numpy(), t_values.numpy())


def test_fractional_pooling_draws_its_windows_when_not_given_samples():
    x = cr.tensor(_distinct((2, 3, 8, 8)))
    out, indices = F(cr).fractional_max_pool2d(x, 2, output_ratio=0.5, return_indices=True)
    assert out.shape == indices.shape == (2, 3, 4, 4)
    numpy.testing.assert_array_equal(
        out.numpy(), numpy.take_along_axis(x.numpy().reshape(2, 3, -1),
                                           indices.numpy().reshape(2, 3, -1), 2).reshape(out.shape))


def test_layer_reprs_match_torch():
    for make in (lambda m: m.nn.MaxPool3d(2), lambda m: m.nn.AvgPool3d(2),
                 lambda m: m.nn.AdaptiveAvgPool3d((1, 2, 3)), lambda m: m.nn.AdaptiveMaxPool3d(2),
                 lambda m: m.nn.LPPool1d(2, 3), lambda m: m.nn.LPPool2d(2, 3, 1),
                 lambda m: m.nn.LPPool3d(1.5, (1, 2, 3)), lambda m: m.nn.MaxUnpool1d(2),
                 lambda m: m.nn.MaxUnpool2d(3, 1, 1), lambda m: m.nn.MaxUnpool3d(2),
                 lambda m: m.nn.FractionalMaxPool2d(2, output_size=3)):
        assert repr(make(cr)) == repr(make(torch))


@pytest.mark.parametrize("call, error, message", [
    (lambda: F(cr).max_pool3d(cr.zeros(2, 3, 3), 2), ValueError, "4-D"),
    (lambda: F(cr).max_pool3d(cr.zeros(1, 1, 3, 3, 3), 2, padding=2), ValueError, "half"),
    (lambda: F(cr).avg_pool3d(cr.zeros(1, 1, 1, 3, 3), 2), ValueError, "smaller"),
    (lambda: F(cr).avg_pool3d(cr.zeros(1, 1, 2, 2, 2), 2, divisor_override=0), ValueError,
     "divisor_override"),
    (lambda: F(cr).max_unpool2d(cr.zeros(1, 1, 2, 2), cr.zeros(1, 1, 2, 2, dtype=cr.int64), 2,
                                output_size=(7, 4)), ValueError, "between 2 and 6"),
    (lambda: F(cr).max_unpool1d(cr.zeros(1, 1, 2), cr.tensor([[[0, 9]]]), 2), ValueError,
     "invalid max index 9"),
    (lambda: F(cr).fractional_max_pool2d(cr.zeros(1, 1, 4, 4), 2), ValueError,
     "output_size or an output_ratio"),
    (lambda: F(cr).fractional_max_pool2d(cr.zeros(1, 1, 4, 4), 3, 3), ValueError, "too large"),
    (lambda: cr.nn.FractionalMaxPool2d(2, output_ratio=1.5), ValueError, "between 0 and 1"),
    (lambda: F(cr).adaptive_max_pool3d(cr.zeros(1, 4, 4), 2), ValueError, "4D or 5D"),
    (lambda: F(cr).fractional_max_pool3d(cr.zeros(1, 5, 5, 5), 2, 4), ValueError, "too large"),
])
def test_bad_arguments_are_refused_in_one_line(call, error, message):
    with pytest.raises(error, match=message):
        call()
