"""`torch.func` (chainrule/func.py): the transforms give PyTorch's values."""
import numpy
import pytest
import torch

import chainrule as cr

X = numpy.array([1.0, 2.0, 3.0])
CUBE = lambda x: (x ** 3).sum()  # noqa: E731

CALLS = {
    "grad": lambda m: m.func.grad(CUBE)(m.tensor(X)),
    "grad_and_value": lambda m: m.func.grad_and_value(CUBE)(m.tensor(X))[1],
    "grad of grad": lambda m: m.func.grad(lambda x: m.func.grad(CUBE)(x).sum())(m.tensor(X)),
    "grad argnums": lambda m: m.func.grad(lambda w, b: (w * m.tensor(X) + b).sum(),
                                          argnums=(0, 1))(m.ones(3), m.tensor(1.0))[1],
    "grad has_aux": lambda m: m.func.grad(lambda x: (CUBE(x), x.mean()), has_aux=True)(
        m.tensor(X))[1],
    "vmap": lambda m: m.func.vmap(lambda v: (v * v).sum())(m.ones(4, 3)),
    "vmap two": lambda m: m.vmap(m.dot)(m.ones(2, 3), m.ones(2, 3) * 2),
    "vmap shared": lambda m: m.func.vmap(lambda a, b: a * b, in_dims=(0, None))(
        m.ones(2, 3), m.tensor(X)),
    "vmap in_dims 1": lambda m: m.func.vmap(lambda a: a.sum(0), in_dims=1)(
        m.arange(6.0).reshape(2, 3)),
    "vmap out_dims 1": lambda m: m.func.vmap(lambda a: a * 2, out_dims=1)(
        m.arange(6.0).reshape(2, 3)),
    "vmap of grad": lambda m: m.func.vmap(m.func.grad(CUBE))(m.arange(6.0).reshape(2, 3)),
    "jacrev": lambda m: m.func.jacrev(lambda x: x.sin())(m.tensor(X)),
    "jacfwd": lambda m: m.func.jacfwd(lambda x: x ** 2)(m.tensor(X)),
    "hessian": lambda m: m.func.hessian(CUBE)(m.tensor(X)),
}


@pytest.mark.parametrize("name", CALLS)
def test_values_match_pytorch(name):
    ours, theirs = CALLS[name](cr), CALLS[name](torch)
    numpy.testing.assert_allclose(ours.detach().numpy(), theirs.detach().numpy(), rtol=1e-6)
    assert ours.shape == theirs.shape


def test_functional_call_uses_the_given_tensors_and_leaves_the_module_alone():
    model = cr.nn.Sequential(cr.nn.Linear(3, 2), cr.nn.ReLU(), cr.nn.Linear(2, 1))
    before = {k: v.detach().numpy().copy() for k, v in model.state_dict().items()}
    ones = {k: cr.ones_like(v) for k, v in model.named_parameters()}
    out = cr.func.functional_call(model, ones, (cr.tensor(X, dtype=cr.float32),))
    numpy.testing.assert_allclose(out.detach().numpy(), [2 * (X.sum() + 1) + 1])
    for k, v in model.state_dict().items():
        numpy.testing.assert_array_equal(v.numpy(), before[k])
    with pytest.raises(KeyError, match="no parameter or buffer '0.scale'"):
        cr.func.functional_call(model, {"0.scale": cr.ones(1)}, (cr.ones(3),))
