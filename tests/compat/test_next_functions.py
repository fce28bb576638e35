"""`grad_fn.next_functions`: the graph one step back, as PyTorch shows it (pytorch/tutorials'
blitz neural_networks tutorial walks `loss.grad_fn.next_functions[0][0]` and stopped there)."""
import numpy
import torch

import chainrule as cr


def _leaves(node, seen=None) -> list:
    """The tensors of every AccumulateGrad reachable from `node`."""
    seen = set() if seen is None else seen
    if node is None or id(node) in seen:
        return []
    seen.add(id(node))
    if hasattr(node, "variable"):
        return [node.variable]
    return [leaf for child, _ in node.next_functions for leaf in _leaves(child, seen)]


def _net(library, weights):
    """x -> linear -> relu -> linear -> mse, with the given weights, as in the tutorial."""
    w1, b1, w2 = (library.tensor(w, requires_grad=True) for w in weights)
    x, target = library.ones(2, 3), library.zeros(2, 1)
    hidden = library.nn.functional.relu(library.nn.functional.linear(x, w1, b1))
    loss = library.nn.functional.mse_loss(library.nn.functional.linear(hidden, w2), target)
    return loss, (w1, b1, w2)


def test_every_parameter_is_reached_as_in_pytorch():
    rng = numpy.random.default_rng(0)
    weights = [rng.random((4, 3), dtype=numpy.float32), rng.random(4, dtype=numpy.float32),
               rng.random((1, 4), dtype=numpy.float32)]
    for library in (torch, cr):
        loss, params = _net(library, weights)
        reached = _leaves(loss.grad_fn)
        assert sorted(map(id, reached)) == sorted(map(id, params)), library.__name__


def test_one_entry_per_input_none_for_a_constant():
    w = cr.ones(3, requires_grad=True)
    y = w * cr.ones(3)
    (first, slot), (second, _) = y.grad_fn.next_functions
    assert first.variable is w and slot == 0 and first.next_functions == ()
    assert second is None
    (z_first, _), = torch.ones(3, requires_grad=True).exp().grad_fn.next_functions
    assert type(z_first).__name__ == type(first).__name__ == "AccumulateGrad"


def test_walking_back_from_a_loss_follows_the_layers():
    net = cr.nn.Sequential(cr.nn.Linear(3, 4), cr.nn.ReLU(), cr.nn.Linear(4, 1))
    loss = cr.nn.MSELoss()(net(cr.ones(2, 3)), cr.zeros(2, 1))
    step = loss.grad_fn.next_functions[0][0]
    assert step is not None and step.next_functions[0][0] is not None
