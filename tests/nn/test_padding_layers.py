"""The padding layers against PyTorch's: values, gradients and repr."""
from __future__ import annotations

import numpy
import pytest
import torch

import chainrule as cr

LAYERS = [("ZeroPad1d", (2,)), ("ZeroPad2d", ((1, 2, 0, 3),)), ("ZeroPad3d", (1,)),
          ("ConstantPad1d", ((2, 1), 3.5)), ("ConstantPad2d", (1, -1.0)),
          ("ConstantPad3d", ((1, 0, 0, 1, 2, 0), 2.0)),
          ("ReflectionPad1d", (2,)), ("ReflectionPad2d", ((1, 2, 2, 0),)),
          ("ReflectionPad3d", (1,)), ("ReplicationPad1d", ((0, 3),)),
          ("ReplicationPad2d", (2,)), ("ReplicationPad3d", ((1, 1, 0, 2, 1, 0),)),
          ("CircularPad1d", (2,)), ("CircularPad2d", ((1, 0, 2, 1),)), ("CircularPad3d", (1,))]


@pytest.mark.parametrize("name,args", LAYERS, ids=[n + str(i) for i, (n, _) in enumerate(LAYERS)])
def test_padding_layers_match_torch(name, args):
    nd = int(name[-2])
    x = numpy.random.default_rng(0).standard_normal((2, 3) + (4,) * nd)
    t_x, c_x = torch.tensor(x, requires_grad=True), cr.tensor(x, requires_grad=True)
    t_y, c_y = getattr(torch.nn, name)(*args)(t_x), getattr(cr.nn, name)(*args)(c_x)
    numpy.testing.assert_allclose(c_y.numpy(), t_y.detach().numpy())
    w = numpy.random.default_rng(1).standard_normal(tuple(t_y.shape))
    (t_y * torch.tensor(w)).sum().backward()
    (c_y * cr.tensor(w)).sum().backward()
    numpy.testing.assert_allclose(c_x.grad.numpy(), t_x.grad.numpy())
    assert repr(getattr(cr.nn, name)(*args)) == repr(getattr(torch.nn, name)(*args))
