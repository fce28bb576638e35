"""Muon against torch.optim.Muon, and swap_in_optimizer_params_and_state against torch's."""
from __future__ import annotations

from unittest import mock

import numpy as np
import pytest
import torch

import chainrule as cr
import chainrule.optim as optim

SHAPES = [(3, 5), (6, 2), (4, 4)]          # wide, tall (iterated transposed) and square

MUON_CASES = [
    dict(),
    dict(lr=0.02, momentum=0.9, nesterov=False, weight_decay=0.0),
    dict(lr=0.01, weight_decay=0.2, adjust_lr_fn="match_rms_adamw", ns_steps=3),
    dict(lr=0.01, adjust_lr_fn="original", ns_coefficients=(2.0, -1.5, 0.5), eps=1e-5),
]


def _params(seed=0):
    rng = np.random.default_rng(seed)
    arrays = [rng.standard_normal(s) for s in SHAPES]
    return ([cr.tensor(a, requires_grad=True) for a in arrays],
            [torch.tensor(a, requires_grad=True) for a in arrays])


def _run(kw, steps=8):
    ours, theirs = _params()
    opt, topt = optim.Muon(ours, **kw), torch.optim.Muon(theirs, **kw)
    for step in range(steps):
        rng = np.random.default_rng([1, step])
        for p, q in zip(ours, theirs):
            g = rng.standard_normal(p.shape)
            p.grad, q.grad = cr.tensor(g), torch.tensor(g)
        opt.step()
        topt.step()
    return ours, theirs, opt, topt


@pytest.mark.parametrize("kw", MUON_CASES, ids=str)
def test_muon_matches_torch_when_torch_iterates_in_full_precision(kw):
    # torch rounds the Newton-Schulz iteration to bfloat16; with that cast made
    # a copy in full precision, both compute the same numbers in float64
    with mock.patch.object(torch.Tensor, "bfloat16", lambda self: self.clone()):
        ours, theirs, opt, topt = _run(kw)
    for p, q in zip(ours, theirs):
        np.testing.assert_allclose(p.numpy(), q.detach().numpy(), rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(opt.state[p]["momentum_buffer"].numpy(),
                                   topt.state[q]["momentum_buffer"].numpy(), rtol=1e-10)
        assert set(opt.state[p]) == set(topt.state[q])


def test_muon_follows_torch_in_bfloat16_within_its_rounding():
    ours, theirs, _, _ = _run(dict(lr=0.05))
    start, _ = _params()
    for p, q, p0 in zip(ours, theirs, start):
        moved = np.abs(q.detach().numpy() - p0.numpy()).max()
        assert np.abs(p.numpy() - q.detach().numpy()).max() < 0.03 * moved


def test_orthogonalised_update_has_singular_values_near_one():
    m = np.random.default_rng(2).standard_normal((8, 5))
    singular = np.linalg.svd(optim.muon.orthogonalise(m, optim.muon.NS_COEFFICIENTS, 5,
                                                      1e-7), compute_uv=False)
    assert singular.min() > 0.5 and singular.max() < 1.5    # Uniform(0.5, 1.5)-ish, as Muon


def test_muon_refuses_what_torch_refuses():
    with pytest.raises(ValueError, match="only supports 2D parameters"):
        optim.Muon([cr.zeros(3, requires_grad=True)])
    with pytest.raises(ValueError, match="not supported"):
        optim.Muon([cr.zeros(2, 2, requires_grad=True)], adjust_lr_fn="other")
    with pytest.raises(ValueError, match="momentum"):
        optim.Muon([cr.zeros(2, 2, requires_grad=True)], momentum=-1)


def _adam(m, seed):
    rng = np.random.default_rng(seed)
    params = {n: m.tensor(rng.standard_normal(s), requires_grad=True)
              for n, s in (("w", (2, 3)), ("b", (3,)))}
    opt = m.optim.Adam(list(params.values()), lr=0.1)
    for p in params.values():
        p.grad = m.ones(p.shape, dtype=p.dtype)
    opt.step()
    return params, opt


def test_swap_in_steps_other_parameters_and_state_then_restores_as_torch():
    results = []
    for m in (cr, torch):
        params, opt = _adam(m, 0)
        other, other_opt = _adam(m, 1)
        saved = other_opt.state_dict()
        saved["param_groups"][0]["lr"] = 0.5
        before = {n: p.detach().numpy().copy() for n, p in params.items()}
        with m.optim.swap_in_optimizer_params_and_state(opt, other, saved):
            for p in other.values():
                p.grad = m.full(p.shape, 2.0, dtype=p.dtype)
            opt.step()
            assert opt.param_groups[0]["lr"] == 0.5
        assert opt.param_groups[0]["lr"] == 0.1 and opt.param_groups[0]["params"][0] is \
            params["w"]
        for n, p in params.items():
            np.testing.assert_array_equal(p.detach().numpy(), before[n])
        results.append(([p.detach().numpy() for p in other.values()],
                        saved["state"][0]["exp_avg"].numpy().copy(),
                        opt.state[params["w"]]["step"]))
    ours, theirs = results
    for a, b in zip(ours[0], theirs[0]):
        np.testing.assert_allclose(a, b, rtol=1e-12)
    np.testing.assert_allclose(ours[1], theirs[1], rtol=1e-12)   # in-place edits seen
    assert float(ours[2]) == float(theirs[2]) == 1.0


def test_swap_in_refuses_a_state_that_does_not_fit():
    params, opt = _adam(cr, 0)
    good = opt.state_dict()
    with pytest.raises(RuntimeError, match="param group 0"):
        bad = {"state": good["state"], "param_groups": [{"params": [0]}]}
        with optim.swap_in_optimizer_params_and_state(opt, params, bad):
            pass
    with pytest.raises(RuntimeError, match="no param group lists"):
        bad = {"state": {**good["state"], 7: {}}, "param_groups": good["param_groups"]}
        with optim.swap_in_optimizer_params_and_state(opt, params, bad):
            pass
    fresh = optim.SGD([cr.zeros(1, requires_grad=True)], lr=0.1)
    with pytest.raises(RuntimeError, match="initialized optimizer state"):
        with optim.swap_in_optimizer_params_and_state(fresh, {}, good):
            pass


def test_optimizer_signatures_have_torchs_parameters_in_its_order():
    # scripts probe them: nanoGPT asks inspect.signature(AdamW) for "fused"
    import inspect
    for name in ("SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "Adadelta", "Adafactor",
                 "Muon"):
        theirs = inspect.signature(getattr(torch.optim, name)).parameters
        ours = inspect.signature(getattr(optim, name)).parameters
        assert set(theirs) <= set(ours), name
        positional = [n for n, p in theirs.items() if p.kind is p.POSITIONAL_OR_KEYWORD]
        assert positional == [n for n, p in ours.items()
                              if p.kind is p.POSITIONAL_OR_KEYWORD], name
    layer = cr.nn.Linear(2, 2)
    optim.AdamW(layer.parameters(), lr=1e-3, betas=(0.9, 0.95), fused=False).step()
