"""nn.utils.parametrize and nn.utils.parametrizations against PyTorch: registration,
state-dict keys, values and gradients through the parametrization, right_inverse on
assignment, chains, caching, removal (both ways) and the errors."""
from __future__ import annotations

import numpy
import pytest
import torch

import chainrule as cr
from chainrule.nn.utils import parametrizations, parametrize

RNG = numpy.random.default_rng(0)


def pair(kind, *args):
    torch.manual_seed(0)
    theirs = getattr(torch.nn, kind)(*args).double()
    ours = getattr(cr.nn, kind)(*args, dtype=cr.float64)
    ours.load_state_dict({k: cr.tensor(v.numpy()) for k, v in theirs.state_dict().items()})
    return ours, theirs


def symmetric(m):
    class Symmetric(m.nn.Module):
        def forward(self, x):
            return x.triu() + x.triu(1).transpose(-1, -2)

        def right_inverse(self, a):
            return a.triu()
    return Symmetric()


def scaled(m, factor):
    class Scaled(m.nn.Module):
        def forward(self, x):
            return x * factor

        def right_inverse(self, a):
            return a / factor
    return Scaled()


def compare(ours, theirs, x):
    got, want = ours(cr.tensor(x)), theirs(torch.tensor(x))
    numpy.testing.assert_allclose(got.numpy(), want.detach().numpy(), rtol=1e-10, atol=1e-12)
    upstream = RNG.standard_normal(want.shape)
    (got * cr.tensor(upstream)).sum().backward()
    (want * torch.tensor(upstream)).sum().backward()
    mine = dict(ours.named_parameters())
    for name, p in theirs.named_parameters():
        numpy.testing.assert_allclose(mine[name].grad.numpy(), p.grad.numpy(), rtol=1e-10,
                                      atol=1e-12, err_msg=name)


def test_a_chain_of_parametrizations_with_right_inverse_as_torch():
    ours, theirs = pair("Linear", 3, 3)
    for m, layer in ((cr, ours), (torch, theirs)):
        m.nn.utils.parametrize.register_parametrization(layer, "weight", symmetric(m))
        m.nn.utils.parametrize.register_parametrization(layer, "weight", scaled(m, 2.0))
    assert type(ours).__name__ == type(theirs).__name__ == "ParametrizedLinear"
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert parametrize.is_parametrized(ours) and parametrize.is_parametrized(ours, "weight")
    assert not parametrize.is_parametrized(ours, "bias")
    assert parametrize.type_before_parametrizations(ours) is cr.nn.Linear
    compare(ours, theirs, RNG.standard_normal((4, 3)))
    value = RNG.standard_normal((3, 3))
    value = value + value.T
    ours.weight = cr.tensor(value)                   # stored through the right inverses
    theirs.weight = torch.tensor(value)
    numpy.testing.assert_allclose(ours.weight.numpy(), value, rtol=1e-12)
    numpy.testing.assert_allclose(ours.parametrizations.weight.original.numpy(),
                                  theirs.parametrizations.weight.original.detach().numpy(),
                                  rtol=1e-12)


@pytest.mark.parametrize("leave_parametrized", [True, False])
def test_removal_restores_a_plain_parameter_as_torch(leave_parametrized):
    ours, theirs = pair("Linear", 3, 3)
    original = ours.weight
    for m, layer in ((cr, ours), (torch, theirs)):
        m.nn.utils.parametrize.register_parametrization(layer, "weight", scaled(m, 3.0))
        m.nn.utils.parametrize.remove_parametrizations(layer, "weight", leave_parametrized)
    assert type(ours) is cr.nn.Linear and not hasattr(ours, "parametrizations")
    assert list(ours.state_dict()) == list(theirs.state_dict())
    numpy.testing.assert_allclose(ours.weight.numpy(), theirs.weight.detach().numpy(),
                                  rtol=1e-12)
    assert ours.weight is original                 # the optimizer's parameter object


def test_cached_computes_a_parametrization_once():
    layer = cr.nn.Linear(2, 2)
    parametrize.register_parametrization(layer, "weight", scaled(cr, 2.0))
    assert layer.weight is not layer.weight
    with parametrize.cached():
        assert layer.weight is layer.weight


def test_errors_as_torch():
    class Shrink(cr.nn.Module):
        def forward(self, x):
            return x[:1]
    with pytest.raises(ValueError, match="may not change the shape"):
        parametrize.register_parametrization(cr.nn.Linear(2, 2), "weight", Shrink())
    with pytest.raises(ValueError, match="does not have a parameter, a buffer"):
        parametrize.register_parametrization(cr.nn.Linear(2, 2), "colour", Shrink())
    with pytest.raises(ValueError, match="does not have a parametrization on weight"):
        parametrize.remove_parametrizations(cr.nn.Linear(2, 2), "weight")
    layer = parametrizations.weight_norm(cr.nn.Linear(2, 2))
    with pytest.raises(ValueError, match="Cannot leave unparametrized"):
        parametrize.remove_parametrizations(layer, "weight", leave_parametrized=False)

    class NoInverse(cr.nn.Module):
        def forward(self, x):
            return x * 2
    layer = parametrize.register_parametrization(cr.nn.Linear(2, 2), "weight", NoInverse())
    with pytest.raises(RuntimeError, match="does not implement right_inverse"):
        layer.weight = cr.zeros(2, 2)


@pytest.mark.parametrize("kind,args,dim,shape", [
    ("Linear", (4, 3), 0, (5, 4)), ("Linear", (4, 3), None, (5, 4)),
    ("Conv2d", (2, 3, 3), 1, (2, 2, 5, 5))], ids=str)
def test_weight_norm_parametrization_as_torch(kind, args, dim, shape):
    ours, theirs = pair(kind, *args)
    parametrizations.weight_norm(ours, dim=dim)
    torch.nn.utils.parametrizations.weight_norm(theirs, dim=dim)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    compare(ours, theirs, RNG.standard_normal(shape))
    parametrize.remove_parametrizations(ours, "weight")
    torch.nn.utils.parametrize.remove_parametrizations(theirs, "weight")
    assert list(ours.state_dict()) == list(theirs.state_dict())
    numpy.testing.assert_allclose(ours.weight.numpy(), theirs.weight.detach().numpy(),
                                  rtol=1e-12)


@pytest.mark.parametrize("kind,args,shape,options", [
    ("Linear", (5, 4), (3, 5), {}), ("Conv2d", (2, 3, 3), (2, 2, 5, 5),
                                     dict(n_power_iterations=2)),
    ("ConvTranspose1d", (3, 2, 2), (2, 3, 4), {})], ids=str)
def test_spectral_norm_parametrization_as_torch(kind, args, shape, options):
    ours, theirs = pair(kind, *args)
    parametrizations.spectral_norm(ours, **options)
    torch.nn.utils.parametrizations.spectral_norm(theirs, **options)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    for name, value in theirs.state_dict().items():     # torch's random start for u, v
        if name.endswith(("_u", "_v")):
            dict(ours.named_buffers())[name].array[...] = value.numpy()
    for _ in range(2):
        compare(ours, theirs, RNG.standard_normal(shape))
    ours.eval()
    theirs.eval()
    compare(ours, theirs, RNG.standard_normal(shape))
    singular = numpy.linalg.svd(ours.weight.numpy().reshape(ours.weight.shape[0], -1),
                                compute_uv=False)
    assert singular.max() == pytest.approx(1.0, abs=0.2)   # roughly, after few iterations


def test_spectral_norm_of_a_vector_is_its_direction():
    ours = cr.nn.Linear(3, 3)
    parametrizations.spectral_norm(ours, "bias")
    numpy.testing.assert_allclose(numpy.linalg.norm(ours.bias.numpy()), 1.0, rtol=1e-6)


def orthogonal_pair(shape, orthogonal_map, use_trivialization):
    ours, theirs = pair("Linear", shape[1], shape[0])
    torch.nn.utils.parametrizations.orthogonal(theirs, orthogonal_map=orthogonal_map,
                                               use_trivialization=use_trivialization)
    parametrizations.orthogonal(ours, orthogonal_map=orthogonal_map,
                                use_trivialization=use_trivialization)
    copy = dict(ours.named_buffers())
    for name, value in theirs.named_buffers():        # a tall base draws random columns
        copy[name].array[...] = value.numpy()
    return ours, theirs


@pytest.mark.parametrize("use_trivialization", [True, False])
@pytest.mark.parametrize("orthogonal_map", [None, "matrix_exp", "cayley", "householder"])
@pytest.mark.parametrize("shape", [(4, 4), (5, 3), (3, 5)], ids=str)
def test_orthogonal_as_torch(shape, orthogonal_map, use_trivialization):
    ours, theirs = orthogonal_pair(shape, orthogonal_map, use_trivialization)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    numpy.testing.assert_allclose(ours.weight.numpy(), theirs.weight.detach().numpy(),
                                  rtol=1e-10, atol=1e-12)
    moved = RNG.standard_normal(tuple(theirs.parametrizations.weight.original.shape)) * 0.3
    numpy.fill_diagonal(moved, 0.0)                 # householder reads the diagonal's signs
    with torch.no_grad():
        theirs.parametrizations.weight.original.add_(torch.tensor(moved))
    ours.parametrizations.weight.original.array += moved    # away from the start X = -I
    compare(ours, theirs, RNG.standard_normal((2, shape[1])))
    q = ours.weight.numpy()
    small = min(shape)
    gram = q.T @ q if shape[0] >= shape[1] else q @ q.T
    numpy.testing.assert_allclose(gram, numpy.eye(small), atol=1e-10)


def test_orthogonal_assignment_stores_an_orthonormal_base_as_torch():
    ours, theirs = orthogonal_pair((4, 4), None, True)
    target = RNG.standard_normal((4, 4))
    ours.weight = cr.tensor(target)
    theirs.weight = torch.tensor(target)
    numpy.testing.assert_allclose(ours.weight.numpy(), theirs.weight.detach().numpy(),
                                  rtol=1e-10, atol=1e-12)
    with pytest.raises(ValueError, match="Expected a matrix or batch of matrices"):
        parametrizations.orthogonal(cr.nn.Linear(2, 2), "bias")
    with pytest.raises(ValueError, match="orthogonal_map has to be one of"):
        parametrizations.orthogonal(cr.nn.Linear(2, 2), orthogonal_map="qr")
