"""The training loop: it learns, it is reproducible, and a killed run resumes exactly."""
import numpy as np
import pytest

import chainrule as cr
from chainrule import nn
from chainrule.data import DataLoader, TensorDataset
from chainrule.train import Trainer
from chainrule.train.checkpoint import load_training_state


def blobs(n=240, seed=0):
    """Three separable Gaussian blobs in 2-D."""
    rng = np.random.default_rng(seed)
    centres = np.array([[0, 3], [3, -2], [-3, -2]], np.float32)
    y = rng.integers(0, 3, n)
    x = centres[y] + rng.standard_normal((n, 2)).astype(np.float32) * 0.7
    return x, y


def make(seed=0, checkpoint=None, epochs_scheduler=False):
    cr.manual_seed(seed)
    model = nn.Sequential(nn.Linear(2, 16), nn.ReLU(), nn.Dropout(0.1), nn.Linear(16, 3))
    opt = cr.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    sched = cr.optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.5) if epochs_scheduler else None
    trainer = Trainer(model, opt, scheduler=sched, checkpoint_path=checkpoint, progress=False)
    x, y = blobs()
    train = DataLoader(TensorDataset(x[:200], y[:200]), batch_size=16, shuffle=True)
    val = DataLoader(TensorDataset(x[200:], y[200:]), batch_size=64)
    return trainer, train, val


def weights(model):
    return {k: v.numpy().copy() for k, v in model.state_dict().items()}


def test_fit_learns_separable_blobs():
    trainer, train, val = make()
    history = trainer.fit(train, val, epochs=5)
    assert len(history.epochs) == 5
    assert history.epochs[-1]["train_loss"] < history.epochs[0]["train_loss"]
    assert history.last("val_acc") >= 0.95


def test_same_seed_same_weights():
    a, train_a, val_a = make(seed=3)
    a.fit(train_a, val_a, epochs=2)
    b, train_b, val_b = make(seed=3)
    b.fit(train_b, val_b, epochs=2)
    for key, value in weights(a.model).items():
        np.testing.assert_array_equal(value, weights(b.model)[key])


def test_resume_after_kill_equals_uninterrupted_run(tmp_path):
    full, train, val = make(seed=1, epochs_scheduler=True)
    full.fit(train, val, epochs=4)

    path = str(tmp_path / "checkpoint.safetensors")
    killed, train, val = make(seed=1, checkpoint=path, epochs_scheduler=True)
    killed.fit(train, val, epochs=2)  # the run "dies" after epoch 2's checkpoint
    assert load_training_state(path, killed.model, killed.optimizer)["epoch"] == 2

    resumed, train, val = make(seed=99, checkpoint=path, epochs_scheduler=True)  # a new process
    history = resumed.fit(train, val, epochs=4, resume=True)
    assert [e["epoch"] for e in history.epochs] == [1, 2, 3, 4]
    for key, value in weights(full.model).items():
        np.testing.assert_array_equal(value, weights(resumed.model)[key])
    assert resumed.scheduler.get_last_lr() == full.scheduler.get_last_lr()


def test_early_stopping_restores_best_weights():
    trainer, train, val = make()
    trainer.early_stopping = 1
    trainer.optimizer.param_groups[0]["lr"] = 5.0  # diverges after the first epoch or two
    history = trainer.fit(train, val, epochs=20)
    assert len(history.epochs) < 20
    best = min(e["val_loss"] for e in history.epochs)
    assert trainer.evaluate(val)["loss"] == pytest.approx(best, rel=1e-5)


def test_gradient_clipping_is_applied():
    trainer, train, val = make()
    trainer.clip_grad_norm = 1e-3
    seen = []

    class Probe(cr.train.Callback):
        def on_batch_end(self, trainer, step, loss):
            total = sum(float((p.grad.array ** 2).sum()) for p in trainer.model.parameters())
            seen.append(total ** 0.5)

    trainer.callbacks.append(Probe())
    trainer.fit(train, None, epochs=1)
    assert max(seen) <= 1e-3 * 1.0001
