"""Tensor operators and methods (composites/operators.py) beyond those in the op tables: in-place
operators, dtype promotion with integers, and the method aliases."""
from __future__ import annotations

import numpy
import pytest
import torch

import chainrule as cr
from chainrule.autograd import OpError


def test_inplace_update_of_a_weight_under_no_grad_keeps_it_a_leaf_as_torch() -> None:
    w = cr.tensor([1.0, 2.0], requires_grad=True)
    array = w.array
    (w * w).sum().backward()
    with cr.no_grad():
        w -= 0.25 * w.grad
        w *= 2
        w += 1
        w /= 2
    assert w.array is array  # the same array, changed in place
    assert w.requires_grad and w.is_leaf and w.grad_fn is None
    t = torch.tensor([1.0, 2.0], requires_grad=True)
    (t * t).sum().backward()
    with torch.no_grad():
        t -= 0.25 * t.grad
        t *= 2
        t += 1
        t /= 2
    assert w.tolist() == t.tolist() == [1.0, 1.5]


def test_inplace_on_a_leaf_that_requires_grad_outside_no_grad_raises_as_torch() -> None:
    w = cr.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf.*requires grad.*no_grad"):
        w += 1


def test_inplace_on_a_tensor_inside_the_graph_keeps_the_gradient_right() -> None:
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    h = x * 3
    h += x * x  # h = 3x + x²
    h.sum().backward()
    assert x.grad.tolist() == [5.0, 7.0]


def test_inplace_accumulating_a_tensor_that_requires_grad_keeps_its_gradient() -> None:
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    total = cr.zeros(2)
    total += x * x
    total += x
    assert total.requires_grad
    total.sum().backward()
    assert x.grad.tolist() == [3.0, 5.0]


def test_inplace_on_plain_tensors_and_0d_results() -> None:
    a = cr.tensor([1.0, 2.0])
    alias = a
    a += cr.tensor([10.0, 20.0])
    assert alias is a and a.tolist() == [11.0, 22.0]
    s = cr.tensor([1.0, 2.0]).sum()
    s *= 3
    assert s.item() == 9.0 and s.dtype == cr.float32


def test_inplace_that_would_change_shape_or_dtype_is_refused() -> None:
    with pytest.raises(OpError, match=r"in-place add.*\(2, 3\).*\(3,\)"):
        a = cr.zeros(3)
        a += cr.zeros(2, 3)
    with pytest.raises(OpError, match="in-place div.*float32.*int64"):
        i = cr.tensor([1, 2])
        i /= 2


@pytest.mark.parametrize("fn", [
    lambda m, i, x: i * x,
    lambda m, i, x: x - i,
    lambda m, i, x: i * 2.5,
    lambda m, i, x: 0.5 + i,
    lambda m, i, x: i ** 0.5,
    lambda m, i, x: m.where(i > 1, i, x),
    lambda m, i, x: i / 2,
    lambda m, i, x: 3 / i,
    lambda m, i, x: i / i,
    lambda m, i, x: (i > 1) * x,
])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_integer_meets_float_as_torch(fn, dtype) -> None:
    """Integers (and bools) meeting floats take the float's dtype, not NumPy's float64."""
    ints, floats = [1, 2, 4], [0.5, -1.0, 2.0]
    got = fn(cr, cr.tensor(ints), cr.tensor(floats, dtype=dtype))
    expected = fn(torch, torch.tensor(ints), torch.tensor(floats, dtype=getattr(torch, dtype)))
    assert str(got.dtype) == str(expected.dtype).removeprefix("torch.")
    numpy.testing.assert_allclose(got.numpy(), expected.numpy(), rtol=1e-6)


def test_integer_arithmetic_stays_integer() -> None:
    i = cr.tensor([1, 2, 4])
    for y in (i + 1, 2 * i, i - i, i ** 2, -i, abs(i)):
        assert y.dtype == cr.int64
    assert (i ** 2).tolist() == [1, 4, 16]


def test_float_input_gets_a_float_gradient_through_a_mixed_op() -> None:
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    (x * cr.tensor([3, 4])).sum().backward()
    assert x.grad.dtype == cr.float32 and x.grad.tolist() == [3.0, 4.0]


def test_method_aliases() -> None:
    x = cr.tensor([[1.0, -2.0], [3.0, 4.0]])
    assert x.clip(-1, 1).tolist() == x.clamp(-1, 1).tolist()
    assert x.swapaxes(0, 1).tolist() == x.T.tolist()
    assert x.view_as(cr.zeros(4)).shape == (4,)
    assert x.reshape_as(cr.zeros(1, 4)).shape == (1, 4)
    assert (cr.tensor([1.0, 2.0]) @ x).tolist() == [7.0, 6.0]
    assert (numpy.array([1.0, 2.0]) @ x).tolist() == [7.0, 6.0]  # reflected, NumPy on the left
    assert (numpy.ones(2) + x).tolist() == [[2.0, -1.0], [4.0, 5.0]]
