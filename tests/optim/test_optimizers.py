"""chainrule.optim against torch.optim: same parameters, same gradients, same numbers."""
from __future__ import annotations

import copy
import warnings

import numpy as np
import pytest

import chainrule as cr
import chainrule.optim as optim

torch = pytest.importorskip("torch")

SHAPES = [(3, 4), (5,), ()]
CASES = [
    (optim.SGD, dict(lr=0.1)),
    (optim.SGD, dict(lr=0.1, momentum=0.9)),
    (optim.SGD, dict(lr=0.05, momentum=0.9, dampening=0.3, weight_decay=0.01)),
    (optim.SGD, dict(lr=0.05, momentum=0.9, nesterov=True, weight_decay=0.1)),
    (optim.SGD, dict(lr=0.1, momentum=0.5, maximize=True)),
    (optim.Adam, dict()),
    (optim.Adam, dict(lr=0.01, betas=(0.8, 0.99), weight_decay=0.1)),
    (optim.Adam, dict(lr=0.01, amsgrad=True)),
    (optim.Adam, dict(lr=0.02, amsgrad=True, weight_decay=0.05, maximize=True, eps=1e-6)),
    (optim.Adam, dict(lr=0.01, weight_decay=0.1, decoupled_weight_decay=True)),
    (optim.Adam, dict(lr=0.01, betas=(0.3, 0.4))),  # lerp's other rounding branch
    (optim.AdamW, dict(lr=0.01)),
    (optim.AdamW, dict(lr=0.01, weight_decay=0.1, amsgrad=True)),
    (optim.RMSprop, dict()),
    (optim.RMSprop, dict(lr=0.01, momentum=0.9)),
    (optim.RMSprop, dict(lr=0.01, centered=True)),
    (optim.RMSprop, dict(lr=0.01, centered=True, momentum=0.5, weight_decay=0.1, alpha=0.9)),
    (optim.RMSprop, dict(lr=0.01, centered=True, alpha=0.3, maximize=True)),
    (optim.Adagrad, dict()),
    (optim.Adagrad, dict(lr=0.1, lr_decay=0.01, weight_decay=0.1,
                         initial_accumulator_value=0.1, eps=1e-6)),
    (optim.Adagrad, dict(lr=0.1, maximize=True)),
    (optim.Adadelta, dict()),
    (optim.Adadelta, dict(lr=0.5, rho=0.5, eps=1e-4, weight_decay=0.1, maximize=True)),
    (optim.Adamax, dict()),
    (optim.Adamax, dict(lr=0.01, betas=(0.5, 0.9), weight_decay=0.1, maximize=True)),
    (optim.NAdam, dict()),
    (optim.NAdam, dict(lr=0.01, weight_decay=0.1, momentum_decay=0.01)),
    (optim.NAdam, dict(lr=0.01, weight_decay=0.1, decoupled_weight_decay=True, maximize=True)),
    (optim.RAdam, dict()),
    (optim.RAdam, dict(lr=0.01, betas=(0.5, 0.6), weight_decay=0.1)),  # rectified early
    (optim.RAdam, dict(lr=0.01, weight_decay=0.1, decoupled_weight_decay=True, maximize=True)),
    (optim.ASGD, dict()),
    (optim.ASGD, dict(lr=0.05, lambd=0.01, alpha=0.5, t0=5, weight_decay=0.1)),
    (optim.ASGD, dict(lr=0.05, t0=0, maximize=True)),
    (optim.Rprop, dict()),
    (optim.Rprop, dict(lr=0.05, etas=(0.3, 1.5), step_sizes=(1e-3, 0.2), maximize=True)),
    (optim.Adafactor, dict()),
    (optim.Adafactor, dict(lr=0.5, d=1.5)),                  # rho = 1/sqrt(t), clipped steps
    (optim.Adafactor, dict(lr=0.05, beta2_decay=-0.5, eps=(1e-4, 1e-2), weight_decay=0.1,
                           maximize=True)),
]


def _ids(case):
    cls, kw = case
    return cls.__name__ + "(" + ",".join(f"{k}={v}" for k, v in kw.items()) + ")"


def _torch_cls(cls):
    return getattr(torch.optim, cls.__name__)


def _make_params(seed=0, dtype=np.float64):
    rng = np.random.default_rng(seed)
    arrays = [rng.standard_normal(s).astype(dtype) for s in SHAPES]
    ours = [cr.tensor(a.copy(), requires_grad=True) for a in arrays]
    theirs = [torch.tensor(a.copy(), requires_grad=True) for a in arrays]
    return ours, theirs


def _grads(step, seed=1):
    rng = np.random.default_rng([seed, step])
    return [rng.standard_normal(s) for s in SHAPES]


def _set_grads(ours, theirs, grads, skip=()):
    for i, (p, q, g) in enumerate(zip(ours, theirs, grads)):
        if i in skip:
            p.grad, q.grad = None, None
        else:
            p.grad = cr.as_tensor(g.copy())
            q.grad = torch.tensor(g.copy())


def _assert_params_close(ours, theirs, atol=1e-10):
    for p, q in zip(ours, theirs):
        np.testing.assert_allclose(p.array, q.detach().numpy(), rtol=1e-10, atol=atol)


def _skip_for(step):
    """Some steps leave a parameter without a gradient: it must be skipped (no update,
    no state change), also before its very first update."""
    return {2} if step in (0, 1, 7) else ({0} if step == 13 else ())


@pytest.mark.parametrize("case", CASES, ids=_ids)
def test_matches_torch_over_20_steps(case):
    cls, kw = case
    ours, theirs = _make_params()
    opt = cls(ours, **kw)
    topt = _torch_cls(cls)(theirs, **kw)
    for step in range(20):
        grads = _grads(step)
        _set_grads(ours, theirs, grads, skip=_skip_for(step))
        opt.step()
        topt.step()
        # the gradients are read, never written
        for _i, (p, g) in enumerate(zip(ours, grads)):
            if p.grad is not None:
                np.testing.assert_array_equal(p.grad.array, g)
        _assert_params_close(ours, theirs)

    # same state, under the same keys
    for p, q in zip(ours, theirs):
        ts = topt.state[q]
        s = opt.state[p]
        assert set(s) == set(ts)
        for key, value in s.items():
            expected = ts[key]
            if key == "step":
                assert value == float(expected)
            else:
                np.testing.assert_allclose(value.array, expected.numpy(), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("cls", [optim.SGD, optim.Adam, optim.AdamW, optim.RMSprop,
                                 optim.Adagrad, optim.Adadelta, optim.Adamax, optim.NAdam,
                                 optim.RAdam, optim.ASGD, optim.Rprop, optim.LBFGS])
def test_defaults_match_torch(cls):
    import inspect
    ours = inspect.signature(cls.__init__).parameters
    theirs = inspect.signature(_torch_cls(cls).__init__).parameters
    for name, param in ours.items():
        if name in ("self", "params"):
            continue
        assert name in theirs, name
        assert param.default == theirs[name].default, name
    # the group's keys are torch's, in torch's order (print(optimizer), state_dict()),
    # its implementation switches (foreach, fused, ...) recorded though they change nothing
    p = torch.zeros(2, requires_grad=True)
    assert list(cls([cr.zeros(2)]).param_groups[0]) == list(_torch_cls(cls)([p]).param_groups[0])


@pytest.mark.parametrize("cls,kw", [
    (optim.SGD, dict(lr=0.1, momentum=0.9)),
    (optim.Adam, dict(lr=0.01, amsgrad=True)),
    (optim.RMSprop, dict(lr=0.01, momentum=0.9, centered=True)),
    (optim.Adagrad, dict(lr=0.1)),
])
def test_param_groups_with_different_hyperparameters(cls, kw):
    ours, theirs = _make_params()

    def groups(ps):
        return [{"params": [ps[0]], "lr": kw["lr"] * 3},
                {"params": ps[1:], "weight_decay": 0.2}]

    opt = cls(groups(ours), **kw)
    topt = _torch_cls(cls)(groups(theirs), **kw)
    assert opt.param_groups[0]["lr"] == kw["lr"] * 3
    assert opt.param_groups[1]["lr"] == kw["lr"]
    assert opt.param_groups[1]["weight_decay"] == 0.2
    for step in range(20):
        _set_grads(ours, theirs, _grads(step))
        opt.step()
        topt.step()
    _assert_params_close(ours, theirs)


def test_add_param_group_matches_torch():
    ours, theirs = _make_params()
    opt = optim.Adam(ours[:1], lr=0.01)
    topt = torch.optim.Adam(theirs[:1], lr=0.01)
    for step in range(20):
        if step == 5:
            opt.add_param_group({"params": ours[1:], "lr": 0.05, "betas": (0.5, 0.9)})
            topt.add_param_group({"params": theirs[1:], "lr": 0.05, "betas": (0.5, 0.9)})
        _set_grads(ours, theirs, _grads(step))
        opt.step()
        topt.step()
    _assert_params_close(ours, theirs)
    assert opt.param_groups[1]["eps"] == 1e-8


def test_adagrad_group_added_later_starts_from_constructor_accumulator():
    # as in torch: state exists from construction; later groups use the defaults' value
    ours, theirs = _make_params()
    opt = optim.Adagrad(ours[:1], lr=0.1, initial_accumulator_value=0.5)
    topt = torch.optim.Adagrad(theirs[:1], lr=0.1, initial_accumulator_value=0.5)
    assert set(opt.state_dict()["state"]) == {0}
    opt.add_param_group({"params": ours[1:]})
    topt.add_param_group({"params": theirs[1:]})
    for step in range(5):
        _set_grads(ours, theirs, _grads(step))
        opt.step()
        topt.step()
    _assert_params_close(ours, theirs)


def test_zero_grad():
    p = cr.tensor(np.ones(3), requires_grad=True)
    q = cr.tensor(np.ones(3), requires_grad=True)
    shared = np.arange(3.0)
    p.grad = cr.as_tensor(shared)
    q.grad = cr.as_tensor(shared)            # gradient arrays may be shared
    opt = optim.SGD([p], lr=0.1)
    grad_tensor = p.grad
    opt.zero_grad(set_to_none=False)
    assert p.grad is grad_tensor
    np.testing.assert_array_equal(p.grad.array, np.zeros(3))
    np.testing.assert_array_equal(q.grad.array, np.arange(3.0))  # not written through
    opt.zero_grad()
    assert p.grad is None
    assert q.grad is not None
    opt.step()                                              # no grads: nothing happens
    np.testing.assert_array_equal(p.array, np.ones(3))


def test_step_with_closure_returns_loss_and_runs_without_grad():
    w = cr.tensor(np.array([1.0, -2.0]), requires_grad=True)
    opt = optim.SGD([w], lr=0.1)

    def closure():
        opt.zero_grad()
        loss = (w * w).sum()
        loss.backward()
        return loss

    loss = opt.step(closure)
    assert float(loss.item()) == pytest.approx(5.0)
    np.testing.assert_allclose(w.array, [0.8, -1.6])
    assert w.grad_fn is None and w.requires_grad


def test_trains_through_autograd_like_torch():
    target = np.array([0.5, -1.0, 2.0])
    w = cr.tensor(np.zeros(3), requires_grad=True)
    tw = torch.zeros(3, dtype=torch.float64, requires_grad=True)
    opt = optim.AdamW([w], lr=0.1)
    topt = torch.optim.AdamW([tw], lr=0.1)
    t = cr.tensor(target)
    tt = torch.tensor(target)
    for _ in range(20):
        opt.zero_grad()
        ((w - t) * (w - t)).sum().backward()
        opt.step()
        topt.zero_grad()
        ((tw - tt) * (tw - tt)).sum().backward()
        topt.step()
    np.testing.assert_allclose(w.array, tw.detach().numpy(), rtol=1e-10, atol=1e-12)


def _state_to_numpy(state_dict):
    """A torch state dict with numpy arrays in place of tensors (as from a file)."""
    sd = copy.deepcopy(state_dict)
    for s in sd["state"].values():
        for k, v in list(s.items()):
            if isinstance(v, torch.Tensor):
                s[k] = v.numpy()
    return sd


@pytest.mark.parametrize("case", [c for c in CASES if c[1] != {}][::2] + [CASES[5]], ids=_ids)
def test_state_dict_round_trip_continues_identically(case):
    cls, kw = case
    ours, theirs = _make_params()
    opt = cls(ours, **kw)
    topt = _torch_cls(cls)(theirs, **kw)
    for step in range(10):
        _set_grads(ours, theirs, _grads(step), skip=_skip_for(step))
        opt.step()
        topt.step()

    sd = opt.state_dict()
    tsd = topt.state_dict()
    # PyTorch's layout: integer ids, the same state keys, the same group keys
    assert set(sd["state"]) == set(tsd["state"])
    for k in sd["state"]:
        assert set(sd["state"][k]) == set(tsd["state"][k])
    for g, tg in zip(sd["param_groups"], tsd["param_groups"]):
        assert g["params"] == tg["params"]
        assert list(g) == list(tg)

    # restore into a fresh optimizer over fresh copies of the parameters
    copies = [cr.tensor(p.array.copy(), requires_grad=True) for p in ours]
    restored = cls(copies, lr=123.0)
    restored.load_state_dict(sd)
    assert restored.param_groups[0]["lr"] == opt.param_groups[0]["lr"]
    # and one restored from torch's own state dict (arrays, as loaded from a file)
    copies2 = [cr.tensor(p.array.copy(), requires_grad=True) for p in ours]
    from_torch = cls(copies2)
    from_torch.load_state_dict(_state_to_numpy(tsd))

    for step in range(10, 20):
        g = _grads(step)
        _set_grads(ours, theirs, g)
        _set_grads(copies, theirs, g)
        _set_grads(copies2, theirs, g)
        for o in (opt, restored, from_torch, topt):
            o.step()
    for a, b, _c in zip(ours, copies, copies2):
        np.testing.assert_array_equal(a.array, b.array)
    _assert_params_close(ours, theirs)
    _assert_params_close(copies2, theirs)  # torch's state continued by chainrule


def test_load_state_dict_copies_and_casts_to_param_dtype():
    p = cr.tensor(np.ones(3), requires_grad=True)
    opt = optim.Adam([p], lr=0.1)
    p.grad = cr.as_tensor(np.ones(3))
    opt.step()
    sd = opt.state_dict()
    q = cr.tensor(np.ones(3, dtype=np.float32), requires_grad=True)
    opt2 = optim.Adam([q], lr=0.1)
    opt2.load_state_dict({"state": {"0": sd["state"][0]}, "param_groups": sd["param_groups"]})
    s = opt2.state[q]
    assert s["exp_avg"].dtype == np.float32 and s["step"] == 1.0
    assert s["exp_avg"].array is not opt.state[p]["exp_avg"].array  # no aliasing
    assert opt2.param_groups[0]["params"][0] is q


def test_load_state_dict_rejects_mismatched_groups():
    a, b = cr.zeros(2), cr.zeros(2)
    sd = optim.SGD([a, b], lr=0.1).state_dict()
    with pytest.raises(ValueError, match="size"):
        optim.SGD([a], lr=0.1).load_state_dict(sd)
    with pytest.raises(ValueError, match="number of parameter groups"):
        optim.SGD([{"params": [a]}, {"params": [b]}], lr=0.1).load_state_dict(sd)


def test_adamw_stays_decoupled_after_loading_an_adam_state_dict():
    a = cr.zeros(2)
    sd = optim.Adam([a], lr=0.1, weight_decay=0.1).state_dict()
    w = optim.AdamW([cr.zeros(2)])
    w.load_state_dict(sd)
    assert w.param_groups[0]["decoupled_weight_decay"] is True


@pytest.mark.parametrize("case", CASES, ids=_ids)
def test_float32_params_stay_float32(case):
    cls, kw = case
    ours, _ = _make_params(dtype=np.float32)
    opt = cls(ours, **kw)
    theirs = [torch.tensor(p.array.copy(), requires_grad=True) for p in ours]
    topt = _torch_cls(cls)(theirs, **kw)
    for step in range(3):
        grads = [g.astype(np.float32) for g in _grads(step)]
        for p, q, g in zip(ours, theirs, grads):
            p.grad = cr.as_tensor(g)
            q.grad = torch.tensor(g)
        opt.step()
        topt.step()
    for p, q in zip(ours, theirs):
        assert p.dtype == np.float32
        for k, v in opt.state[p].items():
            if k != "step":
                assert v.dtype == np.float32, k
        np.testing.assert_allclose(p.array, q.detach().numpy(), rtol=1e-5, atol=1e-6)


def test_argument_errors():
    p = cr.zeros(2, requires_grad=True)
    with pytest.raises(ValueError, match="empty"):
        optim.SGD([], lr=0.1)
    with pytest.raises(TypeError):
        optim.SGD(p, lr=0.1)
    with pytest.raises(ValueError, match="Nesterov"):
        optim.SGD([p], lr=0.1, nesterov=True)
    with pytest.raises(ValueError, match="learning rate"):
        optim.Adam([p], lr=-1)
    with pytest.raises(ValueError, match="beta"):
        optim.Adam([p], betas=(1.0, 0.9))
    with pytest.raises(ValueError, match="more than one"):
        optim.SGD([{"params": [p]}, {"params": [p]}], lr=0.1)
    with pytest.raises(TypeError, match="sets"):
        optim.SGD([{"params": {p}}], lr=0.1)
    with pytest.raises(TypeError, match="Tensors"):
        optim.SGD([np.zeros(2)], lr=0.1)
    with pytest.raises(ValueError, match="non-leaf"):
        optim.SGD([p * 2], lr=0.1)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        optim.SGD([p, cr.zeros(1)], lr=0.1)


def test_named_params_are_recorded_like_torch():
    a, b = cr.zeros(2), cr.zeros(3)
    opt = optim.SGD([("w", a), ("b", b)], lr=0.1)
    assert opt.param_groups[0]["param_names"] == ["w", "b"]
    assert opt.state_dict()["param_groups"][0]["param_names"] == ["w", "b"]


@pytest.mark.parametrize("cls,kw", [(optim.Adam, dict(lr=0.01, amsgrad=True)),
                                    (optim.SGD, dict(lr=0.1, momentum=0.9)),
                                    (optim.RMSprop, dict(lr=0.01, momentum=0.5, centered=True))])
def test_checkpoint_through_cr_save_continues_identically(tmp_path, cls, kw):
    from chainrule.optim import lr_scheduler
    ours, _ = _make_params()
    opt = cls(ours, **kw)
    sched = lr_scheduler.OneCycleLR(opt, max_lr=0.1, total_steps=20)
    plateau = lr_scheduler.ReduceLROnPlateau(opt)
    for step in range(8):
        for p, g in zip(ours, _grads(step)):
            p.grad = cr.as_tensor(g)
        opt.step()
        sched.step()
    plateau.step(1.0)
    cr.save({"opt": opt.state_dict(), "sched": sched.state_dict(),
             "plateau": plateau.state_dict()}, tmp_path / "ckpt")
    ckpt = cr.load(tmp_path / "ckpt")

    copies = [cr.tensor(p.array.copy(), requires_grad=True) for p in ours]
    opt2 = cls(copies, **kw)
    sched2 = lr_scheduler.OneCycleLR(opt2, max_lr=0.1, total_steps=20)
    plateau2 = lr_scheduler.ReduceLROnPlateau(opt2)
    opt2.load_state_dict(ckpt["opt"])
    sched2.load_state_dict(ckpt["sched"])
    plateau2.load_state_dict(ckpt["plateau"])
    assert plateau2.best == 1.0
    for step in range(8, 19):
        for p, q, g in zip(ours, copies, _grads(step)):
            p.grad, q.grad = cr.as_tensor(g), cr.as_tensor(g.copy())
        opt.step()
        opt2.step()
        sched.step()
        sched2.step()
        assert sched.get_last_lr() == sched2.get_last_lr()
    for a, b in zip(ours, copies):
        np.testing.assert_array_equal(a.array, b.array)
