"""Hooks: tensor.register_hook (against PyTorch) and op hooks around forward and backward."""
import numpy
import pytest
import torch

import chainrule as cr
from chainrule.autograd import OpHook, backward_node, register_op_hook


def both(values):
    return (cr.tensor(values, dtype=cr.float64, requires_grad=True),
            torch.tensor(values, dtype=torch.float64, requires_grad=True))


def test_leaf_hook_sees_the_summed_gradient_once_and_may_replace_it():
    (x, tx), seen, tseen = both([1.0, -2.0, 3.0]), [], []
    x.register_hook(lambda g: seen.append(g.numpy().copy()) or g * 3)
    tx.register_hook(lambda g: tseen.append(g.numpy().copy()) or g * 3)
    (x * x + x.exp()).sum().backward()
    (tx * tx + tx.exp()).sum().backward()
    assert len(seen) == len(tseen) == 1
    numpy.testing.assert_allclose(seen[0], tseen[0])
    numpy.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy())


def test_non_leaf_hook_changes_what_flows_upstream():
    (x, tx), seen = both([0.5, 1.5]), []
    y, ty = x.tanh(), tx.tanh()
    y.register_hook(lambda g: seen.append(g.numpy().copy()) or g * 0 + 1)
    ty.register_hook(lambda g: g * 0 + 1)
    (y * y).sum().backward()
    (ty * ty).sum().backward()
    numpy.testing.assert_allclose(seen[0], 2 * numpy.tanh([0.5, 1.5]))
    numpy.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy())


def test_a_hook_returning_none_leaves_the_gradient_and_remove_stops_it():
    x = cr.tensor([2.0], requires_grad=True)
    calls = []
    handle = x.register_hook(lambda g: calls.append(1))
    (x * 5).sum().backward()
    assert x.grad.tolist() == [5.0] and len(calls) == 1
    handle.remove()
    handle.remove()  # twice is harmless
    (x * 5).sum().backward()
    assert x.grad.tolist() == [10.0] and len(calls) == 1


def test_hooks_on_the_root_and_in_autograd_grad_and_create_graph():
    x = cr.tensor(3.0, requires_grad=True)
    x.register_hook(lambda g: g * 10)
    x.backward()
    assert x.item() == 3.0 and x.grad.item() == 10.0
    w = cr.tensor(2.0, requires_grad=True)
    y = w * w
    y.register_hook(lambda g: g * 2)
    (g,) = cr.autograd.grad(y * 1.0, w, create_graph=True)
    assert g.item() == 8.0  # 2 · 2w
    (gg,) = cr.autograd.grad(g, w)
    assert gg.item() == 4.0


def test_register_hook_needs_a_tensor_that_requires_grad():
    with pytest.raises(RuntimeError, match="register_hook"):
        cr.tensor([1.0]).register_hook(lambda g: g)


class Recorder(OpHook):
    def __init__(self):
        self.events = []

    def before_forward(self, node, inputs, params):
        self.events.append(("before_forward", node.name, len(inputs)))

    def after_forward(self, node, inputs, output):
        self.events.append(("after_forward", node.name, tuple(output.shape)))

    def before_backward(self, node, grad):
        self.events.append(("before_backward", node.name, backward_node() is node))

    def after_backward(self, node, grad, input_grads):
        self.events.append(("after_backward", node.name, backward_node() is node))


def test_op_hook_sees_every_forward_and_backward_in_order():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    with Recorder() as recorder:
        loss = (x * 3.0).sum()
        loss.backward()
    assert recorder.events == [
        ("before_forward", "Mul", 2), ("after_forward", "Mul", (2,)),
        ("before_forward", "Sum", 1), ("after_forward", "Sum", ()),
        ("before_backward", "Sum", True), ("after_backward", "Sum", True),
        ("before_backward", "Mul", True), ("after_backward", "Mul", True)]
    (x * 3.0).sum()  # removed after the block
    assert len(recorder.events) == 8 and cr.autograd.hooks.active == ()
    assert backward_node() is None


def test_after_backward_may_replace_the_input_gradients():
    class Halve(OpHook):
        def after_backward(self, node, grad, input_grads):
            return [None if g is None else g / 2 for g in input_grads]

    x = cr.tensor([4.0], requires_grad=True)
    handle = register_op_hook(Halve())
    try:
        (x * x).sum().backward()  # Sum halves, then Mul halves: 2x / 4
    finally:
        handle.remove()
    assert x.grad.tolist() == [2.0]
