"""nn.utils.weight_norm / spectral_norm (and their removal) and the BatchNorm fusions
against PyTorch: parameters and buffers, forward values, gradients of every parameter."""
from __future__ import annotations

import numpy
import pytest
import torch

import chainrule as cr

pytestmark = pytest.mark.filterwarnings("ignore:.*weight_norm.*is deprecated:FutureWarning")
RNG = numpy.random.default_rng(0)


def pair(kind, *args, **kwargs):
    """The same layer in chainrule and torch (float64, torch's weights copied)."""
    torch.manual_seed(0)
    theirs = getattr(torch.nn, kind)(*args, **kwargs).double()
    ours = getattr(cr.nn, kind)(*args, **kwargs, dtype=cr.float64)
    ours.load_state_dict({k: cr.tensor(v.numpy()) for k, v in theirs.state_dict().items()})
    return ours, theirs


def copy_state(ours, theirs):
    for name, value in theirs.state_dict().items():
        target = dict(ours.named_parameters(), **dict(ours.named_buffers()))[name]
        target.array[...] = value.numpy()


def compare(ours, theirs, x, rtol=1e-10):
    """Forward and the gradients of every parameter, with a random upstream gradient."""
    got, want = ours(cr.tensor(x)), theirs(torch.tensor(x))
    numpy.testing.assert_allclose(got.numpy(), want.detach().numpy(), rtol=rtol, atol=1e-12)
    upstream = RNG.standard_normal(want.shape)
    (got * cr.tensor(upstream)).sum().backward()
    (want * torch.tensor(upstream)).sum().backward()
    ours_grads = {n: p.grad.numpy() for n, p in ours.named_parameters()}
    for name, p in theirs.named_parameters():
        numpy.testing.assert_allclose(ours_grads[name], p.grad.numpy(), rtol=rtol,
                                      atol=1e-12, err_msg=name)


@pytest.mark.parametrize("kind,args,dim,shape", [
    ("Linear", (4, 3), 0, (5, 4)), ("Linear", (4, 3), None, (5, 4)),
    ("Linear", (4, 3), 1, (5, 4)), ("Conv2d", (2, 3, 3), 0, (2, 2, 5, 5)),
    ("Conv1d", (2, 3, 2), 2, (2, 2, 6))], ids=str)
def test_weight_norm_as_torch(kind, args, dim, shape):
    ours, theirs = pair(kind, *args)
    with pytest.warns(FutureWarning, match="parametrizations.weight_norm"):
        cr.nn.utils.weight_norm(ours, dim=dim)
    torch.nn.utils.weight_norm(theirs, dim=dim)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert ours.weight_g.shape == tuple(theirs.weight_g.shape)
    compare(ours, theirs, RNG.standard_normal(shape))
    cr.nn.utils.remove_weight_norm(ours)
    torch.nn.utils.remove_weight_norm(theirs)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    numpy.testing.assert_allclose(ours.weight.numpy(), theirs.weight.detach().numpy(),
                                  rtol=1e-12)
    assert isinstance(ours.weight, cr.nn.Parameter)


@pytest.mark.parametrize("kind,args,shape,options", [
    ("Linear", (4, 3), (5, 4), {}), ("Conv2d", (2, 3, 3), (2, 2, 5, 5), dict(n_power_iterations=3)),
    ("ConvTranspose2d", (2, 3, 3), (2, 2, 4, 4), {}), ("Linear", (6, 2), (3, 6), dict(dim=1))],
    ids=str)
def test_spectral_norm_as_torch_in_training_and_eval(kind, args, shape, options):
    ours, theirs = pair(kind, *args)
    cr.nn.utils.spectral_norm(ours, **options)
    torch.nn.utils.spectral_norm(theirs, **options)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    copy_state(ours, theirs)                        # the same random start for u and v
    for _ in range(3):                              # each training call refines u, v
        compare(ours, theirs, RNG.standard_normal(shape))
        numpy.testing.assert_allclose(ours.weight_u.numpy(), theirs.weight_u.numpy(),
                                      rtol=1e-10)
    ours.eval()
    theirs.eval()
    u = ours.weight_u.numpy().copy()
    compare(ours, theirs, RNG.standard_normal(shape))
    numpy.testing.assert_array_equal(ours.weight_u.numpy(), u)     # frozen in eval
    cr.nn.utils.remove_spectral_norm(ours)
    torch.nn.utils.remove_spectral_norm(theirs)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    numpy.testing.assert_allclose(ours.weight.numpy(), theirs.weight.detach().numpy(),
                                  rtol=1e-10)


def test_removing_what_is_not_there_is_a_value_error_as_torch():
    for m in (cr, torch):
        layer = m.nn.Linear(2, 2)
        with pytest.raises(ValueError, match="weight_norm of 'weight' not found"):
            m.nn.utils.remove_weight_norm(layer)
        with pytest.raises(ValueError, match="spectral_norm of 'weight' not found"):
            m.nn.utils.remove_spectral_norm(layer)


def batchnorm_pair(kind, channels):
    ours, theirs = pair(kind, channels)
    state = {"weight": RNG.uniform(0.5, 2, channels), "bias": RNG.standard_normal(channels),
             "running_mean": RNG.standard_normal(channels),
             "running_var": RNG.uniform(0.5, 2, channels)}
    for name, value in state.items():
        getattr(ours, name).array[...] = value
        with torch.no_grad():
            getattr(theirs, name).copy_(torch.tensor(value))
    return ours.eval(), theirs.eval()


@pytest.mark.parametrize("kind,args,transpose,shape", [
    ("Conv2d", (2, 3, 3), False, (2, 2, 5, 5)), ("Conv1d", (2, 4, 2), False, (3, 2, 6)),
    ("ConvTranspose2d", (2, 3, 3), True, (2, 2, 4, 4))], ids=str)
def test_fuse_conv_bn_eval_as_torch(kind, args, transpose, shape):
    ours_conv, theirs_conv = pair(kind, *args)
    bn_kind = "BatchNorm2d" if "2d" in kind else "BatchNorm1d"
    ours_bn, theirs_bn = batchnorm_pair(bn_kind, args[1])
    x = RNG.standard_normal(shape)
    ours = cr.nn.utils.fuse_conv_bn_eval(ours_conv.eval(), ours_bn, transpose=transpose)
    theirs = torch.nn.utils.fuse_conv_bn_eval(theirs_conv.eval(), theirs_bn,
                                              transpose=transpose)
    numpy.testing.assert_allclose(ours.weight.numpy(), theirs.weight.detach().numpy(),
                                  rtol=1e-12)
    numpy.testing.assert_allclose(ours(cr.tensor(x)).numpy(),
                                  ours_bn(ours_conv(cr.tensor(x))).numpy(), rtol=1e-9,
                                  atol=1e-12)
    assert ours is not ours_conv and ours.weight.requires_grad


def test_fuse_linear_bn_eval_as_torch_and_their_checks():
    ours_linear, theirs_linear = pair("Linear", 4, 3)
    ours_bn, theirs_bn = batchnorm_pair("BatchNorm1d", 3)
    ours = cr.nn.utils.fuse_linear_bn_eval(ours_linear.eval(), ours_bn)
    theirs = torch.nn.utils.fuse_linear_bn_eval(theirs_linear.eval(), theirs_bn)
    x = RNG.standard_normal((5, 4))
    numpy.testing.assert_allclose(ours(cr.tensor(x)).numpy(),
                                  theirs(torch.tensor(x)).detach().numpy(), rtol=1e-12)
    weight, bias = cr.nn.utils.fuse_linear_bn_weights(
        ours_linear.weight, None, ours_bn.running_mean, ours_bn.running_var, ours_bn.eps,
        ours_bn.weight, ours_bn.bias)
    assert not bias.requires_grad and weight.requires_grad
    with pytest.raises(AssertionError, match="Fusion only for eval"):
        cr.nn.utils.fuse_linear_bn_eval(ours_linear.train(), ours_bn)
    with pytest.raises(AssertionError, match="out_features must equal"):
        cr.nn.utils.fuse_linear_bn_eval(ours_linear.eval(), batchnorm_pair("BatchNorm1d",
                                                                         2)[0])
