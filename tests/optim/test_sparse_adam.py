"""SparseAdam against torch.optim.SparseAdam on Embedding(sparse=True) gradients."""
from __future__ import annotations

import numpy as np
import pytest
import torch

import chainrule as cr


@pytest.mark.parametrize("kw", [dict(), dict(lr=0.05, betas=(0.5, 0.8), eps=1e-6),
                                dict(lr=0.01, maximize=True)])
def test_matches_torch_step_for_step(kw):
    table = np.random.default_rng(0).standard_normal((10, 3))
    ours = cr.nn.Embedding(10, 3, sparse=True).double()
    ours.weight.data = cr.tensor(table.copy())
    theirs = torch.nn.Embedding(10, 3, sparse=True).double()
    theirs.weight.data = torch.tensor(table.copy())
    opt, topt = cr.optim.SparseAdam(ours.parameters(), **kw), \
        torch.optim.SparseAdam(theirs.parameters(), **kw)
    rng = np.random.default_rng(1)
    for _ in range(12):
        ids = rng.integers(0, 10, size=(4, 2))
        w = rng.standard_normal((4, 2, 3))
        opt.zero_grad(), topt.zero_grad()
        (ours(cr.tensor(ids)) * cr.tensor(w)).sum().backward()
        (theirs(torch.tensor(ids)) * torch.tensor(w)).sum().backward()
        opt.step(), topt.step()
    np.testing.assert_allclose(ours.weight.numpy(), theirs.weight.detach().numpy(),
                               rtol=1e-10, atol=1e-12)
    state, tstate = opt.state[ours.weight], topt.state[theirs.weight]
    np.testing.assert_allclose(state["exp_avg_sq"].numpy(), tstate["exp_avg_sq"].numpy(),
                               rtol=1e-10, atol=1e-14)


def test_dense_gradients_are_refused_like_torch():
    p = cr.zeros(3, requires_grad=True)
    p.grad = cr.ones(3)
    with pytest.raises(RuntimeError, match="does not support dense gradients"):
        cr.optim.SparseAdam([p]).step()
