"""torch.autograd.Variable's old API: Variable(t) is t; every tensor is a Variable."""
import pytest
import torch

import chainrule as cr
from chainrule.autograd import Variable


def test_variable_is_the_tensor_as_in_torch():
    t = cr.ones(2)
    assert Variable(t) is t and not t.requires_grad
    v = Variable(cr.ones(2), requires_grad=True)
    assert v.requires_grad and isinstance(v, Variable) and isinstance(cr.ones(1), Variable)
    assert isinstance(torch.autograd.Variable(torch.ones(2), requires_grad=True),
                      torch.autograd.Variable)
    with pytest.raises(TypeError, match="has to be a tensor"):
        Variable([1.0])
