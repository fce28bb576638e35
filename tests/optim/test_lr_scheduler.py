"""chainrule.optim.lr_scheduler against torch.optim.lr_scheduler: the same lrs, step by step."""
from __future__ import annotations

import warnings

import numpy as np
import pytest

import chainrule as cr
import chainrule.optim as optim
from chainrule.optim import lr_scheduler

torch = pytest.importorskip("torch")


def _pair(opt_name="SGD", groups=1, **opt_kw):
    """The same optimizer in chainrule and in torch (one small param per group)."""
    opt_kw.setdefault("lr", 0.1)
    ours = [{"params": [cr.zeros(2)], "lr": opt_kw["lr"] * (i + 1)} for i in range(groups)]
    theirs = [{"params": [torch.zeros(2, requires_grad=True)], "lr": opt_kw["lr"] * (i + 1)}
              for i in range(groups)]
    return getattr(optim, opt_name)(ours, **opt_kw), getattr(torch.optim, opt_name)(theirs, **opt_kw)


def _run(opt, sched, steps, metrics=None):
    lrs = [sched.get_last_lr()]
    momenta = [[g.get("momentum", g.get("betas", (None,))[0]) for g in opt.param_groups]]
    for i in range(steps):
        opt.step()
        if metrics is None:
            sched.step()
        else:
            sched.step(metrics[i])
        lrs.append(list(sched.get_last_lr()))
        assert lrs[-1] == [g["lr"] for g in opt.param_groups]
        momenta.append([g.get("momentum", g.get("betas", (None,))[0]) for g in opt.param_groups])
    return np.array(lrs, dtype=float), np.array(momenta, dtype=float)


SCHEDULES = [
    ("StepLR", dict(step_size=7, gamma=0.5), {}),
    ("StepLR", dict(step_size=3), dict(groups=2)),
    ("ExponentialLR", dict(gamma=0.9), dict(groups=2)),
    ("CosineAnnealingLR", dict(T_max=30), {}),
    ("CosineAnnealingLR", dict(T_max=10, eta_min=0.001), dict(groups=2)),  # past T_max: rises again
    ("OneCycleLR", dict(max_lr=1.0, total_steps=30), dict(momentum=0.9)),
    ("OneCycleLR", dict(max_lr=[1.0, 0.5], epochs=3, steps_per_epoch=10, pct_start=0.25,
                        anneal_strategy="linear", div_factor=10.0, final_div_factor=100.0),
     dict(momentum=0.9, groups=2)),
    ("OneCycleLR", dict(max_lr=0.01, total_steps=31, three_phase=True, base_momentum=0.8,
                        max_momentum=0.9), dict(opt_name="Adam")),
    ("OneCycleLR", dict(max_lr=0.5, total_steps=30, cycle_momentum=False), {}),
    ("MultiStepLR", dict(milestones=[3, 8, 8, 20], gamma=0.5), dict(groups=2)),
    ("ConstantLR", dict(factor=0.25, total_iters=6), {}),
    ("LinearLR", dict(start_factor=0.1, end_factor=0.9, total_iters=12), dict(groups=2)),
    ("PolynomialLR", dict(total_iters=20, power=2.0), {}),
    ("CosineAnnealingWarmRestarts", dict(T_0=5), {}),
    ("CosineAnnealingWarmRestarts", dict(T_0=3, T_mult=2, eta_min=0.01), dict(groups=2)),
    ("CyclicLR", dict(base_lr=0.01, max_lr=0.1, step_size_up=4), dict(momentum=0.9)),
    ("CyclicLR", dict(base_lr=[0.01, 0.02], max_lr=0.1, step_size_up=3, step_size_down=5,
                      mode="triangular2"), dict(momentum=0.9, groups=2)),
    ("CyclicLR", dict(base_lr=0.001, max_lr=0.01, step_size_up=5, mode="exp_range",
                      gamma=0.9), dict(opt_name="Adam")),
    ("CyclicLR", dict(base_lr=0.01, max_lr=0.1, step_size_up=4, cycle_momentum=False), {}),
]


@pytest.mark.parametrize("name,kw,opt_kw", SCHEDULES,
                         ids=[f"{n}-{i}" for i, (n, _, _) in enumerate(SCHEDULES)])
def test_lrs_match_torch(name, kw, opt_kw):
    opt, topt = _pair(**opt_kw)
    steps = kw.get("total_steps", 31) - 1
    ours, our_m = _run(opt, getattr(lr_scheduler, name)(opt, **kw), steps)
    theirs, their_m = _run(topt, getattr(torch.optim.lr_scheduler, name)(topt, **kw), steps)
    np.testing.assert_allclose(ours, theirs, rtol=1e-13, atol=0)
    np.testing.assert_allclose(our_m, their_m, rtol=1e-13, atol=0)


def test_one_cycle_cycles_momentum_against_the_lr():
    opt, _ = _pair(momentum=0.9)
    sched = lr_scheduler.OneCycleLR(opt, max_lr=1.0, total_steps=20, pct_start=0.5)
    lrs, momenta = _run(opt, sched, 19)
    peak = int(np.argmax(lrs[:, 0]))
    assert 8 <= peak <= 10
    assert momenta[0, 0] == pytest.approx(0.95) and momenta[peak, 0] == pytest.approx(0.85)
    assert momenta[-1, 0] == pytest.approx(0.95)
    assert lrs[0, 0] == pytest.approx(1.0 / 25) and lrs[-1, 0] == pytest.approx(1.0 / 25 / 1e4)
    with pytest.raises(ValueError, match="Tried to step"):
        sched.step()
        sched.step()


def test_one_cycle_cycles_adam_beta1_and_keeps_beta2():
    opt, _ = _pair("Adam", lr=0.01, betas=(0.9, 0.95))
    lr_scheduler.OneCycleLR(opt, max_lr=0.1, total_steps=10)
    assert opt.param_groups[0]["betas"] == (0.95, 0.95)


METRICS = [1.0, 0.9, 0.9, 0.95, 0.9, 0.91, 0.8999, 0.5, 0.5, 0.5, 0.6, 0.49, 0.7, 0.7,
           0.7, 0.7, 0.7, 0.2, 0.2, 0.2, 0.2, 0.2, 0.2, 0.2, 0.19999, 0.3, 0.3, 0.3, 0.3, 0.3]

PLATEAUS = [
    dict(),
    dict(patience=2, factor=0.5),
    dict(patience=1, factor=0.5, cooldown=2, min_lr=0.02),
    dict(mode="max", patience=1, threshold=0.05, threshold_mode="abs", factor=0.3),
    dict(mode="min", patience=0, threshold=0.01, threshold_mode="rel", min_lr=[0.01, 0.05],
         eps=1e-3),
]


@pytest.mark.parametrize("kw", PLATEAUS)
def test_reduce_lr_on_plateau_matches_torch(kw):
    opt, topt = _pair(groups=2)
    ours, _ = _run(opt, lr_scheduler.ReduceLROnPlateau(opt, **kw), len(METRICS), METRICS)
    theirs, _ = _run(topt, torch.optim.lr_scheduler.ReduceLROnPlateau(topt, **kw),
                     len(METRICS), METRICS)
    np.testing.assert_allclose(ours, theirs, rtol=1e-13, atol=0)
    if kw:
        assert ours[-1, 0] < ours[0, 0]   # the sequence does reduce the lr


def test_reduce_lr_on_plateau_state_dict_round_trip():
    opt, _ = _pair()
    sched = lr_scheduler.ReduceLROnPlateau(opt, patience=1, factor=0.5, cooldown=1)
    for m in METRICS[:12]:
        sched.step(m)
    sd = sched.state_dict()
    assert "optimizer" not in sd
    opt2, _ = _pair()
    opt2.load_state_dict(opt.state_dict())
    sched2 = lr_scheduler.ReduceLROnPlateau(opt2)
    sched2.load_state_dict(sd)
    for m in METRICS[12:]:
        sched.step(m)
        sched2.step(m)
        assert sched.get_last_lr() == sched2.get_last_lr()


@pytest.mark.parametrize("name,kw", [("StepLR", dict(step_size=4, gamma=0.5)),
                                     ("CosineAnnealingLR", dict(T_max=12)),
                                     ("OneCycleLR", dict(max_lr=1.0, total_steps=30))])
def test_scheduler_state_dict_round_trip(name, kw):
    opt, _ = _pair(momentum=0.9)
    sched = getattr(lr_scheduler, name)(opt, **kw)
    _run(opt, sched, 10)
    sd = sched.state_dict()
    assert "optimizer" not in sd and sd["last_epoch"] == 10
    # resume: a fresh optimizer and scheduler, then the saved states
    opt2, _ = _pair(momentum=0.9)
    sched2 = getattr(lr_scheduler, name)(opt2, **kw)
    opt2.load_state_dict(opt.state_dict())
    sched2.load_state_dict(sd)
    for _ in range(15):
        opt.step()
        opt2.step()
        sched.step()
        sched2.step()
        assert sched.get_last_lr() == sched2.get_last_lr()
        assert opt.param_groups[0]["momentum"] == opt2.param_groups[0]["momentum"]


def test_resume_with_last_epoch_matches_torch():
    opt, topt = _pair()
    for o in (opt, topt):
        o.param_groups[0]["initial_lr"] = 0.1
    ours = lr_scheduler.CosineAnnealingLR(opt, T_max=20, last_epoch=5)
    theirs = torch.optim.lr_scheduler.CosineAnnealingLR(topt, T_max=20, last_epoch=5)
    a, _ = _run(opt, ours, 10)
    b, _ = _run(topt, theirs, 10)
    np.testing.assert_allclose(a, b, rtol=1e-13)
    with pytest.raises(KeyError, match="initial_lr"):
        lr_scheduler.StepLR(_pair()[0], step_size=2, last_epoch=3)


def test_scheduler_drives_the_optimizer_update():
    p = cr.as_tensor(np.zeros(1))
    opt = optim.SGD([p], lr=1.0)
    sched = lr_scheduler.StepLR(opt, step_size=1, gamma=0.5)
    for _ in range(3):
        p.grad = cr.as_tensor(np.ones(1))
        opt.step()
        sched.step()
    np.testing.assert_allclose(p.array, [-(1.0 + 0.5 + 0.25)])


def test_warns_when_scheduler_steps_before_optimizer():
    opt, _ = _pair()
    sched = lr_scheduler.StepLR(opt, step_size=2)
    with pytest.warns(UserWarning, match="before `optimizer.step"):
        sched.step()
    opt2, _ = _pair()
    sched2 = lr_scheduler.StepLR(opt2, step_size=2)
    opt2.step()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        sched2.step()


def test_argument_errors():
    opt, _ = _pair()
    with pytest.raises(ValueError, match="total_steps"):
        lr_scheduler.OneCycleLR(opt, max_lr=1.0)
    with pytest.raises(ValueError, match="pct_start"):
        lr_scheduler.OneCycleLR(opt, max_lr=1.0, total_steps=10, pct_start=1)
    with pytest.raises(ValueError, match="anneal_strategy"):
        lr_scheduler.OneCycleLR(opt, max_lr=1.0, total_steps=10, anneal_strategy="exp")
    with pytest.raises(ValueError, match="momentum"):
        lr_scheduler.OneCycleLR(_pair("Adagrad")[0], max_lr=1.0, total_steps=10)
    with pytest.raises(ValueError, match="Factor"):
        lr_scheduler.ReduceLROnPlateau(opt, factor=1.0)
    with pytest.raises(ValueError, match="unknown"):
        lr_scheduler.ReduceLROnPlateau(opt, mode="median")
    with pytest.raises(TypeError, match="not an Optimizer"):
        lr_scheduler.StepLR(object(), step_size=1)


def test_custom_optimizer_with_its_own_step_is_seen_as_stepped():
    class SignSGD(optim.Optimizer):
        def __init__(self, params, lr=0.1):
            super().__init__(params, dict(lr=lr))

        def step(self, closure=None):
            for group in self.param_groups:
                for p in group["params"]:
                    if p.grad is not None:
                        p.array -= group["lr"] * np.sign(p.grad.array)

    p = cr.as_tensor(np.zeros(2))
    p.grad = cr.as_tensor(np.array([3.0, -2.0]))
    opt = SignSGD([p])
    sched = lr_scheduler.ExponentialLR(opt, gamma=0.5)
    opt.step()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        sched.step()
    np.testing.assert_allclose(p.array, [-0.1, 0.1])
    assert opt.param_groups[0]["lr"] == 0.05


LAMBDAS = [("LambdaLR", lambda epoch: 0.95 ** epoch), ("MultiplicativeLR", lambda epoch: 0.9),
           ("LambdaLR", [lambda e: 1 / (1 + e), lambda e: min(1.0, (e + 1) / 5)])]


@pytest.mark.parametrize("name,fn", LAMBDAS, ids=[n + str(i) for i, (n, _) in enumerate(LAMBDAS)])
def test_lambda_schedules_match_torch(name, fn):
    groups = 2 if isinstance(fn, list) else 1
    opt, topt = _pair(groups=groups)
    ours, _ = _run(opt, getattr(lr_scheduler, name)(opt, fn), 20)
    theirs, _ = _run(topt, getattr(torch.optim.lr_scheduler, name)(topt, fn), 20)
    np.testing.assert_allclose(ours, theirs, rtol=1e-13, atol=0)


def _warmup_then_cosine(lib, opt):
    s = lib.optim.lr_scheduler if lib is torch else lr_scheduler
    return s.SequentialLR(opt, [s.LinearLR(opt, start_factor=0.1, total_iters=4),
                                s.ExponentialLR(opt, gamma=0.9),
                                s.CosineAnnealingLR(opt, T_max=6)], milestones=[4, 10])


def _chained(lib, opt):
    s = lib.optim.lr_scheduler if lib is torch else lr_scheduler
    return s.ChainedScheduler([s.ConstantLR(opt, factor=0.5, total_iters=3),
                               s.ExponentialLR(opt, gamma=0.8)])


@pytest.mark.parametrize("make", [_warmup_then_cosine, _chained])
def test_composite_schedules_match_torch(make):
    opt, topt = _pair(groups=2)
    ours, _ = _run(opt, make(cr, opt), 20)
    theirs, _ = _run(topt, make(torch, topt), 20)
    np.testing.assert_allclose(ours, theirs, rtol=1e-13, atol=0)


def test_lambda_state_dict_leaves_functions_out_and_round_trips():
    opt, _ = _pair()
    sched = lr_scheduler.LambdaLR(opt, lambda e: 0.5 ** e)
    _run(opt, sched, 3)
    sd = sched.state_dict()
    assert sd["lr_lambdas"] == [None] and sd["last_epoch"] == 3
    opt2, _ = _pair()
    sched2 = lr_scheduler.LambdaLR(opt2, lambda e: 0.5 ** e)
    sched2.load_state_dict(sd)
    opt.step(), opt2.step(), sched.step(), sched2.step()
    assert sched.get_last_lr() == sched2.get_last_lr()


def test_composite_argument_errors():
    opt, _ = _pair()
    other, _ = _pair()
    with pytest.raises(ValueError, match="one more than the number of milestone"):
        lr_scheduler.SequentialLR(opt, [lr_scheduler.ConstantLR(opt)], milestones=[2])
    with pytest.raises(ValueError, match="same optimizer"):
        lr_scheduler.ChainedScheduler([lr_scheduler.ConstantLR(opt),
                                       lr_scheduler.ConstantLR(other)])
    with pytest.raises(ValueError, match="does not support `ReduceLROnPlateau`"):
        lr_scheduler.ChainedScheduler([lr_scheduler.ReduceLROnPlateau(opt)])
