"""torch.autograd.graph (chainrule/diagnostics/graph.py): saved-tensors hooks, the Node
type, increment_version — against torch where the two can be compared."""
from __future__ import annotations

import numpy
import pytest
import torch

import chainrule as cr

# the module at PyTorch's path, torch.autograd.graph (chainrule/diagnostics/graph.py)
Node, disable_saved_tensors_hooks, increment_version, save_on_cpu, saved_tensors_hooks = (
    getattr(cr.autograd.graph, name) for name in
    ("Node", "disable_saved_tensors_hooks", "increment_version", "save_on_cpu",
     "saved_tensors_hooks"))


def _log_run(lib):
    """a * b under hooks that log; then a backward: (log, a.grad, b.grad)."""
    a = lib.tensor([1.0, 2.0, 3.0], dtype=lib.float64, requires_grad=True)
    b = lib.tensor([4.0, 5.0, 6.0], dtype=lib.float64, requires_grad=True)
    log = []

    def pack(t):
        log.append(("pack", "a" if t is a else "b" if t is b else "other"))
        return t.tolist()  # anything may stand for the tensor

    def unpack(values):
        log.append(("unpack", len(values)))
        return lib.tensor(values, dtype=lib.float64)
    with lib.autograd.graph.saved_tensors_hooks(pack, unpack):
        y = a * b
    assert sorted(log) == [("pack", "a"), ("pack", "b")]  # (the order is the op's own)
    y.sum().backward()
    return sorted(log), a.grad.tolist(), b.grad.tolist()


def test_pack_sees_the_saved_inputs_and_unpack_gives_them_back():
    ours, theirs = _log_run(cr), _log_run(torch)
    assert ours == theirs
    assert ours[1:] == ([4.0, 5.0, 6.0], [1.0, 2.0, 3.0])


def test_unpack_runs_at_each_backward_and_the_hooks_end_with_the_block():
    calls = []
    x = cr.tensor([0.5, 1.5], requires_grad=True)
    with saved_tensors_hooks(lambda t: (calls.append("pack"), t)[1],
                             lambda t: (calls.append("unpack"), t)[1]):
        y = x.exp()
    z = x.exp()  # outside the block: not packed
    y.sum().backward(retain_graph=True)
    y.sum().backward()
    z.sum().backward()
    assert calls == ["pack", "unpack", "unpack"]
    numpy.testing.assert_allclose(x.grad.numpy(), 3 * numpy.exp([0.5, 1.5]), rtol=1e-6)


def test_only_the_innermost_hooks_apply():
    seen = []
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    with saved_tensors_hooks(lambda t: (seen.append("outer"), t)[1], lambda t: t):
        with saved_tensors_hooks(lambda t: (seen.append("inner"), t)[1], lambda t: t):
            x.sin().sum().backward()
        inner = len(seen)
        x.cos().sum().backward()
    assert inner >= 1 and len(seen) > inner
    assert set(seen[:inner]) == {"inner"} and set(seen[inner:]) == {"outer"}
    numpy.testing.assert_allclose(x.grad.numpy(), numpy.cos([1, 2]) - numpy.sin([1, 2]), rtol=1e-6)


def test_unpack_must_return_a_tensor_and_disable_refuses_new_hooks():
    x = cr.tensor([1.0], requires_grad=True)
    with saved_tensors_hooks(lambda t: t, lambda t: 5):
        y = x.exp()
    with pytest.raises(TypeError, match="unpack hook must return a tensor"):
        y.backward()
    with disable_saved_tensors_hooks("no hooks here, please"):
        with pytest.raises(RuntimeError, match="no hooks here, please"):
            with saved_tensors_hooks(lambda t: t, lambda t: t):
                pass
    with saved_tensors_hooks(lambda t: t, lambda t: t):  # allowed again after the block
        pass


def test_save_on_cpu_gives_the_same_gradients():
    x = cr.tensor([0.1, 0.7], dtype=cr.float64, requires_grad=True)
    with save_on_cpu(pin_memory=True):
        (x.tanh() * x).sum().backward()
    t = torch.tensor([0.1, 0.7], dtype=torch.float64, requires_grad=True)
    (t.tanh() * t).sum().backward()
    numpy.testing.assert_allclose(x.grad.numpy(), t.grad.numpy(), rtol=1e-12)


def test_grad_fn_and_next_functions_are_nodes():
    w = cr.tensor([1.0], requires_grad=True)
    y = (w * 2).exp()
    assert isinstance(y.grad_fn, Node) and isinstance(cr.autograd.graph.Node, type)
    assert all(isinstance(f, Node) for f, _ in y.grad_fn.next_functions[0][0].next_functions
               if f is not None)
    assert not isinstance(w, Node)


def test_increment_version_makes_a_saved_value_refused():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    y = x.exp()
    increment_version(y)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.sum().backward()


def test_gradient_edge_names_the_node_that_receives_the_gradient():
    get_gradient_edge = cr.autograd.graph.get_gradient_edge
    w = cr.tensor([1.0], requires_grad=True)
    y = w.exp()
    assert get_gradient_edge(y) == (y.grad_fn, 0)
    leaf_edge = get_gradient_edge(w)
    assert type(leaf_edge.node).__name__ == "AccumulateGrad" and leaf_edge.node.variable is w
    with pytest.raises(RuntimeError, match="does not require grad"):
        get_gradient_edge(cr.ones(1))
