"""A graph node's own hooks, PyTorch's `grad_fn.register_prehook(fn)` and
`grad_fn.register_hook(fn)`: what they see and what they replace, against torch."""
from __future__ import annotations

import numpy
import pytest
import torch

import chainrule as cr


def _both(fn):
    """fn(library) for chainrule and torch: their results as nested lists."""
    return fn(cr), fn(torch)


def test_prehook_sees_and_replaces_the_output_gradient():
    def run(lib):
        a = lib.tensor([2.0, -1.0], dtype=lib.float64, requires_grad=True)
        b = a.exp()
        seen = []
        b.grad_fn.register_prehook(lambda gouts: (seen.append(gouts[0].tolist()), (gouts[0] * 3,))[1])
        (b * lib.tensor([1.0, 2.0], dtype=lib.float64)).sum().backward()
        return seen, a.grad.tolist()
    ours, theirs = _both(run)
    assert ours[0] == theirs[0] == [[1.0, 2.0]]
    numpy.testing.assert_allclose(ours[1], theirs[1], rtol=1e-12)
    numpy.testing.assert_allclose(ours[1], [3 * numpy.exp(2.0), 6 * numpy.exp(-1.0)])


def test_hook_sees_input_gradients_shaped_like_the_inputs_and_replaces_them():
    def run(lib):
        x = lib.ones(2, 3, dtype=lib.float64, requires_grad=True)
        bias = lib.tensor([1.0, 2.0, 3.0], dtype=lib.float64, requires_grad=True)
        constant = lib.ones(3, dtype=lib.float64)
        y = x + bias
        seen = []

        def hook(grad_inputs, grad_outputs):
            seen.append(([None if g is None else tuple(g.shape) for g in grad_inputs],
                         [tuple(g.shape) for g in grad_outputs]))
            return (grad_inputs[0] * 2, grad_inputs[1] * 10)
        y.grad_fn.register_hook(hook)
        z = y * constant  # the constant gets no gradient: None in its node's hook
        z.grad_fn.register_hook(lambda gi, go: seen.append([g is None for g in gi]))
        z.sum().backward()
        return seen, x.grad.tolist(), bias.grad.tolist()
    ours, theirs = _both(run)
    assert ours == theirs
    assert ours[0][1] == ([(2, 3), (3,)], [(2, 3)]) and ours[0][0] == [False, True]
    assert ours[2] == [20.0, 20.0, 20.0]


def test_removed_hooks_no_longer_run_and_a_wrong_count_is_refused():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    y = x.sin()
    calls = []
    handle = y.grad_fn.register_hook(lambda gi, go: calls.append(1))
    handle.remove()
    y.sum().backward(retain_graph=True)
    assert calls == []
    y.grad_fn.register_prehook(lambda gouts: (gouts[0], gouts[0]))
    with pytest.raises(RuntimeError, match="returned 2 gradients where 1 were given"):
        y.sum().backward()
    with pytest.raises(TypeError, match="must be callable"):
        y.grad_fn.register_hook(3)


def test_a_node_is_named_as_an_attribute_and_by_pytorchs_method():
    y = cr.tensor([1.0], requires_grad=True) * 2
    assert y.grad_fn.name == "Mul" and y.grad_fn.name() == "MulBackward0"
    assert f"{y.grad_fn.name}" == "Mul"
