"""The learning-rate range test finds where the loss falls fastest, stops when it blows up,
and leaves the model as it found it."""
import numpy as np
import pytest

import chainrule as cr
from chainrule import cli, nn, optim
from chainrule.data import DataLoader, TensorDataset
from chainrule.explain import lr_range_test
from chainrule.nn import functional as F


def regression(seed=0):
    """Least squares on 5 standard-normal features: the loss Hessian is 2·XᵀX/n ≈ 2·I, so
    plain SGD is stable below lr ≈ 2/λ_max ≈ 0.8 and diverges above."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((512, 5)).astype(np.float32)
    y = (x @ rng.standard_normal((5, 1)) + 0.1 * rng.standard_normal((512, 1))).astype(np.float32)
    cr.manual_seed(seed)
    model = nn.Linear(5, 1)
    loader = DataLoader(TensorDataset(x, y), batch_size=64, shuffle=True, seed=seed)
    hessian = 2 * x.T.astype(np.float64) @ x / len(x)
    return model, loader, 2 / np.linalg.eigvalsh(hessian).max()


def test_finds_a_sensible_range_on_least_squares(tmp_path):
    model, loader, unstable = regression()
    before = {k: v.numpy().copy() for k, v in model.state_dict().items()}
    opt = optim.SGD(model.parameters(), lr=0.123)
    result = lr_range_test(model, loader, opt, loss_fn=F.mse_loss, start_lr=1e-4, end_lr=100,
                           num_steps=120)
    assert result.stopped_early and result.lrs[-1] < 100
    assert unstable / 3 < result.lrs[-1] < 30 * unstable  # it blew up past the stability edge
    assert 1e-3 < result.suggested_lr < unstable
    lo, hi = result.steep_range
    assert lo <= result.suggested_lr <= hi <= result.min_loss_lr
    assert result.losses[result.lrs.index(result.min_loss_lr)] < 0.2 * result.losses[0]
    assert np.all(np.diff(result.lrs) > 0)
    # the model and the optimizer are left as they were
    for key, value in model.state_dict().items():
        np.testing.assert_array_equal(value.numpy(), before[key])
    assert opt.param_groups[0]["lr"] == 0.123
    path = result.plot(str(tmp_path / "lr.png"))
    with open(path, "rb") as handle:
        assert handle.read(4) == b"\x89PNG"


def test_a_range_that_never_explodes_runs_to_the_end():
    model, loader, _ = regression()
    result = lr_range_test(model, loader, optim.SGD(model.parameters(), lr=0.1),
                           loss_fn=F.mse_loss, start_lr=1e-4, end_lr=0.05, num_steps=30)
    assert not result.stopped_early and len(result.lrs) == 30
    np.testing.assert_allclose(result.lrs[-1], 0.05)


def test_bad_arguments():
    model, loader, _ = regression()
    with pytest.raises(ValueError, match="start_lr < end_lr"):
        lr_range_test(model, loader, optim.SGD(model.parameters(), lr=0.1), start_lr=1, end_lr=0.1)


def test_command_line(tmp_path, capsys):
    out = tmp_path / "lr.png"
    assert cli.main(["explain", "lr", "--steps", "40", "--start", "1e-4", "--end", "10",
                     "--optimizer", "sgd", "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "suggested learning rate" in text
    assert out.read_bytes()[:4] == b"\x89PNG"
