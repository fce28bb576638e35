"""The training report: one self-contained HTML page on how a network learned.

    recorder = ReportRecorder()                 # a Trainer callback
    trainer = Trainer(model, opt, callbacks=[recorder])
    trainer.fit(train_loader, val_loader, epochs=5)
    write_report("report.html", model, trainer.history, recorder, splits, encoder)

or simply `chainrule train --report report.html`. The page holds loss and accuracy curves,
the gradient norm of each layer over time, the weights' histograms at the start and the
end, misclassified test examples, and the network's graph. Everything is inline (SVG from
matplotlib and Graphviz, PNG as base64): it opens offline, and can be mailed as one file.
"""
from __future__ import annotations

import base64
import datetime
import html
import io
import math
import os

import numpy

from .. import backend
from ..autograd.grad_mode import no_grad
from ..creation import as_tensor
from ..nn import functional as F
from ..train.metrics import confusion_matrix
from ..train.trainer import Callback
from . import curves
from .curves import COLORS

MAX_MISCLASSIFIED = 12
MAX_HISTOGRAMS = 8


class ReportRecorder(Callback):
    """Records, while training runs, what the report draws: every batch's loss and, every
    `every` steps, the norm of each module's parameter gradients (‖∂L/∂θ‖ over the
    module's parameters θ); the weights as they were at the start. By default about 400
    gradient samples are taken over the whole run.

    The gradients are read by post-accumulate hooks on the parameters, registered only for
    the backward pass of a sampled step: each parameter's ∂L/∂θ as backward finishes it,
    before clipping (and, with DistributedDataParallel, before averaging over ranks)."""

    def __init__(self, every: int | None = None):
        self.every = every
        self._handles = []
        self._squares = None   # module -> squared gradient norms, during a sampled step

    def on_fit_start(self, trainer, train_loader, epochs: int) -> None:
        model = self.model = trainer.model
        # where the recorded batches sit on the epoch axis (a resumed run starts later)
        self.first_epoch = len(trainer.history.epochs)
        self.steps_per_epoch = max(1, len(train_loader))
        if self.every is None:
            self.every = max(1, epochs * len(train_loader) // 400)
        self.groups = _parameter_groups(model)
        kinds = {path: type(m).__name__ for path, m in model.named_modules()}
        self.labels = {path: f"{path} ({kinds.get(path, type(model).__name__)})"
                       if path != "(model)" else type(model).__name__ for path in self.groups}
        self.initial = {name: _cpu(p.array).ravel().copy() for name, p in model.named_parameters()}
        self.batch_steps, self.batch_losses, self.batch_lrs = [], [], []
        self.grad_steps = []
        self.grad_norms = {module: [] for module in self.groups}
        self._watch_gradients(trainer.global_step + 1)

    def on_batch_end(self, trainer, step: int, loss: float) -> None:
        self.batch_steps.append(step)
        self.batch_losses.append(loss)
        self.batch_lrs.append(trainer.optimizer.param_groups[0]["lr"])
        if self._squares is not None:
            self.grad_steps.append(step)
            for module, squares in self._squares.items():
                self.grad_norms[module].append(math.sqrt(sum(squares)))
            self._stop_watching()
        self._watch_gradients(step + 1)

    def on_fit_end(self, trainer) -> None:
        self._stop_watching()

    def _watch_gradients(self, step: int) -> None:
        """Hook every parameter for the backward pass of `step` if it is a sampled one."""
        if step % self.every and step != 1:
            return
        self._squares = {module: [] for module in self.groups}
        for module, params in self.groups.items():
            squares = self._squares[module]
            self._handles += [p.register_post_accumulate_grad_hook(
                lambda p, squares=squares: squares.append(_squared_norm(p.grad)))
                for p in params if p.requires_grad]

    def _stop_watching(self) -> None:
        for handle in self._handles:
            handle.remove()
        self._handles, self._squares = [], None


def _squared_norm(grad) -> float:
    g = grad.values().array if grad.is_sparse else grad.array
    return float((g * g).sum())


def _parameter_groups(model) -> dict:
    """module path → its own parameters (the model's own ones under "(model)")."""
    groups = {}
    for name, p in model.named_parameters():
        module = name.rpartition(".")[0] or "(model)"
        groups.setdefault(module, []).append(p)
    return groups


def _cpu(array) -> numpy.ndarray:
    return numpy.asarray(backend.to_device(array, "cpu"))


# --- the page ------------------------------------------------------------------------------
def write_training_report(path: str, run: dict, recorder: ReportRecorder) -> str:
    """The report of a `chainrule train` run (the dict `train.pipeline.train` returns)."""
    settings = run["settings"]
    return write_report(path, run["model"], run["history"], recorder, run["splits"],
                        run["encoder"], predictions=run["predictions"],
                        metrics={"test accuracy": run["test_accuracy"],
                                 "macro F1": run["macro_f1"]},
                        title=f"Training report: {settings['model']} on {settings['data']}",
                        info=settings, instruments=run.get("instruments"))


def write_report(path: str, model, history, recorder: ReportRecorder | None = None,
                 splits=None, encoder=None, predictions=None, metrics: dict | None = None,
                 title: str | None = None, info: dict | None = None, graph: bool = True,
                 instruments: dict | None = None) -> str:
    """Write the HTML report to `path` and return the path.

    history: the Trainer's History. splits/encoder: the data set (for misclassified test
    examples and for the graph's sample batch); predictions: test predictions in the
    order of splits.test (computed here when omitted). metrics: e.g. test accuracy, shown
    in the summary. info: extra summary rows (data set, recipe, ...). instruments: the
    run's instruments record (train --instruments): the doctor's findings open the page.
    """
    import matplotlib
    matplotlib.use("Agg")
    sections = [_summary(model, history, metrics, info)]
    if instruments is not None:
        from .doctor_plots import report_section
        sections.insert(0, report_section(instruments))
    best = curves.best_epoch(history)
    sections.append(_section(
        "Loss and accuracy", _svg(curves.loss_and_accuracy(history, recorder)),
        "Each epoch's mean loss and accuracy on the training data and on held-out validation "
        "data; the loss on a log scale, where a steady fall is a straight line. The faint line "
        "is every batch's loss" + (f"; the star marks the best epoch by validation loss "
                                   f"({best[0]}, {best[1]:.4f})." if best else ".")))
    if history.epochs:
        sections.append(_section(
            "Learning rate", _svg(curves.learning_rate(history, recorder)),
            "The step size the optimizer used, as the schedule moved it."))
    if recorder is not None and recorder.grad_steps:
        sections.append(_section(
            "Gradient norms per layer", _svg(curves.gradient_norms(recorder)),
            f"‖∂L/∂θ‖ over each module's parameters θ, "
            f"{'at every step' if recorder.every == 1 else f'every {recorder.every} steps'}: how "
            "strongly backpropagation pushes on each layer. Norms that shrink layer by layer "
            "towards the input would mean vanishing gradients; spikes, exploding ones."))
        sections.append(_section(
            "Weights at the start and at the end", _histograms(model, recorder),
            "How the values of each weight tensor are spread, before training "
            "(initialisation) and after."))
    if splits is not None and encoder is not None:
        test_x, test_y = splits.test
        if predictions is None:
            predictions = _predict(model, encoder, test_x)
        confusion = confusion_matrix(predictions, test_y, len(splits.classes))
        sections.append(_section(
            "Confusion matrix", _svg(curves.confusion_matrix(confusion, splits.classes)),
            "How the test examples of each true class (rows) were classified (columns); the "
            "diagonal holds the correct answers."))
        sections.append(_section("Misclassified test examples",
                                 _misclassified(splits, test_x, test_y, predictions),
                                 "Test examples the trained network gets wrong, with the true "
                                 "label and the network's answer."))
    if graph:
        sections.append(_section("The network's graph", _graph(model, splits, encoder),
                                 "The computation the forward pass records for two test "
                                 "examples and their loss, one box per module, numbered in the "
                                 "order the forward pass runs them ([4] is the module's name "
                                 "in the model, as in 4.weight). Modules that record no op of "
                                 "their own, such as Dropout at evaluation or Flatten of the "
                                 "input, are drawn inside their neighbours. The red numbers "
                                 "are the sizes of the gradients backpropagation sends back "
                                 "along each edge."))
    title = title or "chainrule training report"
    page = PAGE.format(title=html.escape(title), body="\n".join(sections),
                       stamp=datetime.datetime.now().strftime("%Y-%m-%d %H:%M"))
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(page)
    return path


PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{title}</title>
<style>
body {{ font-family: -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; color: #222;
       max-width: 1100px; margin: 24px auto; padding: 0 16px; line-height: 1.45; }}
h1 {{ font-size: 26px; margin-bottom: 4px; }}
h2 {{ font-size: 19px; border-bottom: 1px solid #ddd; padding-bottom: 4px; margin-top: 36px; }}
p.note {{ color: #555; font-size: 14px; margin-top: 0; }}
table {{ border-collapse: collapse; font-size: 14px; }}
td, th {{ padding: 3px 12px 3px 0; text-align: left; vertical-align: top; }}
th {{ color: #555; font-weight: 600; }}
pre {{ background: #f6f6f6; padding: 10px; font-size: 12px; overflow-x: auto; }}
figure {{ margin: 0; }}
figure svg, figure img {{ max-width: 100%; height: auto; }}
.stamp {{ color: #888; font-size: 12px; }}
.text-example {{ border-left: 3px solid #c0392b; padding: 4px 10px; margin: 8px 0;
                 background: #fdf3f2; font-size: 14px; }}
</style>
</head>
<body>
<h1>{title}</h1>
<div class="stamp">written by chainrule on {stamp}</div>
{body}
</body>
</html>
"""


def _section(heading: str, content: str, note: str = "") -> str:
    note_html = f'<p class="note">{html.escape(note)}</p>' if note else ""
    return f"<section>\n<h2>{html.escape(heading)}</h2>\n{note_html}\n{content}\n</section>"


def _summary(model, history, metrics, info) -> str:
    rows = [(key.replace("_", " "), value) for key, value in (info or {}).items()
            if value is not None]
    rows.append(("parameters", f"{sum(p.numel() for p in model.parameters()):,}"))
    rows.append(("epochs trained", str(len(history.epochs))))
    last = history.epochs[-1] if history.epochs else {}
    for key, label in (("train_loss", "final train loss"), ("train_acc", "final train accuracy"),
                       ("val_loss", "final validation loss"),
                       ("val_acc", "final validation accuracy")):
        if key in last:
            rows.append((label, f"{last[key]:.4f}"))
    for key, value in (metrics or {}).items():
        if isinstance(value, (int, float)):
            rows.append((key.replace("_", " "), f"{value:.4f}"))
    table = "\n".join(f"<tr><th>{html.escape(str(k))}</th><td>{html.escape(str(v))}</td></tr>"
                      for k, v in rows)
    return (f"<section>\n<h2>Summary</h2>\n<table>\n{table}\n</table>\n"
            f"<details><summary>model</summary><pre>{html.escape(repr(model))}</pre></details>"
            "\n</section>")


# --- pictures ------------------------------------------------------------------------------
def _svg(fig) -> str:
    """A matplotlib figure as inline SVG markup (no XML prologue)."""
    import matplotlib.pyplot as plt
    buffer = io.StringIO()
    fig.savefig(buffer, format="svg")
    plt.close(fig)
    text = buffer.getvalue()
    return "<figure>" + text[text.index("<svg"):] + "</figure>"


def _png(fig, dpi: int = 100) -> str:
    import matplotlib.pyplot as plt
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi)
    plt.close(fig)
    data = base64.b64encode(buffer.getvalue()).decode("ascii")
    return f'<figure><img alt="misclassified examples" src="data:image/png;base64,{data}"></figure>'


def _histograms(model, recorder) -> str:
    import matplotlib.pyplot as plt
    weights = [(n, p) for n, p in model.named_parameters() if p.ndim >= 2][:MAX_HISTOGRAMS]
    if not weights:
        weights = list(model.named_parameters())[:MAX_HISTOGRAMS]
    cols = min(4, len(weights))
    rows = math.ceil(len(weights) / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(2.7 * cols, 2.3 * rows), squeeze=False,
                             constrained_layout=True)
    for ax in axes.ravel()[len(weights):]:
        ax.axis("off")
    for ax, (name, p) in zip(axes.ravel(), weights):
        start, end = recorder.initial[name], _cpu(p.array).ravel()
        lo, hi = float(min(start.min(), end.min())), float(max(start.max(), end.max()))
        bins = numpy.linspace(lo, hi if hi > lo else lo + 1e-6, 41)
        ax.hist(start, bins=bins, color=COLORS[0], alpha=0.55, label="start")
        ax.hist(end, bins=bins, color=COLORS[1], alpha=0.55, label="end")
        ax.set_title(f"{name} {tuple(p.shape)}", fontsize=8.5)
        ax.tick_params(labelsize=7)
        ax.set_yticks([])
    axes.ravel()[0].legend(fontsize=7)
    return _svg(fig)


@no_grad()
def _predict(model, encoder, x) -> numpy.ndarray:
    was_training = model.training
    model.eval()
    try:
        out = []
        for start in range(0, len(x), 512):
            logits = model(as_tensor(encoder.transform(x[start:start + 512])))
            out.append(_cpu(logits.array.argmax(-1)))
    finally:
        model.train(was_training)
    return numpy.concatenate(out) if out else numpy.zeros(0, int)


def _misclassified(splits, x, y, predictions) -> str:
    wrong = numpy.flatnonzero(numpy.asarray(predictions) != numpy.asarray(y))[:MAX_MISCLASSIFIED]
    if wrong.size == 0:
        return "<p>Every test example is classified correctly.</p>"
    classes = splits.classes
    if splits.kind == "text":
        items = "\n".join(
            f'<div class="text-example"><b>true: {html.escape(str(classes[y[i]]))}, predicted: '
            f'{html.escape(str(classes[predictions[i]]))}</b><br>{html.escape(str(x[i]))}</div>'
            for i in wrong)
        return f'<div class="misclassified">{items}</div>'
    import matplotlib.pyplot as plt
    cols = min(6, wrong.size)
    rows = math.ceil(wrong.size / cols)
    image = splits.kind == "image"
    fig, axes = plt.subplots(rows, cols, figsize=(1.75 * cols, 2.0 * rows) if image
                             else (2.6 * cols, 1.9 * rows), squeeze=False,
                             constrained_layout=True)
    for ax in axes.ravel():
        ax.axis("off")
    for ax, i in zip(axes.ravel(), wrong):
        if image:
            pixels = numpy.asarray(x[i], float)
            if pixels.shape[0] == 1:
                ax.imshow(pixels[0], cmap="gray_r", interpolation="nearest")
            else:
                scale = splits.pixel_max or max(float(pixels.max()), 1.0)
                ax.imshow(numpy.clip(pixels.transpose(1, 2, 0) / scale, 0, 1),
                          interpolation="nearest")
        else:
            ax.axis("on")
            ax.plot(numpy.ravel(x[i]), color=COLORS[0], lw=1)
            ax.set_xticks([])
            ax.set_yticks([])
        ax.set_title(f"true {classes[y[i]]}\npredicted {classes[predictions[i]]}", fontsize=8.5,
                     color="#c0392b")
    return _png(fig, dpi=110)


def _graph(model, splits, encoder) -> str:
    from .graph import draw, render, watch
    try:
        if splits is None or encoder is None:
            raise ValueError("the report needs the data set to run a sample batch")
        x, y = splits.test
        was_training = model.training
        model.eval()
        try:
            with watch(model):
                logits = model(as_tensor(encoder.transform(x[:2])))
            loss = F.cross_entropy(logits, as_tensor(numpy.asarray(y[:2])))
            dot = draw(loss, grads=True, modules=model, depth=_depth(model))
        finally:
            model.train(was_training)
    except Exception as err:  # noqa: BLE001 - the report still has everything else
        return f"<p>The graph could not be drawn: {html.escape(str(err))}</p>"
    svg = render(dot, "svg")
    if svg is None:
        return ("<p>Graphviz is not installed (apt-get install graphviz), so here is the "
                f"graph as DOT text:</p><pre>{html.escape(dot)}</pre>")
    text = svg.decode("utf-8")
    return '<figure class="graph">' + text[text.index("<svg"):] + "</figure>"


def _depth(model) -> int | None:
    """Group by the innermost modules, unless there are so many that the picture would be
    a wall: then by the model's direct children."""
    leaves = [m for m in model.modules() if not any(True for _ in m.children())]
    return None if len(leaves) <= 40 else 1
