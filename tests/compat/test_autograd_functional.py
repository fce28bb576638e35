"""torch.autograd.functional (jacobian, hessian, vjp, jvp, hvp, vhp) against PyTorch:
values, the nested-tuple structure of the results, create_graph, strict, and the paths
`chainrule.autograd.functional` / `torch.autograd.functional` under `chainrule run`."""
from __future__ import annotations

import numpy
import pytest
import torch
import torch.autograd.functional as TF

import chainrule
from chainrule.autograd import functional as CF

RNG = numpy.random.default_rng(0)
X, Y = RNG.random((2, 3)), RNG.random(3)


def _both(*arrays):
    return tuple(chainrule.tensor(a) for a in arrays), tuple(torch.tensor(a) for a in arrays)


def _same(ours, theirs):
    """Equal values in the same nesting of tuples."""
    if isinstance(theirs, torch.Tensor):
        assert isinstance(ours, chainrule.Tensor)
        assert tuple(ours.shape) == tuple(theirs.shape)
        numpy.testing.assert_allclose(ours.numpy(), theirs.detach().numpy(), rtol=1e-10,
                                      atol=1e-12)
        return
    assert isinstance(ours, tuple) and len(ours) == len(theirs)
    for a, b in zip(ours, theirs):
        _same(a, b)


def pair_to_pair(x, y):
    return x.exp() * y.sin(), (x * y).sum()


def pair_to_one(x, y):
    return (x ** 2) @ y.cos()


def one_to_pair(x):
    return x.sin(), x.sum(1)


def one_to_one(x):
    return x.tanh() * x


def scalar_of_pair(x, y):
    return (x ** 2 * y.exp()).sum() + (x[0] * x[1]).sum()


def scalar_of_one(x):
    return (x ** 3).sum() + x.exp().sum() * x.sum()


@pytest.mark.parametrize("func, arrays", [
    (pair_to_pair, (X, Y)), (pair_to_one, (X, Y)), (one_to_pair, (X,)), (one_to_one, (X,))])
def test_jacobian_matches_torch(func, arrays):
    ours, theirs = _both(*arrays)
    if len(arrays) == 1:
        ours, theirs = ours[0], theirs[0]
    result = CF.jacobian(func, ours)
    _same(result, TF.jacobian(func, theirs))
    assert not any(t.requires_grad for t in _flat(result))


@pytest.mark.parametrize("func, arrays", [(scalar_of_pair, (X, Y)), (scalar_of_one, (X,))])
def test_hessian_matches_torch(func, arrays):
    ours, theirs = _both(*arrays)
    if len(arrays) == 1:
        ours, theirs = ours[0], theirs[0]
    _same(CF.hessian(func, ours), TF.hessian(func, theirs))


@pytest.mark.parametrize("name", ["vhp", "hvp"])
@pytest.mark.parametrize("func, arrays", [(scalar_of_pair, (X, Y)), (scalar_of_one, (X,))])
def test_hessian_vector_products_match_torch(name, func, arrays):
    (ours, theirs), (v_ours, v_theirs) = _both(*arrays), _both(*(a + 0.5 for a in arrays))
    if len(arrays) == 1:
        ours, theirs, v_ours, v_theirs = ours[0], theirs[0], v_ours[0], v_theirs[0]
    _same(getattr(CF, name)(func, ours, v_ours), getattr(TF, name)(func, theirs, v_theirs))


@pytest.mark.parametrize("func, arrays", [
    (pair_to_pair, (X, Y)), (pair_to_one, (X, Y)), (one_to_pair, (X,)), (one_to_one, (X,))])
def test_vjp_and_jvp_match_torch(func, arrays):
    ours, theirs = _both(*arrays)
    out = func(*theirs)
    out_arrays = [o.detach().numpy() + 1.0 for o in (out if isinstance(out, tuple) else (out,))]
    u_ours, u_theirs = _both(*out_arrays)
    v_ours, v_theirs = _both(*(a * 2.0 - 0.3 for a in arrays))
    if not isinstance(out, tuple):
        u_ours, u_theirs = u_ours[0], u_theirs[0]
    if len(arrays) == 1:
        ours, theirs, v_ours, v_theirs = ours[0], theirs[0], v_ours[0], v_theirs[0]
    _same(CF.vjp(func, ours, u_ours), TF.vjp(func, theirs, u_theirs))
    _same(CF.jvp(func, ours, v_ours), TF.jvp(func, theirs, v_theirs))


def test_v_may_be_left_out_only_for_single_elements():
    x = chainrule.tensor([0.7], dtype=chainrule.float64)
    _same(CF.vjp(lambda t: (t ** 3).sum(), x), TF.vjp(lambda t: (t ** 3).sum(),
                                                       torch.tensor([0.7], dtype=torch.float64)))
    _same(CF.jvp(lambda t: t.exp(), x), TF.jvp(lambda t: t.exp(),
                                              torch.tensor([0.7], dtype=torch.float64)))
    with pytest.raises(RuntimeError, match="v can only be None"):
        CF.vjp(lambda t: t * 2, chainrule.ones(3))
    with pytest.raises(RuntimeError, match="invalid size"):
        CF.vjp(lambda t: t * 2, chainrule.ones(3), chainrule.ones(2))


def test_an_independent_input_gives_zeros_or_an_error_when_strict():
    def ignores_y(x, y):
        return x * 2
    x, y = chainrule.ones(2), chainrule.ones(3)
    jx, jy = CF.jacobian(ignores_y, (x, y))
    numpy.testing.assert_array_equal(jx.numpy(), 2 * numpy.eye(2))
    numpy.testing.assert_array_equal(jy.numpy(), numpy.zeros((2, 3)))
    _, (gx, gy) = CF.vjp(ignores_y, (x, y), chainrule.ones(2))
    numpy.testing.assert_array_equal(gy.numpy(), numpy.zeros(3))
    with pytest.raises(RuntimeError, match="independent of input 1"):
        CF.jacobian(ignores_y, (x, y), strict=True)
    with pytest.raises(RuntimeError, match="independent of input 1"):
        CF.vjp(ignores_y, (x, y), chainrule.ones(2), strict=True)
    with pytest.raises(RuntimeError, match="does not require gradients"):
        CF.jacobian(lambda t: chainrule.ones(2), x, strict=True)
    with pytest.raises(RuntimeError, match="not supported together"):
        CF.jacobian(ignores_y, (x, y), strict=True, vectorize=True)


def test_vectorize_and_forward_mode_are_accepted_with_the_same_result():
    x, xt = chainrule.tensor(X), torch.tensor(X)
    _same(CF.jacobian(one_to_one, x, vectorize=True), TF.jacobian(one_to_one, xt))
    _same(CF.jacobian(one_to_one, x, vectorize=True, strategy="forward-mode"),
          TF.jacobian(one_to_one, xt, vectorize=True, strategy="forward-mode"))
    for module in (CF, TF):
        with pytest.raises(NotImplementedError, match="vectorize"):
            module.jacobian(one_to_one, x if module is CF else xt, strategy="forward-mode")


def test_create_graph_lets_the_result_be_differentiated_again():
    x = chainrule.tensor(Y, requires_grad=True)
    jac = CF.jacobian(lambda t: t ** 3, x, create_graph=True)
    jac.sum().backward()
    xt = torch.tensor(Y, requires_grad=True)
    TF.jacobian(lambda t: t ** 3, xt, create_graph=True).sum().backward()
    numpy.testing.assert_allclose(x.grad.numpy(), xt.grad.numpy(), rtol=1e-12)


def test_hessian_needs_a_single_element():
    with pytest.raises(RuntimeError, match="single element"):
        CF.hessian(lambda t: t * 2, chainrule.ones(2))
    with pytest.raises(TypeError, match="Tensor or a tuple of Tensors"):
        CF.jacobian(lambda t: [1.0], chainrule.ones(2))


def test_reached_at_pytorchs_paths():
    import chainrule.autograd.functional as by_path

    from chainrule.compat.torch_alias import torch_as_chainrule

    assert by_path is CF
    with torch_as_chainrule():
        from torch.autograd.functional import hessian   # noqa: I001
        import torch as aliased
        assert aliased.autograd.functional.jacobian is CF.jacobian
    assert hessian is CF.hessian


def _flat(result):
    if isinstance(result, tuple):
        return [t for r in result for t in _flat(r)]
    return [result]
