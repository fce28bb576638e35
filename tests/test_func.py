"""torch.func (chainrule/func.py): the transforms and functional_call against torch's, on
the programs PyTorch's own tutorials write (per-example gradients, model ensembles)."""
from __future__ import annotations

import numpy
import pytest
import torch

import chainrule as cr

RNG = numpy.random.default_rng(0)
X = RNG.standard_normal((5, 3))
W = RNG.standard_normal((2, 3))
B = RNG.standard_normal(2)
Y = numpy.array([0, 1, 1, 0, 1])


def _model(lib):
    lib.manual_seed(0)
    model = lib.nn.Sequential(lib.nn.Linear(3, 2), lib.nn.Tanh(), lib.nn.Linear(2, 2))
    model.double()
    with lib.no_grad():
        model[0].weight.copy_(lib.tensor(W))
        model[0].bias.copy_(lib.tensor(B))
        model[2].weight.copy_(lib.tensor(W[:, :2].T @ W[:, :2]))
        model[2].bias.zero_()
    return model


def _close(ours, theirs):
    if isinstance(ours, dict):
        assert ours.keys() == theirs.keys()
        for k in ours:
            _close(ours[k], theirs[k])
    elif isinstance(ours, (tuple, list)):
        assert len(ours) == len(theirs)
        for a, b in zip(ours, theirs):
            _close(a, b)
    else:
        numpy.testing.assert_allclose(ours.detach().numpy(), theirs.detach().numpy(),
                                      rtol=1e-10, atol=1e-12)


def test_per_example_gradients_with_vmap_grad_and_functional_call():
    def run(lib):
        model = _model(lib)
        params = {k: v.detach() for k, v in model.named_parameters()}

        def loss(params, x, y):
            out = lib.func.functional_call(model, params, (x.unsqueeze(0),))
            return lib.nn.functional.cross_entropy(out, y.unsqueeze(0))
        grads = lib.func.vmap(lib.func.grad(loss), in_dims=(None, 0, 0))(
            params, lib.tensor(X), lib.tensor(Y))
        return grads, model[0].weight  # the model's own weight is back after the calls
    ours, theirs = run(cr), run(torch)
    _close(ours, theirs)
    assert ours[0]["0.weight"].shape == (5, 2, 3)


def test_jacrev_hessian_vjp_jvp_and_grad_and_value():
    def run(lib):
        def f(x, y):
            return (x.sin() * y).sum()

        def g(x):
            return x.exp() * x
        x, y = lib.tensor(X[0]), lib.tensor(X[1])
        (gx, gy), value = lib.func.grad_and_value(f, argnums=(0, 1))(x, y)
        out, vjp_fn = lib.func.vjp(g, x)
        (cotangent_grad,) = vjp_fn(lib.ones_like(out))
        _, tangent_out = lib.func.jvp(g, (x,), (lib.ones_like(x),))
        return (gx, gy, value, lib.func.jacrev(g)(x), lib.func.jacfwd(g)(x),
                lib.func.hessian(f)(x, y), cotangent_grad, tangent_out,
                # grad of grad: d/dv Σ 3v² = 6v
                lib.func.grad(lambda v: lib.func.grad(lambda u: (u ** 3).sum())(v).sum())(x))
    _close(run(cr), run(torch))


def test_grad_with_aux_and_its_errors():
    def run(lib):
        def f(x):
            return (x * x).sum(), x.mean()
        return lib.func.grad(f, has_aux=True)(lib.tensor(X[0]))
    _close(run(cr), run(torch))
    with pytest.raises(RuntimeError, match="one element"):
        cr.func.grad(lambda x: x * 2)(cr.tensor(X[0]))
    with pytest.raises(ValueError, match="one size"):
        cr.func.vmap(lambda a, b: a + b)(cr.ones(2), cr.ones(3))


def test_vmap_in_and_out_dims_and_nested_outputs():
    def run(lib):
        def f(a, b):
            return {"sum": a + b, "pair": (a * 2, b.sum())}
        a, b = lib.tensor(X), lib.tensor(X[:, :1].T.copy())
        return (lib.func.vmap(f, in_dims=(0, 1))(a, b),
                lib.vmap(lambda m: m.sum(0), in_dims=1, out_dims=0)(a))
    _close(run(cr), run(torch))


def test_functional_call_ties_weights_and_checks_keys():
    def run(lib):
        shared = lib.nn.Linear(2, 2, bias=False).double()
        model = lib.nn.Sequential(shared, lib.nn.ReLU(), shared)
        x = lib.tensor(X[:2, :2])
        new = {"0.weight": lib.tensor(W[:, :2])}
        tied = lib.func.functional_call(model, new, x)
        untied = lib.func.functional_call(model, new, (x,), tie_weights=False)
        return tied, untied
    _close(run(cr), run(torch))
    model = cr.nn.Linear(2, 2)
    with pytest.raises(ValueError, match="multiple values"):
        cr.func.functional_call(model, ({"bias": cr.zeros(2)}, {"bias": cr.ones(2)}), cr.ones(2))
    with pytest.raises(RuntimeError, match="missing keys"):
        cr.func.functional_call(model, {"bias": cr.zeros(2)}, cr.ones(2), strict=True)


def test_an_ensemble_through_stack_module_state_and_vmap():
    def run(lib):
        models = [_model(lib) for _ in range(3)]
        with lib.no_grad():
            for k, m in enumerate(models):
                m[2].bias.fill_(k)
        params, buffers = lib.func.stack_module_state(models)

        def call(params, buffers, x):
            return lib.func.functional_call(models[0], (params, buffers), (x,))
        out = lib.func.vmap(call, in_dims=(0, 0, None))(params, buffers, lib.tensor(X))
        return out, params["2.bias"].requires_grad
    ours, theirs = run(cr), run(torch)
    _close(ours[0], theirs[0])
    assert ours[1] is theirs[1] is True


def test_linearize_and_batch_norms_without_running_statistics():
    def run(lib):
        _, jvp_fn = lib.func.linearize(lambda v: v.sin() * v, lib.tensor(X[0]))
        net = lib.nn.Sequential(lib.nn.Linear(3, 2), lib.nn.BatchNorm1d(2)).double()
        lib.func.replace_all_batch_norm_modules_(net)
        return jvp_fn(lib.ones(3, dtype=lib.float64)), net[1].running_mean is None, \
            net[1].track_running_stats
    ours, theirs = run(cr), run(torch)
    _close(ours[0], theirs[0])
    assert ours[1:] == theirs[1:] == (True, False)


def test_functional_call_with_other_names_and_transforms_refusing_what_they_cannot_do():
    model = cr.nn.Linear(2, 2)
    seen = []
    model.register_forward_pre_hook(lambda m, args: seen.append((m.extra, m.training)))
    out = cr.func.functional_call(model, {"extra": cr.zeros(1), "training": False},
                                  (cr.ones(1, 2),))
    assert out.shape == (1, 2) and seen[0][1] is False and seen[0][0].shape == (1,)
    assert not hasattr(model, "extra") and model.training is True  # both put back
    with pytest.raises(ValueError, match="size 0"):
        cr.func.vmap(lambda x: x.sum())(cr.ones(0, 3))
    with pytest.raises(RuntimeError, match="floating point"):
        cr.func.grad(lambda x: x.sum())(cr.ones(2, dtype=cr.int64))
