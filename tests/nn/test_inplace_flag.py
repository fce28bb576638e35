"""`inplace=True` on the activations and dropouts, against PyTorch: the input itself is
overwritten and returned, its version moves (a value saved for backward is then refused),
a leaf that requires grad refuses, and inside the graph the gradient is PyTorch's."""
from __future__ import annotations

import numpy
import pytest
import torch

import chainrule as cr
from chainrule import versions

VALUES = numpy.array([-2.5, -0.7, -0.2, 0.3, 0.9, 4.2])

# (F name, extra positional arguments, module name, module arguments)
ACTIVATIONS = [
    ("relu", (), "ReLU", ()),
    ("leaky_relu", (0.2,), "LeakyReLU", (0.2,)),
    ("elu", (0.7,), "ELU", (0.7,)),
    ("selu", (), "SELU", ()),
    ("celu", (1.3,), "CELU", (1.3,)),
    ("silu", (), "SiLU", ()),
    ("mish", (), "Mish", ()),
    ("hardtanh", (-0.5, 0.5), "Hardtanh", (-0.5, 0.5)),
    ("relu6", (), "ReLU6", ()),
    ("hardsigmoid", (), "Hardsigmoid", ()),
    ("hardswish", (), "Hardswish", ()),
    ("threshold", (0.1, -1.0), "Threshold", (0.1, -1.0)),
]


def _pair(requires_grad=False):
    return (cr.tensor(VALUES, requires_grad=requires_grad),
            torch.tensor(VALUES, requires_grad=requires_grad))


@pytest.mark.parametrize("name, args, module, margs", ACTIVATIONS)
def test_functional_inplace_overwrites_and_returns_the_input(name, args, module, margs):
    ours, theirs = _pair()
    before = versions.version(ours.array)
    result = getattr(cr.nn.functional, name)(ours, *args, inplace=True)
    getattr(torch.nn.functional, name)(theirs, *args, inplace=True)
    assert result is ours
    assert versions.version(ours.array) == before + 1
    numpy.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-12)


@pytest.mark.parametrize("name, args, module, margs", ACTIVATIONS)
def test_module_inplace_overwrites_and_returns_the_input(name, args, module, margs):
    ours, theirs = _pair()
    layer = getattr(cr.nn, module)(*margs, inplace=True)
    assert layer(ours) is ours
    getattr(torch.nn, module)(*margs, inplace=True)(theirs)
    numpy.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-12)
    assert "inplace=True" in repr(layer)
    untouched = cr.tensor(VALUES)
    assert getattr(cr.nn, module)(*margs)(untouched) is not untouched
    numpy.testing.assert_array_equal(untouched.numpy(), VALUES)


@pytest.mark.parametrize("name, args, module, margs", ACTIVATIONS)
def test_inplace_inside_the_graph_gives_pytorchs_gradient(name, args, module, margs):
    (a, at), weights = _pair(requires_grad=True), numpy.linspace(0.5, 2.0, len(VALUES))
    hidden, hidden_t = a * 1.5, at * 1.5
    out = getattr(cr.nn.functional, name)(hidden, *args, inplace=True)
    out_t = getattr(torch.nn.functional, name)(hidden_t, *args, inplace=True)
    assert out is hidden
    (out * cr.tensor(weights)).sum().backward()
    (out_t * torch.tensor(weights)).sum().backward()
    numpy.testing.assert_allclose(a.grad.numpy(), at.grad.numpy(), rtol=1e-6)  # torch's celu_
    # differentiates through its output, off by ~4e-8


@pytest.mark.parametrize("name, args, module, margs", ACTIVATIONS)
def test_a_leaf_that_requires_grad_refuses_as_in_pytorch(name, args, module, margs):
    ours, theirs = _pair(requires_grad=True)
    with pytest.raises(RuntimeError, match="a leaf Variable that requires grad is being used "
                                           "in an in-place operation"):
        getattr(cr.nn.functional, name)(ours, *args, inplace=True)
    with pytest.raises(RuntimeError, match="a leaf Variable that requires grad"):
        getattr(torch.nn.functional, name)(theirs, *args, inplace=True)


def test_the_flag_may_be_given_by_position():
    x = cr.tensor(VALUES)
    assert cr.nn.functional.relu(x, True) is x
    assert (x.numpy() >= 0).all()


def test_a_value_saved_for_backward_then_changed_in_place_is_refused():
    w, x = cr.ones(6, requires_grad=True), cr.tensor(VALUES)
    loss = (w * x).sum()
    cr.nn.functional.relu(x, inplace=True)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        loss.backward()


def test_residual_block_with_inplace_relu_matches_torch():
    """The ResNet pattern: out = relu(bn(conv(x)) + x, inplace) in training."""
    rng = numpy.random.default_rng(1)
    x, weight = rng.standard_normal((2, 3, 5, 5)), rng.standard_normal((3, 3, 3, 3)) * 0.3
    grads = []
    for lib in (cr, torch):
        conv = lib.nn.Conv2d(3, 3, 3, padding=1, bias=False).double()
        with lib.no_grad():
            conv.weight.copy_(lib.tensor(weight))
        block = lib.nn.Sequential(conv, lib.nn.BatchNorm2d(3).double(), lib.nn.ReLU(inplace=True))
        relu = lib.nn.ReLU(inplace=True)
        inputs = lib.tensor(x, requires_grad=True)
        out = relu(block(inputs) + inputs)
        (out ** 2).sum().backward()
        grads.append((out.detach().numpy(), inputs.grad.numpy(), conv.weight.grad.numpy()))
    for ours, theirs in zip(*grads):
        numpy.testing.assert_allclose(ours, theirs, rtol=1e-8, atol=1e-10)


@pytest.mark.parametrize("name, module, shape", [
    ("dropout", "Dropout", (4, 6)), ("dropout1d", "Dropout1d", (2, 4, 6)),
    ("dropout2d", "Dropout2d", (2, 4, 3, 3)), ("dropout3d", "Dropout3d", (2, 4, 2, 2, 2)),
    ("alpha_dropout", "AlphaDropout", (4, 6)),
    ("feature_alpha_dropout", "FeatureAlphaDropout", (2, 4, 3, 3))])
def test_dropouts_inplace(name, module, shape):
    x = cr.ones(*shape, dtype=cr.float64)
    assert getattr(cr.nn.functional, name)(x, 0.5, True, True) is x
    kept = x.numpy()
    assert ((kept == 0) | (kept == 2)).all() if "alpha" not in name else (kept != 1).all()
    layer = getattr(cr.nn, module)(0.5, inplace=True)
    x = cr.ones(*shape)
    assert layer(x) is x and (x.numpy() != 1).any()
    layer.eval()
    x = cr.ones(*shape)
    assert layer(x) is x and (x.numpy() == 1).all()
    assert "inplace=True" in repr(layer)


def test_rrelu_inplace():
    x = cr.tensor(VALUES)
    assert cr.nn.functional.rrelu(x, 0.1, 0.3, False, True) is x
    numpy.testing.assert_allclose(x.numpy(), numpy.where(VALUES > 0, VALUES, VALUES * 0.2))
    layer = cr.nn.RReLU(inplace=True)
    x = cr.tensor(VALUES)
    assert layer(x) is x


def test_inplace_flag_by_position_and_explicitly_false():
    ours, theirs = _pair()
    assert cr.nn.functional.relu(ours, True) is ours  # F.relu(input, inplace)
    torch.nn.functional.relu(theirs, True)
    numpy.testing.assert_array_equal(ours.numpy(), theirs.numpy())
    kept = cr.tensor(VALUES)
    assert cr.nn.functional.leaky_relu(kept, 0.2, False) is not kept
    assert cr.nn.functional.leaky_relu(kept, negative_slope=0.2, inplace=False) is not kept
    numpy.testing.assert_array_equal(kept.numpy(), VALUES)
    with pytest.raises(TypeError):
        cr.nn.functional.relu(kept, no_such_argument=1)
