"""nn.Buffer, nn.Container, nn.factory_kwargs and the in-place activations of
torch.nn.functional (F.relu_, ...) against PyTorch."""
from __future__ import annotations

import numpy
import pytest
import torch

import chainrule as cr

X = numpy.array([[-2.0, -0.5, 0.1, 0.3], [0.9, 1.5, -1.2, 2.5]])

IN_PLACE = [
    ("relu_", ()), ("elu_", (0.7,)), ("celu_", (1.3,)), ("selu_", ()),
    ("leaky_relu_", (0.2,)), ("hardtanh_", (-0.4, 1.0)), ("rrelu_", (0.1, 0.3)),
    ("threshold_", (0.2, -7.0)),
]


@pytest.mark.parametrize("name,args", IN_PLACE, ids=[n for n, _ in IN_PLACE])
def test_in_place_activation_changes_its_input_as_torch(name, args):
    ours, theirs = cr.tensor(X), torch.tensor(X)
    result = getattr(cr.nn.functional, name)(ours, *args)
    expected = getattr(torch.nn.functional, name)(theirs, *args)
    assert result is ours
    numpy.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-12)
    numpy.testing.assert_allclose(result.numpy(), expected.numpy(), rtol=1e-12)


@pytest.mark.parametrize("name,args", IN_PLACE, ids=[n for n, _ in IN_PLACE])
def test_in_place_activation_inside_the_graph_and_on_a_leaf(name, args):
    grads = []
    for m in (cr, torch):
        x = m.tensor(X, requires_grad=True)
        h = x * 2
        getattr(m.nn.functional, name)(h, *args)
        (h * m.tensor(X + 3)).sum().backward()
        grads.append(x.grad.numpy())
        with pytest.raises(RuntimeError, match="leaf"):
            getattr(m.nn.functional, name)(x, *args)
    # (torch's in-place celu_ differentiates through its output: equal to ~1e-8)
    numpy.testing.assert_allclose(*grads, rtol=1e-7)


def test_in_place_activation_bumps_the_version_so_a_saved_value_is_refused():
    for m in (cr, torch):
        x = m.tensor(X, requires_grad=True)
        h = x * 1.0
        y = h * h                                  # saves h
        with m.no_grad():
            m.nn.functional.relu_(h)               # changes h under the product's feet
        with pytest.raises(RuntimeError, match="modified|version|changed"):
            y.sum().backward()


class Holder:
    @staticmethod
    def make(m):
        class Net(m.nn.Module):
            def __init__(self):
                super().__init__()
                self.mean = m.nn.Buffer(m.zeros(3))
                self.scratch = m.nn.Buffer(m.ones(2), persistent=False)
                self.plain = m.ones(1)                 # a tensor attribute: not a buffer
        return Net()


def test_buffer_assigned_to_a_module_is_registered_as_torch():
    ours, theirs = Holder.make(cr), Holder.make(torch)
    assert [n for n, _ in ours.named_buffers()] == [n for n, _ in theirs.named_buffers()]
    assert list(ours.state_dict()) == list(theirs.state_dict()) == ["mean"]
    assert not ours.mean.requires_grad and (ours.mean + 1).shape == (3,)
    shared = cr.zeros(2)
    buffer = cr.nn.Buffer(shared)
    shared.add_(5.0)
    assert buffer.tolist() == [5.0, 5.0]            # it shares the array, as torch's
    assert cr.nn.Buffer().shape == tuple(torch.nn.Buffer().shape) == (0,)
    assert cr.nn.Buffer(cr.zeros(2, dtype=cr.float64)).dtype == numpy.float64


@pytest.mark.filterwarnings("ignore:.*Container.*:FutureWarning")
def test_container_adds_its_keyword_modules():
    with pytest.warns(FutureWarning, match="Container is deprecated"):
        cr.nn.Container()
    ours = cr.nn.Container(a=cr.nn.Linear(2, 3), b=cr.nn.ReLU())
    theirs = torch.nn.Container(a=torch.nn.Linear(2, 3), b=torch.nn.ReLU())
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert [n for n, _ in ours.named_children()] == ["a", "b"]


def test_factory_kwargs_as_torch():
    for kwargs in [None, {}, {"dtype": "D", "device": "V"},
                   {"factory_kwargs": {"dtype": "D"}, "device": "V"}]:
        assert cr.nn.factory_kwargs(kwargs) == torch.nn.factory_kwargs(kwargs)
    for bad in [{"colour": 1}, {"dtype": 1, "factory_kwargs": {"dtype": 2}}]:
        with pytest.raises(TypeError):
            torch.nn.factory_kwargs(bad)
        with pytest.raises(TypeError, match="factory_kwargs"):
            cr.nn.factory_kwargs(bad)
