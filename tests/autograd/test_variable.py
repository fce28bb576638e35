"""torch.autograd.Variable's old API: Variable(t) is a new leaf sharing t's numbers, cut
from t's graph, requiring grad only when asked; every tensor is a Variable."""
import pytest
import torch

import chainrule as cr
from chainrule.autograd import Variable


@pytest.mark.parametrize("m", [cr, torch], ids=["chainrule", "torch"])
def test_variable_is_a_new_leaf_sharing_the_numbers(m):
    t = m.ones(2)
    v = m.autograd.Variable(t, requires_grad=True)
    assert v is not t and v.requires_grad and v.is_leaf and not t.requires_grad
    assert m.mean(t * t).grad_fn is None          # t itself still records nothing
    v.data[0] = 5.0
    assert t[0].item() == 5.0                     # the same numbers
    assert not m.autograd.Variable(t).requires_grad


@pytest.mark.parametrize("m", [cr, torch], ids=["chainrule", "torch"])
def test_variable_cuts_the_graph(m):
    a = m.ones(2, requires_grad=True)
    w = m.autograd.Variable(a * 2)
    assert w.grad_fn is None and not w.requires_grad and w.is_leaf
    p = m.autograd.Variable(m.nn.Parameter(m.ones(2)))
    assert not p.requires_grad and not isinstance(p, m.nn.Parameter)


def test_every_tensor_is_a_variable():
    assert isinstance(cr.ones(1), Variable)
    assert isinstance(torch.autograd.Variable(torch.ones(2)), torch.autograd.Variable)
    with pytest.raises(TypeError, match="has to be a tensor"):
        Variable([1.0])
    with pytest.raises(TypeError, match="floating point"):  # RuntimeError in PyTorch
        Variable(cr.ones(2, dtype=cr.int64), requires_grad=True)
