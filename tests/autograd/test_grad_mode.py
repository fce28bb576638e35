"""Grad modes (autograd/grad_mode.py): no_grad / enable_grad / set_grad_enabled as context
managers and decorators."""
from __future__ import annotations

import pytest

import chainrule as cr


def make():
    return cr.tensor([1.0, 2.0], requires_grad=True)


def test_no_grad_records_no_graph() -> None:
    x = make()
    with cr.no_grad():
        y = x * 2
        assert not cr.is_grad_enabled()
    assert cr.is_grad_enabled()
    assert not y.requires_grad and y.grad_fn is None
    assert (x * 2).requires_grad


def test_enable_grad_inside_no_grad() -> None:
    x = make()
    with cr.no_grad():
        with cr.enable_grad():
            y = x * 2
        z = x * 2
    assert y.requires_grad and not z.requires_grad
    y.sum().backward()
    assert x.grad.tolist() == [2.0, 2.0]


def test_no_grad_as_decorator() -> None:
    @cr.no_grad()
    def double(t):
        assert not cr.is_grad_enabled()
        return t * 2

    y = double(make())
    assert not y.requires_grad and cr.is_grad_enabled()
    assert double.__name__ == "double"


def test_no_grad_as_bare_decorator_as_torch() -> None:
    @cr.no_grad
    def double(t):
        return t * 2

    assert not double(make()).requires_grad


def test_enable_grad_as_decorator_inside_no_grad() -> None:
    @cr.enable_grad()
    def double(t):
        return t * 2

    with cr.no_grad():
        y = double(make())
    assert y.requires_grad


def test_mode_is_restored_after_an_exception() -> None:
    with pytest.raises(ValueError), cr.no_grad():
        raise ValueError("boom")
    assert cr.is_grad_enabled()

    @cr.no_grad()
    def fail():
        raise ValueError("boom")

    with pytest.raises(ValueError):
        fail()
    assert cr.is_grad_enabled()


def test_nested_no_grad_restores_the_outer_mode() -> None:
    with cr.no_grad():
        with cr.no_grad():
            pass
        assert not cr.is_grad_enabled()
    assert cr.is_grad_enabled()


def test_set_grad_enabled_as_context_and_call() -> None:
    x = make()
    with cr.set_grad_enabled(False):
        assert not (x * 2).requires_grad
    assert cr.is_grad_enabled()
    cr.set_grad_enabled(False)
    try:
        assert not (x * 2).requires_grad
    finally:
        cr.set_grad_enabled(True)
    assert (x * 2).requires_grad


def test_weight_update_under_no_grad_keeps_the_leaf_a_leaf() -> None:
    w = make()
    (w * w).sum().backward()
    with cr.no_grad():
        w -= 0.1 * w.grad  # in place, as PyTorch
    assert w.grad_fn is None and w.requires_grad
    assert w.tolist() == pytest.approx([0.8, 1.6])


def test_backward_inside_no_grad_still_works() -> None:
    x = make()
    y = (x * x).sum()
    with cr.no_grad():
        y.backward()
    assert x.grad.tolist() == [2.0, 4.0]


def test_mode_decorators_with_arguments_as_torch():
    torch = pytest.importorskip("torch")

    def run(lib):
        x = lib.ones(2, requires_grad=True)

        def probe():
            return (x * 2).requires_grad, lib.is_grad_enabled(), lib.is_inference_mode_enabled()
        decorated = [lib.set_grad_enabled(False)(probe), lib.inference_mode(False)(probe),
                     lib.inference_mode()(probe), lib.inference_mode(probe), lib.no_grad()(probe)]
        between = lib.is_grad_enabled()  # set_grad_enabled(False) as a decorator: no change
        return [f() for f in decorated], between, lib.is_grad_enabled()
    ours = run(cr)
    assert ours == run(torch)
    assert ours[0][0] == (False, False, False) and ours[1] is True


def test_tensor_version_counts_in_place_changes():
    x = cr.ones(2, requires_grad=True)
    assert x._version == 0
    with cr.no_grad():
        x.add_(1)
        x.mul_(2)
    assert x._version == 2 and x.detach()._version == 2
