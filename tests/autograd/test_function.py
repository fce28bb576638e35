"""cr.autograd.Function: user-defined ops with forward/backward on tensors, walked by the
engine like any built-in op; Function.verify checks a backward by finite differences."""
from __future__ import annotations

import gc
import weakref

import numpy
import pytest
import torch

import chainrule as cr
from chainrule import nn
from chainrule.autograd import Function, GradcheckError


def leaf(values, dtype=cr.float64):
    return cr.tensor(values, dtype=dtype, requires_grad=True)


class Cube(Function):
    # y = k·x³;  dy/dx = 3k·x²
    @staticmethod
    def forward(ctx, x, k=1.0):
        ctx.save_for_backward(x)
        ctx.k = k
        return x * x * x * k

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * 3 * ctx.k * x * x, None


class WrongCube(Cube):
    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * 2 * ctx.k * x, None  # 2x instead of 3x²


class MySigmoid(Function):
    # y = σ(x);  dy/dx = y(1 - y)
    @staticmethod
    def forward(ctx, x):
        y = 1 / (1 + (-x).exp())
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad):
        (y,) = ctx.saved_tensors
        return grad * y * (1 - y)


def test_forward_and_backward_match_torch() -> None:
    x = leaf([-1.0, 0.5, 2.0])
    y = Cube.apply(x, 2.0)
    assert y.grad_fn.name == "Cube" and repr(y.grad_fn).startswith("<CubeBackward object")
    assert repr(y).endswith("grad_fn=<CubeBackward>)")
    (y * cr.tensor([1.0, 2.0, 3.0], dtype=cr.float64)).sum().backward()
    t = torch.tensor([-1.0, 0.5, 2.0], dtype=torch.float64, requires_grad=True)
    ((t ** 3 * 2.0) * torch.tensor([1.0, 2.0, 3.0], dtype=torch.float64)).sum().backward()
    numpy.testing.assert_allclose(y.numpy(), [-2.0, 0.25, 16.0])
    numpy.testing.assert_allclose(x.grad.numpy(), t.grad.numpy())


def test_needs_input_grad_and_non_tensor_arguments() -> None:
    seen = []

    class Scale(Function):
        @staticmethod
        def forward(ctx, a, b, factor):
            seen.append(ctx.needs_input_grad)
            ctx.factor = factor
            ctx.save_for_backward(a, b)
            return a * b * factor

        @staticmethod
        def backward(ctx, grad):
            a, b = ctx.saved_tensors
            ga = grad * b * ctx.factor if ctx.needs_input_grad[0] else None
            gb = grad * a * ctx.factor if ctx.needs_input_grad[1] else None
            return ga, gb, None

    a, b = leaf([1.0, 2.0]), cr.tensor([3.0, 4.0], dtype=cr.float64)
    Scale.apply(a, b, 0.5).sum().backward()
    assert seen[-1] == (True, False, False)
    assert a.grad.tolist() == [1.5, 2.0]
    with cr.no_grad():
        out = Scale.apply(a, b, 0.5)
    assert seen[-1] == (False, False, False) and out.grad_fn is None


def test_used_twice_in_a_model_gives_the_builtin_gradients() -> None:
    """A custom activation in two layers of an MLP: same loss and gradients as cr.sigmoid."""
    def run(activation):
        cr.manual_seed(0)
        model = nn.Sequential(nn.Linear(3, 4), nn.Linear(4, 2)).to(cr.float64)
        first, second = model[0], model[1]
        x = cr.randn(5, 3, dtype=cr.float64)
        loss = activation(second(activation(first(x)))).pow(2).mean()
        loss.backward()
        return loss.item(), [p.grad.numpy() for p in model.parameters()]

    loss_custom, grads_custom = run(MySigmoid.apply)
    loss_builtin, grads_builtin = run(cr.sigmoid)
    assert loss_custom == pytest.approx(loss_builtin, rel=1e-12)
    for g, h in zip(grads_custom, grads_builtin):
        numpy.testing.assert_allclose(g, h, rtol=1e-10)


def test_verify_passes_a_right_backward() -> None:
    cr.manual_seed(0)
    assert Cube.verify(cr.randn(4), 2.0) is True
    assert MySigmoid.verify(cr.randn(2, 3)) is True


def test_verify_fails_a_wrong_backward_naming_input_and_element() -> None:
    cr.manual_seed(0)
    with pytest.raises(GradcheckError) as err:
        WrongCube.verify(cr.randn(4), 2.0)
    message = str(err.value)
    assert "WrongCube.backward disagrees with finite differences" in message
    assert "input 0 (x), element (" in message and "backward gave" in message


def test_verify_names_the_second_input() -> None:
    class HalfWrong(Function):
        @staticmethod
        def forward(ctx, a, weight):
            ctx.save_for_backward(a, weight)
            return a * weight

        @staticmethod
        def backward(ctx, grad):
            a, weight = ctx.saved_tensors
            return grad * weight, grad * a * 1.5

    with pytest.raises(GradcheckError, match=r"input 1 \(weight\), element \(\d+,\)"):
        HalfWrong.verify(cr.randn(3), cr.randn(3))


def test_several_outputs() -> None:
    class ExpAndDouble(Function):
        @staticmethod
        def forward(ctx, x):
            e = x.exp()
            ctx.save_for_backward(e)
            return e, x * 2

        @staticmethod
        def backward(ctx, grad_e, grad_double):
            (e,) = ctx.saved_tensors
            return grad_e * e + grad_double * 2

    x = leaf([[0.5, 1.0], [0.0, -1.0]])
    e, d = ExpAndDouble.apply(x)
    assert e.shape == (2, 2) and d.shape == (2, 2)
    numpy.testing.assert_allclose(e.numpy(), numpy.exp(x.numpy()))
    (e.sum() * 3 + d.sum()).backward()
    numpy.testing.assert_allclose(x.grad.numpy(), 3 * numpy.exp(x.numpy()) + 2)
    x.grad = None
    e, d = ExpAndDouble.apply(x)
    d.sum().backward()  # the unused output's gradient arrives as zeros
    numpy.testing.assert_allclose(x.grad.numpy(), numpy.full((2, 2), 2.0))
    assert ExpAndDouble.verify(cr.randn(3))


def test_second_derivative_through_a_backward_written_with_tensor_ops() -> None:
    x = leaf([1.0, 2.0])
    (g,) = cr.autograd.grad(Cube.apply(x).sum(), x, create_graph=True)
    assert g.tolist() == [3.0, 12.0]  # 3x²
    g.sum().backward()
    assert x.grad.tolist() == [6.0, 12.0]  # 6x


def test_saved_tensors_released_after_backward_and_second_backward_refused() -> None:
    x = leaf([1.0, 2.0])
    y = Cube.apply(x)
    node = y.grad_fn
    y.sum().backward()
    assert node.saved is None and node.inputs is None
    with pytest.raises(RuntimeError, match="retain_graph"):
        y.sum().backward()
    with pytest.raises(RuntimeError, match="only inside backward"):
        node.ctx.saved_tensors  # noqa: B018


def test_retain_graph_allows_a_second_backward() -> None:
    x = leaf([1.0, 2.0])
    loss = Cube.apply(x).sum()
    loss.backward(retain_graph=True)
    loss.backward()
    assert x.grad.tolist() == [6.0, 24.0]


def test_no_reference_cycle_between_node_and_ctx() -> None:
    gc.disable()
    try:
        x = leaf([1.0, 2.0])
        y = Cube.apply(x)
        probe = weakref.ref(y.grad_fn.ctx)
        del y
        assert probe() is None  # freed by reference counting alone
    finally:
        gc.enable()


def test_errors_from_user_code_are_readable() -> None:
    class Raises(Function):
        @staticmethod
        def forward(ctx, x):
            raise ValueError("my own message")

    with pytest.raises(ValueError, match="^my own message$"):
        Raises.apply(leaf([1.0]))

    class TooFew(Function):
        @staticmethod
        def forward(ctx, a, b):
            return a * b

        @staticmethod
        def backward(ctx, grad):
            return grad

    with pytest.raises(RuntimeError, match="TooFew.backward returned 1 gradients but forward "
                                           "took 2 arguments"):
        TooFew.apply(leaf([1.0]), leaf([2.0])).sum().backward()

    class WrongShape(Function):
        @staticmethod
        def forward(ctx, a):
            return a.sum()

        @staticmethod
        def backward(ctx, grad):
            return grad.reshape(1) * cr.ones(3, dtype=cr.float64)

    with pytest.raises(RuntimeError, match=r"shape \(3,\) but that input has shape \(2,\)"):
        WrongShape.apply(leaf([1.0, 2.0])).backward()

    class NotATensor(Function):
        @staticmethod
        def forward(ctx, a):
            return 3.0

    with pytest.raises(TypeError, match="must return a tensor"):
        NotATensor.apply(leaf([1.0]))
    with pytest.raises(TypeError, match="no tensor"):
        Cube.apply(2.0)


def _sorted_function(lib):
    class Sorted(lib.autograd.Function):
        # values, indices = sort(x): d values / dx routes each gradient back to its place
        @staticmethod
        def forward(ctx, x):
            values, indices = x.sort()
            ctx.mark_non_differentiable(indices)
            ctx.save_for_backward(indices)
            return values, indices

        @staticmethod
        @lib.autograd.function.once_differentiable
        def backward(ctx, grad_values, grad_indices):
            (indices,) = ctx.saved_tensors
            grad = lib.zeros_like(grad_values)
            grad[indices] = grad_values
            return grad
    return Sorted


def test_outputs_marked_non_differentiable_and_integer_outputs_as_torch():
    def run(lib):
        x = lib.tensor([3.0, 1.0, 2.0], dtype=lib.float64, requires_grad=True)
        values, indices = _sorted_function(lib).apply(x)
        (values * lib.tensor([1.0, 2.0, 3.0], dtype=lib.float64)).sum().backward()
        return values.requires_grad, indices.requires_grad, indices.tolist(), x.grad.tolist()
    assert run(cr) == run(torch) == (True, False, [1, 2, 0], [3.0, 1.0, 2.0])


def test_setup_context_form_and_unmaterialized_grads_as_torch():
    def run(lib):
        class Split(lib.autograd.Function):
            # (x + k, x - k): both outputs' gradients flow back to x
            @staticmethod
            def forward(x, k):
                return x + k, x - k

            @staticmethod
            def setup_context(ctx, inputs, output):
                ctx.k = inputs[1]
                ctx.set_materialize_grads(False)

            @staticmethod
            def backward(ctx, grad_sum, grad_difference):
                seen.append((grad_sum is None, grad_difference is None, ctx.k))
                return grad_sum if grad_difference is None else grad_sum + grad_difference, None
        seen = []
        x = lib.tensor([1.0, 2.0], dtype=lib.float64, requires_grad=True)
        total, _ = Split.apply(x, 0.5)
        total.sum().backward()
        return seen, x.grad.tolist(), total.tolist()
    assert run(cr) == run(torch) == ([(False, True, 0.5)], [1.0, 1.0], [1.5, 2.5])


def test_mark_dirty_returns_the_input_itself_made_by_the_function():
    def run(lib):
        class Double(lib.autograd.Function):
            # x ← 2x in place; dx_new/dx = 2
            @staticmethod
            def forward(ctx, x):
                x.mul_(2)
                ctx.mark_dirty(x)
                return x

            @staticmethod
            def backward(ctx, grad):
                return grad * 2
        a = lib.tensor([1.0, 2.0], dtype=lib.float64, requires_grad=True)
        b = a * 1
        c = Double.apply(b)
        (c * c).sum().backward()
        with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
            Double.apply(a)
        return c is b, c.tolist(), a.grad.tolist()
    assert run(cr) == run(torch) == (True, [2.0, 4.0], [8.0, 16.0])
