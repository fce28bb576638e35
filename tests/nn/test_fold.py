"""unfold, fold, channel_shuffle and gumbel_softmax against PyTorch."""
from __future__ import annotations

import numpy
import pytest
import torch
from ops.harness import case, op_table_tests  # tests/ops

import chainrule as cr


def F(m):
    return m.nn.functional


CASES = [
    case("unfold", lambda m, x: F(m).unfold(x, 2), (2, 3, 4, 5)),
    case("unfold-stride-pad-dilation", lambda m, x: F(m).unfold(
        x, (2, 3), dilation=(2, 1), padding=1, stride=2), (1, 2, 5, 6)),
    case("fold", lambda m, x: F(m).fold(x, (4, 5), 2), (2, 12, 12)),
    case("fold-stride-pad", lambda m, x: F(m).fold(x, (5, 6), (2, 3), padding=1, stride=2),
         (1, 12, 9)),
    case("channel-shuffle", lambda m, x: F(m).channel_shuffle(x, 3), (2, 6, 2, 2)),
]
MODULES = [
    case("Unfold", lambda m, x: m.nn.Unfold(3, padding=1)(x), (1, 2, 3, 3)),
    case("Fold", lambda m, x: m.nn.Fold((3, 3), 2)(x), (1, 4, 4)),
    case("ChannelShuffle", lambda m, x: m.nn.ChannelShuffle(2)(x), (1, 4, 3)),
]

(test_forward_matches_torch, test_gradient_matches_torch, test_gradcheck,
 test_second_derivative_matches_torch) = op_table_tests(CASES, compared=MODULES)


@pytest.mark.parametrize("hard", [False, True])
def test_gumbel_softmax_samples(hard):
    logits = cr.tensor(numpy.log([[0.7, 0.2, 0.1]] * 4000), requires_grad=True)
    y = cr.nn.functional.gumbel_softmax(logits, tau=0.5, hard=hard)
    numpy.testing.assert_allclose(y.numpy().sum(1), 1.0, rtol=1e-6)
    picks = y.numpy().argmax(1)
    numpy.testing.assert_allclose(numpy.bincount(picks, minlength=3) / 4000, [0.7, 0.2, 0.1],
                                  atol=0.03)
    if hard:
        assert set(numpy.unique(y.numpy())) == {0.0, 1.0}
    (y[:, 0]).sum().backward()
    assert numpy.abs(logits.grad.numpy()).sum() > 0
    assert torch.nn.functional.gumbel_softmax(torch.zeros(2, 3), hard=hard).shape == (2, 3)
