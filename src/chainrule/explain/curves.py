"""The training report's curves, as matplotlib figures: loss (log scale, best epoch marked)
and accuracy, the learning rate, gradient norms per layer (raw and smoothed), and the test
confusion matrix. Each function returns a figure; the report turns it into inline SVG."""
from __future__ import annotations

import numpy

COLORS = ["#1f4e79", "#e07b00", "#2a9d3f", "#c0392b", "#7d3c98", "#17a2b8", "#8c564b",
          "#e377c2", "#7f7f7f", "#bcbd22"]
BEST = "#2a9d3f"
MAX_CONFUSION_CLASSES = 30  # beyond this the matrix is drawn without numbers in its cells


def smooth(values, weight: float = 0.9) -> numpy.ndarray:
    """An exponential moving average, debiased at the start (TensorBoard's smoothing):
    s_t = weight·s_{t-1} + (1 − weight)·v_t, divided by 1 − weight^t."""
    out, running = [], 0.0
    for t, value in enumerate(values, start=1):
        running = weight * running + (1 - weight) * value
        out.append(running / (1 - weight ** t))
    return numpy.asarray(out)


def best_epoch(history) -> tuple[int, float] | None:
    """(epoch, validation loss) of the lowest validation loss, or None without validation."""
    scored = [(e["val_loss"], e["epoch"]) for e in history.epochs if e.get("val_loss") is not None]
    if not scored:
        return None
    loss, epoch = min(scored)
    return epoch, loss


def _epoch_axis(ax) -> None:
    from matplotlib.ticker import MaxNLocator
    ax.set_xlabel("epoch")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))  # no "epoch 1.5" on short runs
    ax.grid(alpha=0.3)


def loss_and_accuracy(history, recorder=None):
    """Loss on a log scale (every batch faintly, each epoch's mean boldly, the best epoch
    by validation loss marked) beside accuracy."""
    import matplotlib.pyplot as plt
    epochs = history.series("epoch")
    fig, (loss_ax, acc_ax) = plt.subplots(1, 2, figsize=(10.5, 3.8), constrained_layout=True)
    if recorder is not None and recorder.batch_losses and epochs:
        x = recorder.first_epoch + (numpy.arange(len(recorder.batch_losses)) + 1) \
            / recorder.steps_per_epoch
        positive = numpy.asarray(recorder.batch_losses, float)
        loss_ax.plot(x, numpy.where(positive > 0, positive, numpy.nan), color=COLORS[0],
                     alpha=0.18, lw=0.8, label="train, each batch")
    for ax, key in ((loss_ax, "loss"), (acc_ax, "acc")):
        for part, color, label in (("train", COLORS[0], "train"),
                                   ("val", COLORS[1], "validation")):
            values = history.series(f"{part}_{key}")
            if any(v is not None for v in values):
                ax.plot(epochs, values, color=color, lw=2, marker="o", ms=3, label=label)
        _epoch_axis(ax)
    best = best_epoch(history)
    if best is not None:
        epoch, loss = best
        accuracy = history.epochs[history.series("epoch").index(epoch)].get("val_acc")
        for ax, y in ((loss_ax, loss), (acc_ax, accuracy)):
            ax.axvline(epoch, color=BEST, ls="--", lw=1)
            if y is not None:
                ax.plot([epoch], [y], marker="*", ms=13, color=BEST, zorder=5,
                        label=f"best epoch ({epoch})" if ax is loss_ax else None)
    loss_ax.set_yscale("log")
    loss_ax.set_ylabel("loss (cross-entropy, log scale)")
    acc_ax.set_ylabel("accuracy")
    loss_ax.set_title("Loss", fontsize=11)
    acc_ax.set_title("Accuracy", fontsize=11)
    loss_ax.legend(fontsize=9)
    acc_ax.legend(fontsize=9)
    return fig


def learning_rate(history, recorder=None):
    """The learning rate at every step (from the recorder) or at each epoch's start."""
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(10.5, 2.8), constrained_layout=True)
    epochs = history.series("epoch")
    if recorder is not None and recorder.batch_lrs and epochs:
        x = recorder.first_epoch + numpy.arange(len(recorder.batch_lrs)) / recorder.steps_per_epoch
        ax.plot(x, recorder.batch_lrs, color=COLORS[4], lw=1.8, label="each step")
    else:
        ax.plot(numpy.asarray(epochs) - 1, history.series("lr"), color=COLORS[4], lw=1.8,
                marker="o", ms=3, drawstyle="steps-post", label="each epoch")
    _epoch_axis(ax)
    ax.set_ylabel("learning rate")
    ax.set_xlim(left=(epochs[0] - 1) if epochs else 0)
    ax.ticklabel_format(axis="y", style="sci", scilimits=(-2, 3))
    return fig


def gradient_norms(recorder):
    """‖∂L/∂θ‖ of each module: the raw samples faint, their smoothed trend solid."""
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(10.5, 3.8), constrained_layout=True)
    for k, (module, norms) in enumerate(recorder.grad_norms.items()):
        values = numpy.asarray(norms, float)
        if not (values.size and numpy.any(values > 0)):
            continue
        color = COLORS[k % len(COLORS)]
        raw = numpy.where(values > 0, values, numpy.nan)
        ax.plot(recorder.grad_steps, raw, color=color, lw=0.8, alpha=0.25)
        logs = numpy.log(numpy.where(values > 0, values, values[values > 0].min()))
        ax.plot(recorder.grad_steps, numpy.exp(smooth(logs)), color=color, lw=1.8,
                label=recorder.labels[module])
    ax.set_yscale("log")
    ax.set_xlabel("training step")
    ax.set_ylabel("gradient norm ‖∂L/∂θ‖")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, ncol=2, loc="upper right", title="module (smoothed; faint: raw)",
              title_fontsize=8)
    return fig


def confusion_matrix(confusion: numpy.ndarray, classes):
    """Counts of (true class, predicted class) on the test set, with the class names; the
    shade is the fraction of each true class, so rare classes are as visible as common."""
    import matplotlib.pyplot as plt
    n = len(classes)
    size = min(10.5, 2.2 + 0.42 * n)
    fig, ax = plt.subplots(figsize=(size + 1.2, size), constrained_layout=True)
    totals = confusion.sum(1, keepdims=True)
    shares = numpy.divide(confusion, totals, out=numpy.zeros(confusion.shape), where=totals > 0)
    image = ax.imshow(shares, cmap="Blues", vmin=0, vmax=1)
    names = [str(c)[:14] for c in classes]
    ax.set_xticks(range(n), names, rotation=45 if max(len(c) for c in names) > 2 else 0,
                  ha="right" if max(len(c) for c in names) > 2 else "center", fontsize=8)
    ax.set_yticks(range(n), names, fontsize=8)
    ax.set_xlabel("predicted class")
    ax.set_ylabel("true class")
    if n <= MAX_CONFUSION_CLASSES:
        for t in range(n):
            for p in range(n):
                if confusion[t, p]:
                    ax.text(p, t, str(int(confusion[t, p])), ha="center", va="center",
                            fontsize=7 if n > 12 else 9,
                            color="white" if shares[t, p] > 0.55 else "#222222")
    fig.colorbar(image, ax=ax, shrink=0.8, label="fraction of the true class")
    return fig
