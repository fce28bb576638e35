"""Errors that teach: a shape mismatch names the op and both shapes; an unsupported dtype
is named."""
from __future__ import annotations

import pytest

import chainrule as cr
from chainrule.autograd import OpError


def shaped(*shape):
    return cr.zeros(*shape)


@pytest.mark.parametrize("name, fn", [
    ("add", lambda a, b: a + b),
    ("add", lambda a, b: cr.add(a, b)),
    ("sub", lambda a, b: a - b),
    ("mul", lambda a, b: a * b),
    ("div", lambda a, b: a / b),
    ("pow", lambda a, b: a ** b),
    ("where", lambda a, b: cr.where(a > 0, a, b)),
])
def test_binary_shape_mismatch_names_op_and_both_shapes(name, fn) -> None:
    with pytest.raises(OpError) as info:
        fn(shaped(2, 3), shaped(4))
    message = str(info.value)
    assert message.startswith(name) and "(2, 3)" in message and "(4,)" in message
    assert isinstance(info.value, ValueError)


@pytest.mark.parametrize("a, b", [((2, 3), (4, 5)), ((3,), (4, 5)), ((2, 3), (4,)),
                                  ((5, 2, 3), (4, 3, 2))])
def test_matmul_shape_mismatch_names_the_shapes_given(a, b) -> None:
    with pytest.raises(OpError) as info:
        shaped(*a) @ shaped(*b)
    message = str(info.value)
    assert message.startswith("matmul") and str(a) in message and str(b) in message


def test_matmul_of_a_0d_tensor_is_refused() -> None:
    with pytest.raises(ValueError, match=r"matmul.*\(\) and \(3,\)"):
        cr.matmul(cr.tensor(2.0), shaped(3))


@pytest.mark.parametrize("name, fn, shapes", [
    ("cat", lambda: cr.cat([shaped(2, 3), shaped(2, 4)]), ["(2, 3)", "(2, 4)"]),
    ("stack", lambda: cr.stack([shaped(2, 3), shaped(3, 2)]), ["(2, 3)", "(3, 2)"]),
    ("reshape", lambda: shaped(2, 3).reshape(4, 2), ["(2, 3)", "(4, 2)"]),
    ("expand", lambda: shaped(2, 3).expand(4, 3), ["(2, 3)", "(4, 3)"]),
    ("gather", lambda: cr.gather(shaped(2, 3), 1, cr.tensor([0, 1])), ["(2, 3)", "(2,)"]),
])
def test_shape_op_mismatch_names_op_and_shapes(name, fn, shapes) -> None:
    with pytest.raises(OpError) as info:
        fn()
    message = str(info.value)
    assert message.startswith(name), message
    for shape in shapes:
        assert shape in message, message


def test_index_out_of_range_names_the_shape_and_key() -> None:
    with pytest.raises(OpError, match=r"index.*\(3,\).*key=5.*out of bounds"):
        shaped(3)[5]


def test_permute_with_a_wrong_permutation_names_the_shape() -> None:
    with pytest.raises(ValueError, match=r"permute.*\(0, 0\).*\(2, 3\)"):
        shaped(2, 3).permute(0, 0)


@pytest.mark.parametrize("name, fn", [
    ("sum", lambda x: x.sum(dim=2)),
    ("mean", lambda x: x.mean(dim=(0, -3))),
    ("var", lambda x: x.var(dim=5)),
    ("squeeze", lambda x: x.squeeze(2)),
    ("unsqueeze", lambda x: x.unsqueeze(4)),
    ("unsqueeze", lambda x: x.unsqueeze(-4)),
    ("transpose", lambda x: x.transpose(0, 2)),
    ("permute", lambda x: x.permute(0, 2)),
    ("flatten", lambda x: x.flatten(0, 3)),
    ("gather", lambda x: x.gather(2, cr.tensor([[0]]))),
    ("max", lambda x: x.max(dim=2)),
    ("min", lambda x: x.min(-3)),
    ("argmax", lambda x: x.argmax(dim=2)),
    ("argmin", lambda x: cr.argmin(x, dim=-3)),
])
def test_dim_out_of_range_is_an_error_not_wrapped_around(name, fn) -> None:
    """As in PyTorch: dim 2 of a 2-d tensor does not silently mean dim 0."""
    with pytest.raises((IndexError, OpError), match=rf"^{name}: .*dim -?\d+ is out of range"):
        fn(shaped(2, 3))


def test_reductions_of_a_0d_tensor_over_dim_0_as_torch() -> None:
    x = cr.tensor(3.0, requires_grad=True)
    y = x.sum(0) * x.mean(dim=-1)
    assert y.shape == () and y.item() == 9.0
    y.backward()
    assert x.grad.item() == 6.0


def test_clamp_needs_a_bound() -> None:
    with pytest.raises(ValueError, match="clamp.*min.*max"):
        shaped(2).clamp()


def test_empty_cat_and_stack_say_so() -> None:
    with pytest.raises(ValueError, match="cat.*non-empty"):
        cr.cat([])
    with pytest.raises(ValueError, match="stack.*non-empty"):
        cr.stack([])


# --- dtypes ----------------------------------------------------------------------------------
def test_op_on_an_unsupported_dtype_names_the_op_and_dtype() -> None:
    with pytest.raises(OpError, match=r"^neg: .* of dtype bool "):
        -cr.tensor([True, False])
    with pytest.raises(OpError, match=r"^sub: .* of dtype bool and bool "):
        cr.tensor([True]) - cr.tensor([False])
    with pytest.raises(OpError, match=r"^pow: .* of dtype int64 and int64 .*negative"):
        cr.tensor([1, 2]) ** -1


def test_mean_of_integers_names_the_dtype() -> None:
    with pytest.raises(TypeError, match="mean.*floating.*int64"):
        cr.arange(4).mean()


def test_unsupported_tensor_dtype_is_refused_at_creation() -> None:
    with pytest.raises(TypeError, match="unsupported dtype <U5"):
        cr.tensor(["hello"])
    with pytest.raises(TypeError, match="unsupported dtype complex64"):
        cr.tensor([1.0], dtype="complex64")
