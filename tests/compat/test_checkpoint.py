"""torch.utils.checkpoint as a program uses it: the same values and gradients as without."""
import numpy
import pytest
import torch

import chainrule as cr


def test_checkpoint_gives_the_values_and_gradients_of_the_plain_call():
    results = []
    for m in (cr, torch):
        m.manual_seed(0)
        layer = m.nn.Sequential(m.nn.Linear(3, 4), m.nn.Tanh(), m.nn.Linear(4, 2))
        with m.no_grad():
            for p in layer.parameters():
                p.copy_(m.tensor(numpy.linspace(-1, 1, p.numel()).reshape(tuple(p.shape)),
                                 dtype=p.dtype))
        x = m.tensor(numpy.arange(6.0).reshape(2, 3) / 6, dtype=m.float32,
                     requires_grad=True)
        y = m.utils.checkpoint.checkpoint(layer, x, use_reentrant=False)
        z = m.utils.checkpoint.checkpoint_sequential(layer, 2, x, use_reentrant=False)
        (y.sum() + z.sum()).backward()
        results.append([y.detach().numpy(), z.detach().numpy(), x.grad.numpy(),
                        next(iter(layer.parameters())).grad.numpy()])
    for ours, theirs in zip(*results, strict=True):
        numpy.testing.assert_allclose(ours, theirs, rtol=1e-5, atol=1e-6)


def test_checkpoint_asks_for_use_reentrant_as_torch():
    with pytest.warns(UserWarning, match="use_reentrant"):
        cr.utils.checkpoint.checkpoint(lambda a, b=1: a * b, cr.ones(2), b=3)
