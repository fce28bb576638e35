"""The training report: one self-contained HTML page, rendered by headless Chromium without
errors, with its pictures."""
import html.parser
import re
import shutil
import subprocess

import numpy as np
import pytest

from chainrule import cli
from chainrule.data.splits import Splits
from chainrule.explain import report as report_module

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
# loss and accuracy, learning rate, gradient norms, weight histograms, confusion matrix, and
# the graph when Graphviz draws it
SVGS = 6 if shutil.which("dot") else 5
needs_chromium = pytest.mark.skipif(CHROMIUM is None,
                                    reason="Chromium missing: bash scripts/install_system.sh")


@pytest.fixture(scope="module")
def page(tmp_path_factory):
    """`chainrule train --report` on the digits MLP, 2 short epochs."""
    out = tmp_path_factory.mktemp("report")
    path = out / "report.html"
    assert cli.main(["train", "--epochs", "2", "--batch-size", "128", "--out", str(out),
                     "--no-progress", "--report", str(path)]) == 0
    return path


def chromium(*args, tmp_path):
    command = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu",
               "--disable-background-networking", "--disable-component-update",
               "--disable-sync", "--no-first-run", "--hide-scrollbars",
               f"--user-data-dir={tmp_path / 'profile'}", "--enable-logging=stderr", "--v=0",
               *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=120,
                          check=False)


class Elements(html.parser.HTMLParser):
    """Counts <svg> elements with drawing inside, and collects <img> sources."""

    def __init__(self):
        super().__init__()
        self.svgs, self.images, self.open_svg = [], [], 0

    def handle_starttag(self, tag, attrs):
        if tag == "svg":
            self.open_svg += 1
            if self.open_svg == 1:
                self.svgs.append(0)
        elif self.open_svg and tag in ("path", "polygon", "polyline", "ellipse", "text", "use"):
            self.svgs[-1] += 1
        if tag == "img":
            self.images.append(dict(attrs).get("src", ""))

    def handle_endtag(self, tag):
        if tag == "svg":
            self.open_svg -= 1


def elements(markup):
    parser = Elements()
    parser.feed(markup)
    return parser


def test_the_page_is_self_contained(page, capsys):
    assert f"report written to {page}" in capsys.readouterr().out or page.exists()
    text = page.read_text(encoding="utf-8")
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:|//)""", text)
    assert "<script" not in text and "<link" not in text and "@import" not in text
    found = elements(text)
    assert len(found.svgs) == SVGS and all(n > 10 for n in found.svgs)
    assert len(found.images) == 1 and found.images[0].startswith("data:image/png;base64,")
    for heading in ("Loss and accuracy", "Learning rate", "Gradient norms per layer",
                    "Weights at the start", "Confusion matrix", "Misclassified test examples",
                    "The network&#x27;s graph", "test accuracy"):
        assert heading in text


@needs_chromium
def test_chromium_renders_the_report(page, tmp_path):
    from PIL import Image
    shot = tmp_path / "shot.png"
    done = chromium(f"--screenshot={shot}", "--window-size=1200,5000", page.as_uri(),
                    tmp_path=tmp_path)
    assert shot.exists(), done.stderr[-2000:]
    pixels = np.asarray(Image.open(shot).convert("L"), dtype=float)
    assert pixels.shape == (5000, 1200)
    assert pixels.std() > 20  # not a blank page
    rows_with_ink = (pixels < 200).any(axis=1).mean()
    assert rows_with_ink > 0.3  # drawings all the way down, not one line of text
    assert ":CONSOLE" not in done.stderr

    dom = chromium("--dump-dom", page.as_uri(), tmp_path=tmp_path)
    assert dom.returncode == 0, dom.stderr[-2000:]
    assert ":CONSOLE" not in dom.stderr  # no script errors, no failed loads reported
    found = elements(dom.stdout)
    assert len(found.svgs) == SVGS and all(n > 10 for n in found.svgs)
    assert found.images and all(src.startswith("data:image/png") for src in found.images)
    # the new plots, as the browser built them: the best epoch in the loss legend, the log
    # scale, the smoothed gradient norms, and the confusion matrix's axes
    rendered = dom.stdout
    for text in ("best epoch (2)", "log scale", "learning rate", "smoothed; faint: raw",
                 "predicted class", "fraction of the true class", "#1 Linear [1]"):
        assert text in rendered, text


def test_text_examples_are_shown_as_text():
    splits = Splits(train=(None, None), val=(None, None),
                    test=(np.array(["a <b>good</b> film", "dull"], dtype=object),
                          np.array([1, 0])), kind="text", classes=["neg", "pos"])
    markup = report_module._misclassified(splits, *splits.test, predictions=np.array([0, 0]))
    assert "a &lt;b&gt;good&lt;/b&gt; film" in markup
    assert "true: pos, predicted: neg" in markup and "dull" not in markup


def test_the_graph_falls_back_to_dot_text_without_graphviz(monkeypatch, tmp_path):
    from chainrule.explain import graph
    monkeypatch.setattr(graph.shutil, "which", lambda name: None)
    from chainrule import nn
    model = nn.Sequential(nn.Linear(64, 10))
    splits = Splits(train=(None, None), val=(None, None),
                    test=(np.zeros((2, 1, 8, 8), np.float32), np.array([1, 2])), kind="image",
                    classes=[str(d) for d in range(10)], image_shape=(1, 8, 8), pixel_max=16.0)

    class Flat:
        def transform(self, x):
            return x.reshape(len(x), -1)

    markup = report_module._graph(model, splits, Flat())
    assert "<pre>digraph chainrule" in markup and "apt-get install graphviz" in markup


def test_the_recorder_reads_each_sampled_steps_gradient_norms():
    """Every 2nd step (and step 1), ‖∂L/∂θ‖ of each layer, read by hooks during backward:
    equal to the norm of .grad after that step's backward (no clipping here)."""
    import chainrule as cr
    from chainrule.autograd import hooks
    from chainrule.train.trainer import Callback, Trainer

    class GradNorms(Callback):  # what the recorder should see, read from .grad
        def __init__(self):
            self.norms = {}

        def on_batch_end(self, trainer, step, loss):
            self.norms[step] = [float(np.sqrt(sum((p.grad.array ** 2).sum()
                                                  for p in layer.parameters())))
                                for layer in trainer.model]

    cr.manual_seed(0)
    model = cr.nn.Sequential(cr.nn.Linear(4, 8), cr.nn.Tanh(), cr.nn.Linear(8, 3))
    data = cr.utils.data.TensorDataset(cr.randn(24, 4), cr.randint(0, 3, (24,)))
    recorder, truth = report_module.ReportRecorder(every=2), GradNorms()
    trainer = Trainer(model, cr.optim.SGD(model.parameters(), lr=0.1), progress=False,
                      callbacks=[recorder, truth])
    trainer.fit(cr.utils.data.DataLoader(data, batch_size=6), epochs=1)
    assert recorder.grad_steps == [1, 2, 4]
    for i, step in enumerate(recorder.grad_steps):
        np.testing.assert_allclose([recorder.grad_norms["0"][i], recorder.grad_norms["2"][i]],
                                   [truth.norms[step][0], truth.norms[step][2]], rtol=1e-6)
    assert not hooks.accumulate_hooks  # removed after each sampled step: the others pay nothing
