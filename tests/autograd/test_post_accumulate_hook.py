"""`leaf.register_post_accumulate_grad_hook(fn)`: fn(leaf) once per backward, when
`leaf.grad` holds the pass's whole gradient (DistributedDataParallel's trigger)."""
from __future__ import annotations

import pytest

import chainrule as cr


def test_called_once_with_the_whole_gradient_of_a_leaf_used_twice():
    w = cr.tensor([1.0, 2.0], requires_grad=True)
    x = cr.tensor([3.0, 4.0])
    seen = []
    w.register_post_accumulate_grad_hook(lambda leaf: seen.append(leaf.grad.tolist()))
    ((w * x).sum() + (w * w).sum()).backward()
    assert seen == [[5.0, 8.0]]  # x + 2w, in one call
    ((w * x).sum()).backward()
    assert seen == [[5.0, 8.0], [8.0, 12.0]]  # accumulated, as .grad is


def test_fires_as_soon_as_final_during_backward():
    """The last layer's weight is final before the first layer's backward runs."""
    first = cr.tensor([[0.5]], requires_grad=True)
    last = cr.tensor([[2.0]], requires_grad=True)
    order = []
    first.register_post_accumulate_grad_hook(lambda leaf: order.append("first"))
    last.register_post_accumulate_grad_hook(lambda leaf: order.append("last"))
    ((cr.ones(1, 1) @ first).tanh() @ last).sum().backward()
    assert order == ["last", "first"]


def test_removed_handle_and_autograd_grad_do_not_call_it():
    w = cr.tensor(1.0, requires_grad=True)
    calls = []
    handle = w.register_post_accumulate_grad_hook(lambda leaf: calls.append(1))
    cr.autograd.grad(w * 3.0, w)  # nothing accumulates: no call
    assert calls == []
    handle.remove()
    (w * 3.0).backward()
    assert calls == []


def test_non_leaf_is_refused():
    w = cr.tensor(1.0, requires_grad=True)
    with pytest.raises(RuntimeError, match="non-leaf"):
        (w * 2.0).register_post_accumulate_grad_hook(lambda leaf: None)
