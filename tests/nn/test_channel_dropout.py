"""Channel dropout and alpha dropout: the statistics PyTorch's implementation has (the
masks are random, so the values themselves cannot be compared)."""
from __future__ import annotations

import numpy
import pytest
import torch

import chainrule as cr

F = cr.nn.functional


@pytest.mark.parametrize("name,shape,spatial", [
    ("dropout1d", (40, 30, 7), 1), ("dropout1d", (300, 7), 1), ("dropout2d", (40, 30, 3, 4), 2),
    ("dropout3d", (40, 30, 2, 3, 2), 3), ("dropout3d", (300, 2, 3, 2), 3),
    ("dropout2d", (30, 50, 6), 1)])                # PyTorch: 3-D input is (N, C, L)
def test_channels_drop_together(name, shape, spatial):
    x = cr.ones(*shape)
    y = getattr(F, name)(x, p=0.4).numpy()
    maps = y.reshape(-1, int(numpy.prod(shape[-spatial:])))
    assert set(numpy.unique(maps)) <= {0.0, numpy.float32(1 / 0.6)}
    assert (maps.min(1) == maps.max(1)).all()                   # one draw per channel
    assert 0.3 < (maps[:, 0] == 0).mean() < 0.5


def test_channel_dropout_gradient_is_the_mask():
    x = cr.ones(8, 6, 2, 2, requires_grad=True)
    y = F.dropout2d(x, p=0.5)
    y.sum().backward()
    numpy.testing.assert_array_equal(x.grad.numpy(), y.numpy())


def test_channel_dropout_checks_dimensions_like_torch():
    with pytest.raises(RuntimeError, match="dropout1d: Expected 2D or 3D input"):
        F.dropout1d(cr.ones(2, 3, 4, 5))
    with pytest.warns(UserWarning, match="Received a 2-D input to dropout2d"):
        y = F.dropout2d(cr.ones(200, 300), 0.5).numpy()   # per element, as PyTorch
    assert 0.45 < (y == 0).mean() < 0.55


@pytest.mark.parametrize("layer", ["AlphaDropout", "FeatureAlphaDropout"])
def test_alpha_dropout_keeps_mean_and_variance_like_torch(layer):
    rng = numpy.random.default_rng(0)
    x = rng.standard_normal((400, 50, 4)).astype(numpy.float32)
    ours = getattr(cr.nn, layer)(0.2)(cr.tensor(x)).numpy()
    theirs = getattr(torch.nn, layer)(0.2)(torch.tensor(x)).numpy()
    assert abs(ours.mean() - theirs.mean()) < 0.02
    assert abs(ours.std() - theirs.std()) < 0.02
    assert abs(ours.std() - 1) < 0.03
    values, counts = numpy.unique(ours, return_counts=True)     # the dropped units: one value
    t_values, t_counts = numpy.unique(theirs, return_counts=True)
    numpy.testing.assert_allclose(values[counts.argmax()], t_values[t_counts.argmax()], rtol=1e-6)


def test_eval_mode_is_identity():
    x = cr.randn(4, 3, 5)
    for layer in (cr.nn.Dropout1d(), cr.nn.Dropout2d(), cr.nn.AlphaDropout(0.3)):
        assert layer.eval()(x) is x
    assert repr(cr.nn.Dropout2d(0.3)) == repr(torch.nn.Dropout2d(0.3))
