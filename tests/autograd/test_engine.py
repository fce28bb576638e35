"""The backward engine (autograd/engine.py): accumulation, retain_graph, explicit
gradients, autograd.grad, second derivatives, and the errors that explain misuse."""
from __future__ import annotations

import numpy
import pytest
import torch

import chainrule as cr


def leaf(values, dtype=cr.float64):
    return cr.tensor(values, dtype=dtype, requires_grad=True)


# --- .backward() ---------------------------------------------------------------------------
def test_gradients_accumulate_across_backward_calls_as_torch() -> None:
    x = leaf([1.0, 2.0, 3.0])
    (x * x).sum().backward()
    (3 * x).sum().backward()
    assert x.grad.tolist() == [5.0, 7.0, 9.0]
    t = torch.tensor([1.0, 2.0, 3.0], dtype=torch.float64, requires_grad=True)
    (t * t).sum().backward()
    (3 * t).sum().backward()
    assert x.grad.tolist() == t.grad.tolist()


def test_grad_is_none_until_backward_and_only_leaves_get_it() -> None:
    x = leaf([1.0, 2.0])
    y = x * 2
    assert x.grad is None and x.is_leaf and not y.is_leaf
    y.sum().backward()
    assert x.grad.tolist() == [2.0, 2.0]
    assert y.grad is None


def test_grad_can_be_zeroed_in_place_and_is_not_shared_between_leaves() -> None:
    """A manual training loop does `w.grad.zero_()`; the gradient array must be writable
    and owned by that leaf (an add hands one gradient array to both of its inputs)."""
    a, b = leaf([1.0, 2.0]), leaf([3.0, 4.0])
    (a + b).sum().backward()  # sum's gradient is a broadcast of one number
    a.grad.zero_()
    assert a.grad.tolist() == [0.0, 0.0]
    assert b.grad.tolist() == [1.0, 1.0]
    (a * b).sum().backward()
    assert a.grad.tolist() == [3.0, 4.0]
    s = leaf(2.0)
    (s * s).backward()
    s.grad.zero_()
    assert s.grad.item() == 0.0


def test_backward_with_explicit_gradient() -> None:
    x = leaf([[1.0, 2.0], [3.0, 4.0]])
    y = x * x
    y.backward(cr.tensor([[1.0, 0.5], [0.0, -1.0]], dtype=cr.float64))
    assert x.grad.tolist() == [[2.0, 2.0], [0.0, -8.0]]
    z = leaf([1.0, 2.0])
    (z * 3).backward(numpy.array([1.0, 2.0]))  # a NumPy array works too
    assert z.grad.tolist() == [3.0, 6.0]


def test_backward_on_a_leaf_itself() -> None:
    x = leaf([1.0, 2.0])
    x.backward(cr.tensor([3.0, 4.0], dtype=cr.float64))
    assert x.grad.tolist() == [3.0, 4.0]


def test_backward_on_non_scalar_without_gradient_raises() -> None:
    y = leaf([1.0, 2.0]) * 2
    with pytest.raises(RuntimeError, match=r"only for scalar outputs.*\(2,\)"):
        y.backward()


def test_backward_on_one_element_tensor_without_gradient_works() -> None:
    x = leaf([[3.0]])
    (x * x).backward()
    assert x.grad.tolist() == [[6.0]]


def test_backward_with_gradient_of_wrong_shape_raises() -> None:
    y = leaf([1.0, 2.0]) * 2
    with pytest.raises(RuntimeError, match=r"gradient has shape \(3,\).*\(2,\)"):
        y.backward(cr.ones(3))


def test_backward_on_tensor_without_graph_raises() -> None:
    with pytest.raises(RuntimeError, match="does not require grad"):
        (cr.tensor([1.0, 2.0]) * 2).sum().backward()


def test_second_backward_through_freed_graph_raises_clearly() -> None:
    x = leaf([1.0, 2.0])
    y = (x.exp() * x).sum()
    y.backward()
    with pytest.raises(RuntimeError, match="second time.*retain_graph=True"):
        y.backward()


def test_freed_graph_detected_from_another_root_sharing_it() -> None:
    x = leaf([1.0, 2.0])
    h = x.exp()
    h.sum().backward()
    with pytest.raises(RuntimeError, match="retain_graph"):
        (h * 2).sum().backward()


def test_retain_graph_allows_a_second_backward() -> None:
    x = leaf([1.0, 2.0])
    y = (x.exp() * x).sum()
    y.backward(retain_graph=True)
    first = x.grad.numpy().copy()
    y.backward()
    numpy.testing.assert_allclose(x.grad.numpy(), 2 * first, rtol=1e-15)


def test_shared_subgraph_gets_the_sum_of_all_paths() -> None:
    x = leaf([0.5, -1.0])
    h = x.tanh()
    y = (h * h + h.exp() + h).sum()
    y.backward()
    t = torch.tensor([0.5, -1.0], dtype=torch.float64, requires_grad=True)
    u = t.tanh()
    (u * u + u.exp() + u).sum().backward()
    numpy.testing.assert_allclose(x.grad.numpy(), t.grad.numpy(), rtol=1e-14)


def test_constants_in_the_graph_get_no_gradient() -> None:
    x, c = leaf([1.0, 2.0]), cr.tensor([3.0, 4.0], dtype=cr.float64)
    (x * c).sum().backward()
    assert c.grad is None and not c.requires_grad
    assert x.grad.tolist() == [3.0, 4.0]


def test_deep_chain_backward_needs_no_recursion() -> None:
    """5,000 ops deep, far past Python's recursion limit (1,000)."""
    x = leaf([1.0])
    y = x
    for _ in range(5000):
        y = y * 1.0001 + 0.0
    y.sum().backward()
    numpy.testing.assert_allclose(x.grad.numpy(), [1.0001 ** 5000], rtol=1e-10)


def test_deep_chain_can_be_dropped_without_backward() -> None:
    x = leaf([1.0])
    y = x
    for _ in range(20_000):
        y = y + 1.0
    del y  # deallocating a 20,000-deep chain of nodes must not overflow the C stack


# --- autograd.grad ---------------------------------------------------------------------------
def test_autograd_grad_returns_gradients_without_touching_grad() -> None:
    x, w = leaf([1.0, 2.0]), leaf([3.0, -1.0])
    gx, gw = cr.autograd.grad((x * w).sum(), [x, w])
    assert gx.tolist() == [3.0, -1.0] and gw.tolist() == [1.0, 2.0]
    assert x.grad is None and w.grad is None
    x.grad = cr.tensor([10.0, 10.0], dtype=cr.float64)
    cr.autograd.grad((x * x).sum(), x)
    assert x.grad.tolist() == [10.0, 10.0]


def test_autograd_grad_of_a_single_input_returns_a_one_tuple() -> None:
    x = leaf([1.0, 2.0])
    result = cr.autograd.grad((x * x).sum(), x)
    assert isinstance(result, tuple) and len(result) == 1
    assert result[0].tolist() == [2.0, 4.0]


def test_autograd_grad_on_non_leaf_inputs() -> None:
    x = leaf([1.0, 2.0])
    h = x * 3
    y = (h * h).sum()
    (gh,) = cr.autograd.grad(y, h, retain_graph=True)
    assert gh.tolist() == [6.0, 12.0]  # dy/dh = 2h
    gh, gx = cr.autograd.grad(y, [h, x])
    assert gh.tolist() == [6.0, 12.0] and gx.tolist() == [18.0, 36.0]


def test_autograd_grad_with_grad_outputs() -> None:
    x = leaf([1.0, 2.0])
    (g,) = cr.autograd.grad(x * x, x, grad_outputs=cr.tensor([1.0, -1.0], dtype=cr.float64))
    assert g.tolist() == [2.0, -4.0]


def test_autograd_grad_of_several_outputs_sums_them() -> None:
    x = leaf([1.0, 2.0])
    h = x * x
    (g,) = cr.autograd.grad([h.sum(), (h * 2).sum()], x)
    assert g.tolist() == [6.0, 12.0]


def test_autograd_grad_unused_input_raises_unless_allowed() -> None:
    x, unused = leaf([1.0]), leaf([2.0])
    with pytest.raises(RuntimeError, match="input 1.*not used.*allow_unused=True"):
        cr.autograd.grad((x * 2).sum(), [x, unused], retain_graph=True)
    gx, gu = cr.autograd.grad((x * 2).sum(), [x, unused], allow_unused=True)
    assert gx.tolist() == [2.0] and gu is None


def test_autograd_grad_input_without_requires_grad_raises() -> None:
    x = leaf([1.0])
    with pytest.raises(RuntimeError, match="does not require grad"):
        cr.autograd.grad((x * 2).sum(), [cr.tensor([1.0])])


def test_autograd_grad_frees_the_graph_unless_retained() -> None:
    x = leaf([1.0, 2.0])
    y = (x.exp()).sum()
    cr.autograd.grad(y, x, retain_graph=True)
    cr.autograd.grad(y, x)
    with pytest.raises(RuntimeError, match="retain_graph"):
        cr.autograd.grad(y, x)


# --- higher order ----------------------------------------------------------------------------
def test_second_derivative_of_a_cubic() -> None:
    x = leaf([1.0, -2.0])
    (g,) = cr.autograd.grad((x ** 3).sum(), x, create_graph=True)
    assert g.tolist() == [3.0, 12.0] and g.requires_grad
    (h,) = cr.autograd.grad(g.sum(), x)
    assert h.tolist() == [6.0, -12.0]


def test_third_derivative_matches_torch() -> None:
    values = [0.3, -0.7, 1.1]
    x = leaf(values)
    t = torch.tensor(values, dtype=torch.float64, requires_grad=True)
    results = []
    for m, v, grad in ((cr, x, cr.autograd.grad), (torch, t, torch.autograd.grad)):
        y = (m.tanh(v) * m.exp(v) + v.sigmoid() ** 2).sum()
        (g1,) = grad(y, v, create_graph=True)
        (g2,) = grad(g1.sum(), v, create_graph=True)
        (g3,) = grad(g2.sum(), v)
        results.append([numpy.asarray(g.detach().numpy() if m is torch else g.numpy())
                        for g in (g1, g2, g3)])
    for got, expected in zip(*results):
        numpy.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-14)


@pytest.mark.filterwarnings("ignore:Using backward\\(\\) with create_graph=True")
def test_backward_with_create_graph_accumulates_differentiable_grad_as_torch() -> None:
    x = leaf([1.5, -0.5])
    (x ** 3).sum().backward(create_graph=True)
    assert x.grad.requires_grad
    grad = x.grad
    x.grad = None
    grad.sum().backward()
    t = torch.tensor([1.5, -0.5], dtype=torch.float64, requires_grad=True)
    (t ** 3).sum().backward(create_graph=True)
    tgrad = t.grad
    t.grad = None
    tgrad.sum().backward()
    assert x.grad.tolist() == t.grad.tolist() == [9.0, -3.0]


def test_hessian_vector_product_of_an_mlp_loss_matches_torch() -> None:
    generator = numpy.random.default_rng(0)
    arrays = [generator.standard_normal(s) for s in [(5, 4), (4, 3), (3,), (3, 1), (5, 1)]]
    direction = [generator.standard_normal(s) for s in [(4, 3), (3,), (3, 1)]]

    def hvp(m, tensor, grad):
        x, w1, b1, w2, target = [tensor(a) for a in arrays]
        for p in (w1, b1, w2):
            p.requires_grad_()
        loss = ((m.tanh(x @ w1 + b1) @ w2 - target) ** 2).mean()
        grads = grad(loss, [w1, b1, w2], create_graph=True)
        dot = sum((g * tensor(d)).sum() for g, d in zip(grads, direction))
        return grad(dot, [w1, b1, w2])

    got = hvp(cr, cr.tensor, cr.autograd.grad)
    expected = hvp(torch, torch.tensor, torch.autograd.grad)
    for g, e in zip(got, expected):
        numpy.testing.assert_allclose(g.numpy(), e.numpy(), rtol=1e-10, atol=1e-12)


def test_second_derivative_through_detached_copy_sees_a_constant() -> None:
    """x and x.detach() share one array; the detached one must stay a constant."""
    x = leaf([1.0, 2.0])
    (g,) = cr.autograd.grad((x.detach() * x * x).sum(), x, create_graph=True)
    assert g.tolist() == [2.0, 8.0]  # d/dx of c·x² = 2cx
    (h,) = cr.autograd.grad(g.sum(), x)
    assert h.tolist() == [2.0, 4.0]  # 2c, not 6x


# --- detach ------------------------------------------------------------------------------------
def test_detach_cuts_the_graph_and_shares_the_numbers() -> None:
    x = leaf([1.0, 2.0])
    y = x * 2
    d = y.detach()
    assert d.grad_fn is None and not d.requires_grad and d.is_leaf
    assert d.tolist() == [2.0, 4.0]
    (d * y).sum().backward()
    assert x.grad.tolist() == [4.0, 8.0]  # d is a constant: d/dx (d · 2x) = 2d


# --- errors that teach -----------------------------------------------------------------------
def test_requires_grad_on_an_integer_tensor_raises_type_error() -> None:
    with pytest.raises(TypeError, match="floating point.*int64"):
        cr.tensor([1, 2, 3], requires_grad=True)
    with pytest.raises(TypeError, match="floating point"):
        cr.arange(3).requires_grad_()
    with pytest.raises(TypeError, match="floating point.*bool"):
        cr.tensor([True]).requires_grad_()


@pytest.mark.parametrize("data, dtype", [(["a", "b"], "<U1"), ([1 + 2j], "complex128"),
                                          ([{}, None], "object")])
def test_tensor_of_unsupported_data_names_the_dtype(data, dtype) -> None:
    with pytest.raises(TypeError, match=f"unsupported dtype {dtype}"):
        cr.tensor(data)


def test_requires_grad_false_on_a_non_leaf_says_detach() -> None:
    y = leaf([1.0]) * 2
    with pytest.raises(RuntimeError, match="detach"):
        y.requires_grad_(False)


def test_in_place_methods_write_into_a_reduction_over_every_element():
    """NumPy gives a full reduction as a scalar; the tensor must still take in-place writes,
    and the gradient through it (saved output, double backward) is unchanged."""
    x = cr.tensor([1.0, 2.0, 3.0], requires_grad=True)
    total = x.detach().sum()
    total.add_(1)
    assert total.item() == 7.0
    total.mul_(2).clamp_(0, 10)
    assert total.item() == 10.0
    total.zero_()
    assert total.item() == 0.0
    norm = x.norm()
    (g,) = cr.autograd.grad(norm, x, create_graph=True)
    (gg,) = cr.autograd.grad(g.sum(), x)
    expected = (1 - x.detach() * x.detach().sum() / norm.detach() ** 2) / norm.detach()
    assert numpy.allclose(gg.numpy(), expected.numpy())


def test_backward_with_inputs_and_grad_tensors_as_torch():
    def run(lib):
        a = lib.tensor([1.0, 2.0], dtype=lib.float64, requires_grad=True)
        b = lib.tensor([3.0], dtype=lib.float64, requires_grad=True)
        h = a * b  # a non-leaf asked for: its .grad is filled too
        out = h * h
        lib.autograd.backward([out], grad_tensors=[lib.tensor([1.0, 0.5], dtype=lib.float64)],
                              inputs=[a, h], retain_graph=True)
        first = (a.grad.tolist(), b.grad, h.grad.tolist())
        out.sum().backward(inputs=[b], retain_graph=True)
        lib.autograd.backward([out.sum(), (a * 2).sum()])  # several roots: gradients add
        return first, b.grad.tolist(), a.grad.tolist()
    assert run(cr) == run(torch)
    with pytest.raises(RuntimeError, match="cannot be empty"):
        x = cr.tensor([1.0], requires_grad=True)
        (x * 2).sum().backward(inputs=[])


def test_an_in_place_change_after_a_use_keeps_the_earlier_use_on_the_old_node():
    """A node remembers its inputs' nodes as they were when it ran (PyTorch's edges): y
    used by `y + 1`, then changed by `y.mul_(3)`, gives both uses their own gradient."""
    grads = []
    for m in (cr, torch):
        x = m.tensor([1.0, 2.0], requires_grad=True)
        y = x * 2
        z = y + 1
        y.mul_(3)
        (z + y).sum().backward()
        grads.append(x.grad.tolist())
    assert grads[0] == grads[1] == [8.0, 8.0]
