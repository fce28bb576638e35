"""Shape ops (ops/shape.py and their functional forms): reshape, view, flatten, transpose,
permute, T, squeeze, unsqueeze, expand, cat, stack."""
from __future__ import annotations

import numpy
import pytest
import torch

import chainrule as cr
from chainrule.autograd import OpError

from .harness import (
    case,
    op_table_tests,
)

CASES = [
    case("reshape-ints", lambda m, x: x.reshape(3, -1) * x.reshape(3, 4), (2, 6)),
    case("reshape-tuple", lambda m, x: m.reshape(x, (2, 2, 3)) ** 2, (4, 3)),
    case("reshape-same-shape", lambda m, x: x.reshape(2, 3) * 2, (2, 3)),
    case("reshape-to-0d", lambda m, x: x.reshape(()) * x, (1,)),
    case("view", lambda m, x: x.view(4, 3).exp(), (2, 6)),
    case("view-fn", lambda m, x: m.view(x, -1) ** 2, (2, 2),
         torch_fn=lambda m, x: x.view(-1) ** 2),  # torch has no torch.view
    case("flatten", lambda m, x: x.flatten() ** 2, (2, 3, 2)),
    case("flatten-start", lambda m, x: m.flatten(x, 1).tanh(), (2, 3, 2)),
    case("flatten-range", lambda m, x: x.flatten(0, 1) * 3, (2, 3, 2)),
    case("transpose", lambda m, x: x.transpose(0, 2) ** 2, (2, 3, 4)),
    case("transpose-neg", lambda m, x: m.transpose(x, -1, -2).exp(), (2, 3, 4)),
    case("permute", lambda m, x: x.permute(2, 0, 1) ** 2, (2, 3, 4)),
    case("permute-tuple", lambda m, x: m.permute(x, (1, 2, 0)).sigmoid(), (2, 3, 4)),
    case("T", lambda m, x: x.T ** 2 + x.T, (2, 3)),
    case("mT", lambda m, x: x.mT ** 2, (2, 3, 4)),
    case("squeeze-all", lambda m, x: x.squeeze() ** 2, (2, 1, 3, 1)),
    case("squeeze-dim", lambda m, x: x.squeeze(1) ** 2, (2, 1, 3, 1)),
    case("squeeze-dim-neg", lambda m, x: m.squeeze(x, -1) ** 2, (2, 1, 3, 1)),
    case("squeeze-dim-tuple", lambda m, x: x.squeeze((1, 3)) ** 2, (2, 1, 3, 1)),
    case("squeeze-not-one", lambda m, x: x.squeeze(0) ** 2, (2, 1, 3)),
    case("unsqueeze-0", lambda m, x: x.unsqueeze(0) ** 2, (2, 3)),
    case("unsqueeze-neg", lambda m, x: m.unsqueeze(x, -1) ** 2, (2, 3)),
    case("unsqueeze-mid", lambda m, x: x.unsqueeze(1) * x.unsqueeze(2), (2, 3)),
    case("expand", lambda m, x: x.expand(2, 3, 4) ** 2, (3, 1)),
    case("expand-minus-one", lambda m, x: m.expand(x, 2, -1, 4).exp(), (3, 1),
         torch_fn=lambda m, x: x.expand(2, -1, 4).exp()),  # torch has no torch.expand
    case("expand-tuple", lambda m, x: x.expand((5, 3)) * x, (3,)),
    case("expand-as", lambda m, a, b: a.expand_as(b) * b, (1, 3), (2, 3)),
    case("cat", lambda m, a, b: m.cat([a, b]) ** 2, (2, 3), (1, 3)),
    case("cat-dim1", lambda m, a, b, c: m.cat([a, b, c], dim=1).exp(), (2, 3), (2, 1),
         (2, 2)),
    case("cat-dim-neg", lambda m, a, b: m.cat((a, b), dim=-1) * m.cat((b, a), dim=-1),
         (2, 2), (2, 2)),
    case("cat-same-tensor", lambda m, x: m.cat([x, x * 2, x]) ** 2, (2, 3)),
    # old code starts a running cat from torch.FloatTensor(): 1-d empty tensors are skipped
    case("cat-empty-start", lambda m, x: m.cat((m.FloatTensor().to(x.dtype), x), 1) ** 2,
         (2, 3)),
    case("cat-int-and-float", lambda m, x: m.cat([m.arange(3).reshape(1, 3), x]) ** 2,
         (2, 3)),
    case("stack-int-and-float", lambda m, x: m.stack([m.ones(3, dtype=m.int64), x]) * x,
         (3,)),
    case("stack", lambda m, a, b: m.stack([a, b]) ** 2, (2, 3), (2, 3)),
    case("stack-dim-neg", lambda m, a, b, c: m.stack([a, b, c], dim=-1).tanh(), (2, 3),
         (2, 3), (2, 3)),
    case("stack-dim1", lambda m, a, b: m.stack((a, b), dim=1) * m.stack((b, a), dim=1),
         (4,), (4,)),
]


(test_forward_matches_torch, test_gradient_matches_torch, test_gradcheck,
 test_second_derivative_matches_torch) = op_table_tests(CASES)


def test_shape_arguments_as_ints_or_tuple_agree() -> None:
    x = cr.arange(24).reshape(2, 3, 4)
    assert x.reshape(6, 4).shape == x.reshape((6, 4)).shape == x.view([6, 4]).shape == (6, 4)
    assert x.permute(2, 0, 1).shape == x.permute((2, 0, 1)).shape == (4, 2, 3)
    assert x.expand(5, 2, 3, 4).shape == x.expand((5, 2, 3, 4)).shape == (5, 2, 3, 4)
    assert cr.zeros(2, 3).shape == cr.zeros((2, 3)).shape == (2, 3)


def test_squeeze_unsqueeze_round_trip_and_t_of_2d() -> None:
    x = cr.randn(3, 4)
    assert x.unsqueeze(1).squeeze(1).shape == (3, 4)
    assert cr.t(x).shape == x.T.shape == (4, 3)
    numpy.testing.assert_array_equal(x.T.numpy(), x.numpy().T)


def test_cat_promotes_and_skips_1_d_empty_tensors_as_torch():
    for m in (cr, torch):
        assert m.cat([m.zeros(0, dtype=m.int64), m.ones(2, 3)]).dtype == m.float32
        assert m.cat([m.ones(2, dtype=m.float64), m.ones(2)]).dtype == m.float64
        assert tuple(m.cat([m.zeros(0), m.zeros(0)]).shape) == (0,)
        assert tuple(m.cat([m.ones(2, 3), m.zeros(0)], 1).shape) == (2, 3)
    with pytest.raises(OpError):
        cr.cat([cr.zeros(0, 4), cr.ones(2, 3)])  # a 2-d empty tensor must fit
