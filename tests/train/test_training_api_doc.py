"""docs/training-api.md runs as written: its Python blocks in order in one namespace, and a
```text block right after one is exactly what it prints."""
import contextlib
import io
import os
import re
from pathlib import Path

DOC = Path(__file__).resolve().parents[2] / "docs" / "training-api.md"
BLOCK = re.compile(r"^```(\w*)\n(.*?)^```\n", re.DOTALL | re.MULTILINE)


def test_every_block_runs_and_prints_what_the_page_shows(tmp_path):
    text = DOC.read_text(encoding="utf-8")
    found = [(m.group(1), m.group(2)) for m in BLOCK.finditer(text)]
    namespace, printed = {"__name__": "doc"}, {}
    previous = os.getcwd()
    os.chdir(tmp_path)
    try:
        for k, (language, code) in enumerate(found):
            if language != "python":
                continue
            buffer = io.StringIO()
            with contextlib.redirect_stdout(buffer):
                exec(compile(code, f"{DOC.name}, block {k + 1}", "exec"), namespace)  # noqa: S102
            printed[k] = buffer.getvalue()
    finally:
        os.chdir(previous)
    assert len(printed) == 5
    for k, output in printed.items():
        if k + 1 < len(found) and found[k + 1][0] == "text":
            assert output.rstrip() == found[k + 1][1].rstrip()
    first, history_block, callback, folder = (printed[k] for k in sorted(printed)[:4])
    assert float(first) >= 0.9  # the XOR of signs, learned
    assert history_block.startswith(
        "['epoch', 'lr', 'seconds', 'train_acc', 'train_loss', 'val_acc', 'val_loss']")
    assert int(callback.split()[0]) < 50  # stopped once the goal was reached
    best_epoch = int(folder.split()[0])
    assert "['best.safetensors', 'checkpoint.safetensors', 'metrics.csv']" in folder
    trainer = namespace["trainer"]
    assert best_epoch == min(trainer.history.epochs, key=lambda e: e["val_loss"])["epoch"]
    assert len(trainer.history.epochs) == best_epoch + 3 or len(trainer.history.epochs) == 40
