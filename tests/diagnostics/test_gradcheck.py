"""gradcheck itself (diagnostics/gradcheck.py, at PyTorch's path cr.autograd.gradcheck): it
must pass a right backward and catch a wrong one, with a report that names the input and
the element."""
from __future__ import annotations

import pytest

import chainrule as cr
from chainrule.autograd import GradcheckError, Op, gradcheck


class Cube(Op):
    # y = x³;  dy/dx = 3x²
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * x * x

    def backward(ctx, grad):
        (x,) = ctx.saved
        return (grad * 3 * x * x,)


class WrongCube(Cube):
    # a typical slip: dy/dx written as 3x
    def backward(ctx, grad):
        (x,) = ctx.saved
        return (grad * 3 * x,)


class ScaledProduct(Op):
    # z = a·b·2;  dz/da = 2b,  dz/db = 2a, but the second is deliberately wrong in one element
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return a * b * 2

    def backward(ctx, grad):
        a, b = ctx.saved
        wrong = a * 2
        wrong = wrong.copy()
        wrong[1, 2] += 1.0
        return grad * b * 2, grad * wrong


def x64(shape=(2, 3), seed=0):
    cr.manual_seed(seed)
    return cr.randn(*shape, dtype=cr.float64, requires_grad=True)


def test_gradcheck_passes_a_right_backward() -> None:
    assert gradcheck(Cube.apply, [x64()]) is True
    assert gradcheck(Cube.apply, [x64()], atol=1e-8, rtol=1e-7) is True


def test_gradcheck_fails_a_wrong_backward_and_names_the_element() -> None:
    with pytest.raises(GradcheckError) as info:
        gradcheck(WrongCube.apply, [x64()])
    message = str(info.value)
    assert "input 0" in message and "element (" in message
    assert "backward gave" in message and "finite differences" in message
    assert isinstance(info.value, AssertionError)  # pytest shows it as a failed assertion


def test_gradcheck_points_at_the_wrong_input_and_element() -> None:
    a, b = x64(seed=1), x64(seed=2)
    with pytest.raises(GradcheckError, match=r"input 1, element \(1, 2\).*1 of 6 elements"):
        gradcheck(lambda a, b: ScaledProduct.apply(a, b), [a, b])


def test_gradcheck_with_several_outputs_and_constant_inputs() -> None:
    x, c = x64(), cr.tensor([1.0, 2.0, 3.0], dtype=cr.float64)
    assert gradcheck(lambda x, c: (x * c, (x.exp() * c).sum(0)), [x, c])


def test_gradcheck_refuses_float32() -> None:
    with pytest.raises(TypeError, match="float64"):
        gradcheck(Cube.apply, [cr.randn(3, requires_grad=True)])


def test_gradcheck_needs_an_input_that_requires_grad() -> None:
    with pytest.raises(ValueError, match="requires grad"):
        gradcheck(Cube.apply, [cr.randn(3, dtype=cr.float64)])


def test_gradcheck_leaves_the_inputs_unchanged() -> None:
    x = x64()
    before = x.numpy().copy()
    gradcheck(Cube.apply, [x])
    assert (x.numpy() == before).all()
    assert x.grad is None
