"""torch.autograd's names beyond the engine: inference_mode, grad_mode, gradgradcheck."""
import pytest

import chainrule as cr


def test_inference_mode_is_no_grad_under_its_own_name():
    x = cr.ones(2, requires_grad=True)
    with cr.inference_mode():
        assert (x * 2).grad_fn is None and cr.is_inference_mode_enabled()
    with cr.inference_mode(False):
        assert (x * 2).grad_fn is not None and not cr.is_inference_mode_enabled()

    @cr.inference_mode()
    def called():
        return (x * 2).requires_grad

    @cr.inference_mode
    def bare():
        return (x * 2).requires_grad

    assert called() is False and bare() is False and (x * 2).requires_grad
    assert cr.autograd.grad_mode.no_grad is cr.no_grad


def test_gradgradcheck_checks_second_derivatives():
    x = cr.tensor([0.3, -1.2, 2.0], dtype=cr.float64, requires_grad=True)
    w = cr.tensor([1.5, 0.5, -0.25], dtype=cr.float64, requires_grad=True)
    assert cr.autograd.gradgradcheck(lambda a, b: cr.sin(a) * b * a, [x, w])
    assert cr.autograd.gradgradcheck(cr.atan, [x], grad_outputs=[cr.ones(3, dtype=cr.float64)])
    with pytest.raises(RuntimeError, match="create_graph"):
        cr.autograd.gradgradcheck(lambda a: cr.cumprod(a, 0), [x])
