"""LBFGS against torch.optim.LBFGS: the same closure, the same iterates, step for step."""
import numpy as np
import pytest
import torch

import chainrule as cr
import chainrule.optim as optim
from chainrule.optim.line_search import cubic_minimum


def rosenbrock(lib, xy):
    x, y = xy[0], xy[1]
    return (1 - x) ** 2 + 100 * (y - x * x) ** 2


def logistic_problem(lib, w, b, data):
    x, y = data
    logits = x @ w + b
    return (lib.nn.functional.binary_cross_entropy_with_logits(logits, y)
            + 0.01 * (w * w).sum())


def run(lib, problem, start, steps, **kw):
    params = [lib.tensor(a.copy(), requires_grad=True) for a in start]
    opt = (optim.LBFGS if lib is cr else torch.optim.LBFGS)(params, **kw)
    history = []

    def closure():
        opt.zero_grad()
        loss = problem(lib, *params)
        loss.backward()
        return loss

    for _ in range(steps):
        history.append(opt.step(closure).item())
        history.append([p.detach().numpy().copy() for p in params])
    state = opt.state[params[0]]
    return history, state["func_evals"], state["n_iter"]


def data_for(lib, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((40, 3))
    y = (x @ np.array([1.0, -2.0, 0.5]) + 0.3 * rng.standard_normal(40) > 0).astype(float)
    return lib.tensor(x), lib.tensor(y)


PROBLEMS = {
    "rosenbrock": (rosenbrock, [np.array([-1.2, 1.0])]),
    "logistic": (None, [np.zeros(3), np.zeros(())]),
}


@pytest.mark.parametrize("line_search_fn", [None, "strong_wolfe"])
@pytest.mark.parametrize("name", PROBLEMS)
@pytest.mark.parametrize("kw", [dict(), dict(lr=0.5, max_iter=7, history_size=3)])
def test_iterates_match_torch(name, line_search_fn, kw):
    problem, start = PROBLEMS[name]
    results = []
    for lib in (cr, torch):
        if name == "logistic":
            data = data_for(lib)

            def problem(lib, w, b, data=data):
                return logistic_problem(lib, w, b, data)
        results.append(run(lib, problem, start, steps=4, line_search_fn=line_search_fn,
                           **({"lr": 0.1} if line_search_fn is None and name == "rosenbrock"
                              and not kw else {}), **kw))
    (ours, our_evals, our_iters), (theirs, their_evals, their_iters) = results
    assert (our_evals, our_iters) == (their_evals, their_iters)
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(np.concatenate([np.ravel(x) for x in a]) if isinstance(a, list)
                                   else a,
                                   np.concatenate([np.ravel(x) for x in b]) if isinstance(b, list)
                                   else b, rtol=1e-7, atol=1e-9)


def test_strong_wolfe_minimises_rosenbrock():
    history, _, _ = run(cr, rosenbrock, [np.array([-1.2, 1.0])], steps=5,
                        line_search_fn="strong_wolfe", max_iter=50)
    np.testing.assert_allclose(history[-1][0], [1.0, 1.0], atol=1e-4)


def test_cubic_minimum():
    # f = (x - 1)^2 from x=0 (f=1, f'=-2) and x=3 (f=4, f'=4): the minimum is at 1
    assert cubic_minimum(0, 1, -2, 3, 4, 4) == pytest.approx(1.0)
    assert cubic_minimum(0, 1, -2, 3, 4, 4, bounds=(2, 3)) == 2


def test_argument_errors():
    p = cr.zeros(2, requires_grad=True)
    with pytest.raises(ValueError, match="line_search_fn"):
        optim.LBFGS([p], line_search_fn="armijo")
    with pytest.raises(ValueError, match="parameter groups"):
        optim.LBFGS([{"params": [p]}, {"params": [cr.zeros(1, requires_grad=True)]}])
