"""`torch.optim.swa_utils` (chainrule/optim/swa_utils.py) against PyTorch's."""
import numpy
import pytest
import torch

import chainrule as cr

rng = numpy.random.default_rng(0)
SNAPSHOTS = [{"weight": rng.standard_normal((2, 3)), "bias": rng.standard_normal(2)}
             for _ in range(3)]


def _linear(m, snapshot):
    layer = m.nn.Linear(3, 2).double()
    with m.no_grad():
        layer.weight.copy_(m.tensor(snapshot["weight"]))
        layer.bias.copy_(m.tensor(snapshot["bias"]))
    return layer


@pytest.mark.parametrize("averaging", ["mean", "ema"])
def test_averaged_parameters_match_pytorch(averaging):
    averaged = []
    for m in (cr, torch):
        multi = m.optim.swa_utils.get_ema_multi_avg_fn(0.9) if averaging == "ema" else None
        swa = m.optim.swa_utils.AveragedModel(_linear(m, SNAPSHOTS[0]), multi_avg_fn=multi)
        for snapshot in SNAPSHOTS:
            swa.update_parameters(_linear(m, snapshot))
        averaged.append([p.detach().numpy() for p in swa.parameters()] + [swa.n_averaged])
    for ours, theirs in zip(*averaged[:1], *averaged[1:]):
        numpy.testing.assert_allclose(numpy.asarray(ours), numpy.asarray(theirs), rtol=1e-12)


@pytest.mark.parametrize("strategy, epochs", [("cos", 3), ("linear", 4), ("cos", 0)])
def test_swalr_schedule_matches_pytorch(strategy, epochs):
    schedules = []
    for m in (cr, torch):
        optimizer = m.optim.SGD([m.nn.Parameter(m.zeros(2))], lr=0.5)
        scheduler = m.optim.swa_utils.SWALR(optimizer, swa_lr=0.05, anneal_epochs=epochs,
                                            anneal_strategy=strategy)
        lrs = []
        for _ in range(6):
            optimizer.step()
            scheduler.step()
            lrs.append(optimizer.param_groups[0]["lr"])
        schedules.append(lrs)
    numpy.testing.assert_allclose(schedules[0], schedules[1], rtol=1e-12)


def test_update_bn_recomputes_the_statistics_as_pytorch():
    batches = [rng.standard_normal((4, 3)) for _ in range(3)]
    stats = []
    for m in (cr, torch):
        model = m.nn.Sequential(m.nn.Linear(3, 3), m.nn.BatchNorm1d(3)).double()
        with m.no_grad():
            model[0].weight.copy_(m.tensor(SNAPSHOTS[0]["weight"][:1].repeat(3, 0)))
            model[0].bias.zero_()
        m.optim.swa_utils.update_bn([m.tensor(b) for b in batches], model)
        stats.append((model[1].running_mean.numpy(), model[1].running_var.numpy(),
                      model[1].momentum))
    numpy.testing.assert_allclose(stats[0][0], stats[1][0], rtol=1e-10)
    numpy.testing.assert_allclose(stats[0][1], stats[1][1], rtol=1e-10)
    assert stats[0][2] == stats[1][2] == 0.1
