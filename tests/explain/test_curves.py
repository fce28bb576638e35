"""The report's curves, read back from the matplotlib figures: log-scale loss with the best
epoch marked, integer epoch ticks, the learning rate, smoothed gradient norms, and the
confusion matrix with class names."""
import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from chainrule.explain import curves  # noqa: E402
from chainrule.train.trainer import History  # noqa: E402


def history(val_losses):
    return History([{"epoch": k + 1, "train_loss": 1.0 / (k + 1), "train_acc": 0.5 + 0.1 * k,
                     "val_loss": v, "val_acc": 0.6 + 0.05 * k, "lr": 0.1 / (k + 1)}
                    for k, v in enumerate(val_losses)])


class Recorder:
    """The parts of a ReportRecorder the curves read."""

    def __init__(self, steps=30):
        rng = np.random.default_rng(0)
        self.batch_losses = list(np.exp(-np.linspace(0, 2, steps)) + 0.01)
        self.batch_lrs = list(np.linspace(0.1, 0.01, steps))
        self.grad_steps = list(range(1, steps + 1))
        self.grad_norms = {"0": list(rng.uniform(0.5, 2.0, steps)), "2": [0.0] * steps}
        self.labels = {"0": "0 (Linear)", "2": "2 (Linear)"}
        self.first_epoch, self.steps_per_epoch = 0, steps // 3


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def test_best_epoch_is_the_lowest_validation_loss():
    assert curves.best_epoch(history([0.9, 0.4, 0.5])) == (2, 0.4)
    assert curves.best_epoch(History([{"epoch": 1, "train_loss": 1.0}])) is None


def test_loss_is_on_a_log_scale_with_the_best_epoch_starred():
    fig = curves.loss_and_accuracy(history([0.9, 0.4, 0.5]), Recorder())
    loss_ax, acc_ax = fig.axes
    assert loss_ax.get_yscale() == "log" and acc_ax.get_yscale() == "linear"
    stars = [line for line in loss_ax.lines if line.get_marker() == "*"]
    assert len(stars) == 1
    assert stars[0].get_xdata()[0] == 2 and stars[0].get_ydata()[0] == pytest.approx(0.4)
    assert "best epoch (2)" in [t.get_text() for t in loss_ax.get_legend().get_texts()]
    acc_star = [line for line in acc_ax.lines if line.get_marker() == "*"][0]
    assert acc_star.get_ydata()[0] == pytest.approx(0.65)  # the best epoch's accuracy


def test_short_runs_have_whole_epoch_ticks():
    fig = curves.loss_and_accuracy(history([0.9, 0.4]), None)
    fig.canvas.draw()
    for ax in fig.axes:
        ticks = [t for t in ax.get_xticks() if ax.get_xlim()[0] <= t <= ax.get_xlim()[1]]
        assert ticks and all(float(t).is_integer() for t in ticks)


def test_learning_rate_per_step_or_per_epoch():
    fig = curves.learning_rate(history([0.9, 0.4, 0.5]), Recorder())
    (line,) = fig.axes[0].lines
    assert list(line.get_ydata()) == pytest.approx(list(np.linspace(0.1, 0.01, 30)))
    assert line.get_xdata()[10] == pytest.approx(1.0)  # step 11 starts epoch 2


def test_a_resumed_run_draws_its_batches_over_its_own_epochs():
    recorder = Recorder(steps=10)  # one epoch of 10 steps, resumed after epoch 2
    recorder.first_epoch, recorder.steps_per_epoch = 2, 10
    fig = curves.loss_and_accuracy(history([0.9, 0.4, 0.5]), recorder)
    batches = fig.axes[0].lines[0]
    assert batches.get_xdata()[0] == pytest.approx(2.1)
    assert batches.get_xdata()[-1] == pytest.approx(3.0)
    fig = curves.learning_rate(history([0.9, 0.4, 0.5]), None)
    (line,) = fig.axes[0].lines
    assert list(line.get_ydata()) == pytest.approx([0.1, 0.05, 0.1 / 3])


def test_smoothing_is_a_debiased_moving_average():
    assert curves.smooth([2.0, 2.0, 2.0]) == pytest.approx([2.0, 2.0, 2.0])
    s = curves.smooth([0.0, 1.0], weight=0.5)
    assert s == pytest.approx([0.0, (0.5 * 0.5 * 0 + 0.5 * 1.0) / 0.75])


def test_gradient_norms_draw_raw_and_smoothed_lines():
    recorder = Recorder()
    fig = curves.gradient_norms(recorder)
    ax = fig.axes[0]
    assert ax.get_yscale() == "log"
    assert len(ax.lines) == 2  # the module whose gradients are all zero is left out
    raw, smoothed = ax.lines
    assert raw.get_alpha() < 0.5 and smoothed.get_label() == "0 (Linear)"
    assert np.std(np.log(smoothed.get_ydata())) < np.std(np.log(raw.get_ydata()))


def test_confusion_matrix_names_the_classes_and_counts():
    confusion = np.array([[5, 1], [0, 3]])
    fig = curves.confusion_matrix(confusion, ["cat", "dog"])
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["cat", "dog"]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["cat", "dog"]
    assert sorted(t.get_text() for t in ax.texts) == ["1", "3", "5"]  # zero cells stay blank
    shares = ax.images[0].get_array()
    assert shares[0, 0] == pytest.approx(5 / 6) and shares[1, 1] == pytest.approx(1.0)
