"""The small picture beside each finding of the doctor: the evidence, drawn with matplotlib."""
from __future__ import annotations

import base64
import html
import io
import math
import os

import numpy

SIZE = (4.2, 2.6)  # inches: small enough for a row of findings in the report
INK, ALERT, MUTED = "#1f4e79", "#c0392b", "#7f7f7f"


def draw(finding, path: str) -> str:
    """Draw `finding.plot` into the PNG at `path`; returns the path."""
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with open(path, "wb") as handle:
        handle.write(png(finding))
    return path


def report_section(record: dict) -> str:
    """The doctor's findings as the first section of the HTML report (pictures inline)."""
    from .doctor import diagnose, summary
    findings = diagnose(record)
    if not findings:
        body = f"<p>{html.escape(summary(findings))}</p>"
    else:
        items = []
        for finding in findings:
            picture = base64.b64encode(png(finding)).decode("ascii")
            items.append(f"<li><b>{html.escape(finding.title)}</b><br>"
                         f"evidence: {html.escape(finding.evidence)}<br>"
                         f"try: {html.escape(finding.change)}<br>"
                         f'<img alt="{html.escape(finding.cause)}" '
                         f'src="data:image/png;base64,{picture}"></li>')
        body = "<ol>\n" + "\n".join(items) + "\n</ol>"
    return ("<section>\n<h2>The doctor</h2>\n<p class=\"note\">What the instruments read "
            "during training say about why this network learns as it does, most fundamental "
            f"cause first (chainrule doctor).</p>\n{body}\n</section>")


def png(finding) -> bytes:
    """`finding.plot` drawn as PNG bytes."""
    import matplotlib
    matplotlib.use("Agg")
    from matplotlib import pyplot

    plot = finding.plot
    kind = plot.get("kind")
    if kind == "examples":
        figure = _examples(pyplot, plot)
    else:
        figure, axes = pyplot.subplots(figsize=SIZE, dpi=100)
        DRAWERS[kind](axes, plot)
        axes.set_title(plot.get("title", ""), fontsize=9)
        axes.tick_params(labelsize=7)
        for side in ("top", "right"):
            axes.spines[side].set_visible(False)
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    pyplot.close(figure)
    return buffer.getvalue()


def _loss(axes, plot) -> None:
    losses = numpy.array(plot["losses"], float)
    finite = numpy.where(numpy.isfinite(losses), losses, numpy.nan)
    axes.plot(finite, color=INK, linewidth=0.8)
    spikes = numpy.array(plot.get("spikes", []), int)
    if len(spikes):
        axes.plot(spikes, finite[spikes], "o", color=ALERT, markersize=3, label="spike")
    if plot.get("reference") is not None:
        axes.axhline(plot["reference"], color=ALERT, linestyle="--", linewidth=0.8,
                     label=plot.get("reference_label", ""))
    if len(spikes) or plot.get("reference_label"):
        axes.legend(fontsize=7, frameon=False)
    axes.set_xlabel("step", fontsize=8)
    axes.set_ylabel("loss", fontsize=8)


def _bars(axes, plot) -> None:
    values = numpy.array(plot["values"], float)
    axes.bar(range(len(values)), values, color=INK)
    axes.set_xticks(range(len(values)), plot["labels"], fontsize=7,
                    rotation=0 if len(values) < 8 else 90)
    if plot.get("reference") is not None:
        axes.axhline(plot["reference"], color=ALERT, linestyle="--", linewidth=0.8)


def _layers(axes, plot) -> None:
    _bars(axes, plot)
    if plot.get("log") and all(v > 0 for v in plot["values"]):
        axes.set_yscale("log")
    axes.set_xlabel("layer (input → output)", fontsize=8)


def _series(axes, plot) -> None:
    axes.plot(plot["values"], color=INK, linewidth=0.9)
    if plot.get("reference") is not None:
        axes.axhline(plot["reference"], color=ALERT, linestyle="--", linewidth=0.8)
    axes.set_xlabel("reading", fontsize=8)


def _epochs(axes, plot) -> None:
    epochs = range(1, len(plot["train"]) + 1)
    axes.plot(epochs, plot["train"], color=INK, label="training")
    if plot.get("val") and None not in plot["val"]:
        axes.plot(epochs, plot["val"], color=ALERT, label="validation")
    if plot.get("mark"):
        axes.axvline(plot["mark"], color=MUTED, linestyle=":", linewidth=0.9)
    axes.legend(fontsize=7, frameon=False)
    axes.set_xlabel("epoch", fontsize=8)
    axes.set_ylabel("loss", fontsize=8)


def _examples(pyplot, plot):
    """Up to 8 stubborn examples as pictures (or text), their labels as titles."""
    examples = plot.get("examples", [])
    if not examples or not any("image" in e for e in examples):
        figure, axes = pyplot.subplots(figsize=SIZE, dpi=100)
        axes.plot(plot.get("losses", []), color=INK)
        axes.set_title(plot.get("title", ""), fontsize=9)
        lines = [f"{e['label']}: {e.get('text', '')[:60]}" for e in examples[:6]]
        if lines:
            axes.text(0.02, 0.98, "\n".join(lines), transform=axes.transAxes, fontsize=6,
                      va="top")
        return figure
    columns = min(4, len(examples))
    rows = math.ceil(len(examples) / columns)
    figure, grid = pyplot.subplots(rows, columns, figsize=(SIZE[0], 1.2 * rows + 0.3), dpi=100,
                                   squeeze=False)
    for axes in grid.ravel():
        axes.axis("off")
    for axes, example in zip(grid.ravel(), examples):
        axes.imshow(numpy.array(example["image"]), cmap="gray_r")
        axes.set_title(f"labelled {example['label']}", fontsize=7)
    figure.suptitle("training examples whose loss stays high", fontsize=8)
    return figure


DRAWERS = {"loss": _loss, "bars": _bars, "layers": _layers, "series": _series,
           "epochs": _epochs}
