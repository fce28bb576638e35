"""Dropout (nn/functional/dropout.py, nn/layers/dropout.py): the masks are random, so the
comparison with PyTorch is by properties that hold for any seed — the fraction zeroed,
the scale of the survivors, the gradient being the same mask — and eval is the identity."""
from __future__ import annotations

import numpy
import pytest
import torch

import chainrule as cr
import chainrule.nn.functional as F


@pytest.mark.parametrize("p", [0.1, 0.5, 0.8])
@pytest.mark.parametrize("dtype", [cr.float32, cr.float64])
def test_zeros_a_fraction_p_and_scales_survivors(p, dtype) -> None:
    x = cr.rand(200, 500, dtype=dtype) + 0.5  # no zeros of its own
    y = F.dropout(x, p=p, training=True)
    assert y.dtype == dtype and y.shape == x.shape
    zeroed = y.numpy() == 0
    assert abs(zeroed.mean() - p) < 0.01
    kept = ~zeroed
    numpy.testing.assert_allclose(y.numpy()[kept], x.numpy()[kept] / (1 - p), rtol=1e-6)
    # the same statistics as PyTorch's dropout
    t = torch.nn.functional.dropout(torch.tensor(x.numpy()), p=p, training=True)
    assert abs((t.numpy() == 0).mean() - zeroed.mean()) < 0.015
    assert abs(y.numpy().mean() - x.numpy().mean()) < 0.02  # inverted dropout: mean kept


def test_gradient_is_the_same_scaled_mask() -> None:
    x = cr.randn(50, 40, dtype=cr.float64, requires_grad=True)
    y = F.dropout(x, p=0.3)
    upstream = numpy.random.default_rng(0).standard_normal((50, 40))
    y.backward(cr.tensor(upstream))
    mask = (y.numpy() != 0) / 0.7
    numpy.testing.assert_allclose(x.grad.numpy(), upstream * mask, rtol=1e-12)


def test_eval_mode_and_p_zero_are_the_identity() -> None:
    x = cr.randn(4, 5, requires_grad=True)
    assert F.dropout(x, p=0.5, training=False) is x
    assert F.dropout(x, p=0.0, training=True) is x
    layer = cr.nn.Dropout(0.5)
    layer.eval()
    assert layer(x) is x
    layer.train()
    assert (layer(cr.ones(100, 100)).numpy() == 0).any()


def test_p_one_drops_everything_like_torch() -> None:
    x = cr.randn(3, 4, requires_grad=True)
    y = F.dropout(x, p=1.0)
    t = torch.randn(3, 4, requires_grad=True)
    expected = torch.nn.functional.dropout(t, p=1.0)
    assert (y.numpy() == 0).all() and (expected.detach().numpy() == 0).all()
    y.sum().backward()
    expected.sum().backward()
    assert (x.grad.numpy() == 0).all() and (t.grad.numpy() == 0).all()


def test_masks_follow_manual_seed() -> None:
    cr.manual_seed(123)
    a = F.dropout(cr.ones(30, 30), 0.5).numpy()
    cr.manual_seed(123)
    b = F.dropout(cr.ones(30, 30), 0.5).numpy()
    c = F.dropout(cr.ones(30, 30), 0.5).numpy()
    assert (a == b).all() and not (a == c).all()


@pytest.mark.parametrize("p", [-0.1, 1.5])
def test_probability_outside_0_1_is_rejected(p) -> None:
    with pytest.raises(ValueError, match="dropout probability has to be between 0 and 1"):
        F.dropout(cr.ones(3), p=p)
    with pytest.raises(ValueError, match=f"but got {p}"):
        cr.nn.Dropout(p)
    with pytest.raises(ValueError):
        torch.nn.Dropout(p)


def test_module_matches_torch_repr_and_has_no_parameters() -> None:
    assert repr(cr.nn.Dropout(0.25)) == repr(torch.nn.Dropout(0.25))
    assert not list(cr.nn.Dropout().parameters())
    assert cr.nn.Dropout().p == 0.5


def test_dropout_follows_the_parent_modules_mode() -> None:
    model = cr.nn.Sequential(cr.nn.Linear(8, 8), cr.nn.Dropout(0.9))
    x = cr.randn(64, 8)
    model.eval()
    first, second = model(x).numpy(), model(x).numpy()
    assert (first == second).all()
    model.train()
    assert (model(x).numpy() == 0).mean() > 0.5
