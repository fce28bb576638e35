"""What a `chainrule train` run leaves in its folder, and the flags that shape it: metrics.csv,
best.safetensors, run.toml and --config, TensorBoard files, early stopping, schedulers,
--device, the model summary, evaluate's named confusion matrix, predict on CSV rows."""
import csv
import math

import numpy as np
import pytest

from chainrule import cli
from chainrule.train import pipeline
from chainrule.train.config import read_config, write_config


def run_cli(args, capsys):
    code = cli.main(args)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    """4 epochs of the digits MLP with early stopping watching, and the output it printed."""
    out = tmp_path_factory.mktemp("run")
    result = pipeline.train("digits", "mlp", epochs=4, out_dir=str(out), progress=False,
                            early_stopping=3, log=lambda line: None)
    return out, result


def test_metrics_csv_has_one_row_per_epoch(run):
    out, result = run
    with open(out / "metrics.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [int(r["epoch"]) for r in rows] == [1, 2, 3, 4]
    assert list(rows[0])[:7] == ["epoch", "train_loss", "train_acc", "val_loss", "val_acc",
                                 "lr", "seconds"]
    for row, record in zip(rows, result["history"].epochs):
        for key in ("train_loss", "val_loss", "val_acc", "lr"):
            assert float(row[key]) == pytest.approx(record[key], rel=1e-12)
    lrs = [float(r["lr"]) for r in rows]
    assert lrs[0] == pytest.approx(1e-3) and lrs == sorted(lrs, reverse=True)  # the cosine


def test_best_model_is_the_lowest_validation_loss(run):
    out, result = run
    history = result["history"].epochs
    best_epoch = min(history, key=lambda e: e["val_loss"])["epoch"]
    model, encoder, classes, _ = pipeline.load_model(str(out / "best.safetensors"))
    splits = __import__("chainrule").data.load_dataset("digits", seed=0)
    from chainrule.train.trainer import Trainer
    scored = Trainer(model, optimizer=None, progress=False).evaluate(
        pipeline._loader(encoder.transform(splits.val[0]), splits.val[1], 512))
    assert scored["loss"] == pytest.approx(history[best_epoch - 1]["val_loss"], rel=1e-5)


def test_run_toml_holds_the_resolved_settings_and_round_trips(run, tmp_path):
    out, _ = run
    settings = read_config(str(out / "run.toml"))
    assert settings == {"data": "digits", "model": "mlp", "seed": 0, "epochs": 4,
                        "batch_size": 32, "optimizer": "adamw", "lr": 0.001,
                        "weight_decay": 0.05, "scheduler": "cosine", "early_stopping": 3,
                        "device": "cpu"}
    odd = {"name": 'say "hi"\\ \n', "big": 1e300, "inf": math.inf, "yes": True, "none": None}
    read = read_config(write_config(str(tmp_path / "odd.toml"), odd))
    assert read == {"name": 'say "hi"\\ \n', "big": 1e300, "inf": math.inf, "yes": True}


def test_config_file_is_read_and_flags_override_it(tmp_path, capsys):
    config = tmp_path / "run.toml"
    config.write_text('data = "digits"\nepochs = 3\nbatch-size = 64\nlr = 0.002\n'
                      'scheduler = "step"\nquiet = true\n')
    out = tmp_path / "run"
    code, printed, _ = run_cli(["train", "--config", str(config), "--epochs", "2",
                                "--out", str(out)], capsys)
    assert code == 0
    assert "epoch" not in printed and "test accuracy" in printed  # quiet came from the file
    settings = read_config(str(out / "run.toml"))
    assert (settings["epochs"], settings["batch_size"], settings["lr"],
            settings["scheduler"]) == (2, 64, 0.002, "step")


@pytest.mark.parametrize("text, message", [
    ("epochs = 3\ncolour = 1\n", "'colour' is not a setting of `chainrule train`; known:"),
    ("epochs = 0\n", "--epochs: expected an integer from 1"),
    ("epochs = [\n", "is not valid TOML"),
    ("[train]\nepochs = 3\n", "[train] tables are not settings"),
])
def test_bad_config_files_are_one_line(tmp_path, capsys, text, message):
    config = tmp_path / "run.toml"
    config.write_text(text)
    code, _, err = run_cli(["train", "--config", str(config), "--out", str(tmp_path / "o")],
                           capsys)
    assert code == 2 and message in err and err.count("\n") == 1


def test_missing_config_file(tmp_path, capsys):
    code, _, err = run_cli(["train", "--config", str(tmp_path / "nope.toml")], capsys)
    assert code == 2 and "--config: no such file" in err


def scalars(folder):
    """{tag: [(step, value)]} from the TFRecord event files in `folder` (each record: an
    8-byte length, a 4-byte CRC, the Event protobuf, a 4-byte CRC)."""
    from tensorboardX.proto.event_pb2 import Event
    found = {}
    for path in sorted(folder.iterdir()):
        data = path.read_bytes()
        at = 0
        while at < len(data):
            length = int.from_bytes(data[at:at + 8], "little")
            event = Event.FromString(data[at + 12:at + 12 + length])
            at += 12 + length + 4
            for value in event.summary.value:
                found.setdefault(value.tag, []).append((event.step, value.simple_value))
    return found


def test_tensorboard_event_files_hold_the_scalars(tmp_path, capsys):
    pytest.importorskip("tensorboardX")
    out = tmp_path / "run"
    assert run_cli(["train", "--epochs", "2", "--tensorboard", "--out", str(out), "-q"],
                   capsys)[0] == 0
    found = scalars(out / "tensorboard")
    assert {"loss/train", "loss/val", "accuracy/train", "accuracy/val", "learning_rate",
            "batch/train_loss"} <= set(found)
    with open(out / "metrics.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [step for step, _ in found["loss/val"]] == [1, 2]
    assert [v for _, v in found["loss/val"]] == pytest.approx(
        [float(r["val_loss"]) for r in rows], rel=1e-6)


def test_tensorboard_missing_is_one_line(tmp_path, capsys, monkeypatch):
    import sys
    monkeypatch.setitem(sys.modules, "tensorboardX", None)
    code, _, err = run_cli(["train", "--epochs", "1", "--tensorboard", "--out",
                            str(tmp_path / "r")], capsys)
    assert code == 2 and "pip install 'chainrule[tensorboard]'" in err


def test_early_stopping_stops_and_keeps_the_best(tmp_path, capsys):
    # a learning rate this large makes the validation loss climb after its first epochs
    code, out, _ = run_cli(["train", "--epochs", "30", "--lr", "0.05", "--scheduler", "none",
                            "--early-stopping", "2", "--out", str(tmp_path / "r")], capsys)
    assert code == 0
    with open(tmp_path / "r" / "metrics.csv", newline="") as handle:
        losses = [float(r["val_loss"]) for r in csv.DictReader(handle)]
    best = int(np.argmin(losses))
    assert len(losses) == best + 1 + 2 < 30  # two epochs without a better one, then stop
    assert "early stopping" in out


@pytest.mark.parametrize("name, check", [
    ("none", lambda lrs: lrs == [0.001] * 4),
    ("step", lambda lrs: lrs == pytest.approx([1e-3, 1e-4, 1e-5, 1e-6])),
    ("onecycle", lambda lrs: lrs[0] < lrs[1] and lrs[-1] < lrs[1]),
    ("plateau", lambda lrs: lrs[0] == 0.001),
])
def test_schedulers(tmp_path, name, check):
    result = pipeline.train(epochs=4, out_dir=str(tmp_path), progress=False, scheduler=name,
                            log=lambda line: None)
    assert check(result["history"].series("lr"))


def test_weight_decay_and_clipping_reach_the_optimizer_and_trainer(tmp_path, monkeypatch):
    seen = {}
    original = pipeline.Trainer.__init__

    def spy(self, model, optimizer, **kwargs):
        seen.update(weight_decay=optimizer.param_groups[0]["weight_decay"],
                    clip=kwargs.get("clip_grad_norm"))
        original(self, model, optimizer, **kwargs)

    monkeypatch.setattr(pipeline.Trainer, "__init__", spy)
    pipeline.train(epochs=1, out_dir=str(tmp_path), progress=False, weight_decay=0.0,
                   clip_grad_norm=0.5, log=lambda line: None)
    assert seen == {"weight_decay": 0.0, "clip": 0.5}


def test_cuda_without_cupy_or_gpu_is_one_line(tmp_path, capsys):
    try:
        import cupy
        if cupy.cuda.runtime.getDeviceCount():
            pytest.skip("a GPU is here")
    except Exception:  # noqa: BLE001 - no CuPy, or no driver
        pass
    code, _, err = run_cli(["train", "--device", "cuda", "--out", str(tmp_path)], capsys)
    assert code == 2 and err.count("\n") == 1
    assert "--device cuda" in err and ("chainrule[gpu]" in err or "no CUDA GPU" in err)


def test_summary_lists_layers_shapes_and_parameters(run, capsys):
    out, _ = run
    code, printed, _ = run_cli(["summary", str(out / "model.safetensors")], capsys)
    assert code == 0
    lines = printed.splitlines()
    assert lines[1].split() == ["layer", "type", "output", "shape", "parameters"]
    assert lines[2].split() == ["0", "Flatten", "(N,", "64)", "0"]
    assert lines[3].split() == ["1", "Linear", "(N,", "256)", "16,640"]  # 64·256 + 256
    assert lines[-2].split() == ["7", "Linear", "(N,", "10)", "1,290"]
    assert lines[-1].split() == ["total", "50,826", "(50,826", "trainable)"]


def test_summary_of_a_recipe_and_at_the_start_of_training(capsys, tmp_path):
    code, printed, _ = run_cli(["summary", "cnn"], capsys)
    assert code == 0 and "Conv2d" in printed and "(N, 16, 8, 8)" in printed
    code, printed, _ = run_cli(["train", "--epochs", "1", "--out", str(tmp_path)], capsys)
    assert "16,640" in printed.split("epoch")[0]  # the summary comes before the first epoch


def test_evaluate_prints_the_confusion_matrix_with_class_names(tmp_path, capsys):
    table = tmp_path / "fruit.csv"
    rng = np.random.default_rng(0)
    rows = ["size,weight,label"]
    for k in range(300):
        name = ["apple", "banana", "cherry"][k % 3]
        centre = {"apple": 0.0, "banana": 3.0, "cherry": 6.0}[name]
        rows.append(f"{centre + rng.normal():.3f},{centre + rng.normal():.3f},{name}")
    table.write_text("\n".join(rows) + "\n")
    out = tmp_path / "run"
    assert run_cli(["train", "--data", f"csv:{table}", "--epochs", "5", "--out", str(out),
                    "-q"], capsys)[0] == 0
    code, printed, _ = run_cli(["evaluate", str(out / "model.safetensors")], capsys)
    assert code == 0
    matrix = printed.splitlines()[-4:]
    assert matrix[0].split() == ["apple", "banana", "cherry"]
    assert [row.split()[0] for row in matrix[1:]] == ["apple", "banana", "cherry"]
    counts = np.array([[int(v) for v in row.split()[1:]] for row in matrix[1:]])
    assert counts.sum() == 60 and np.trace(counts) >= 54  # a 20% test split of 300 rows

    # predict reads CSV rows (a label column, by name, is dropped)
    new = tmp_path / "new.csv"
    new.write_text("size,label,weight\n0.1,?,0.2\n6.2,?,5.9\n")
    code, printed, _ = run_cli(["predict", str(out / "model.safetensors"), str(new)], capsys)
    assert code == 0
    assert [line.split("\t")[0] for line in printed.splitlines()] == ["apple", "cherry"]
    assert printed.splitlines()[1].endswith(f"{new}:3")
    new.write_text("1,2,3,4\n")
    code, _, err = run_cli(["predict", str(out / "model.safetensors"), str(new)], capsys)
    assert code == 2 and "takes 2 numbers a row, this row has 4" in err


def test_resume_keeps_the_schedule_and_the_new_settings(tmp_path, capsys):
    out = str(tmp_path / "run")
    assert run_cli(["train", "--epochs", "2", "--scheduler", "step", "--weight-decay", "0",
                    "--clip-grad-norm", "1", "--out", out, "-q"], capsys)[0] == 0
    assert run_cli(["train", "--epochs", "4", "--resume", "--out", out, "-q"], capsys)[0] == 0
    settings = read_config(f"{out}/run.toml")
    assert (settings["scheduler"], settings["weight_decay"], settings["clip_grad_norm"],
            settings["epochs"]) == ("step", 0.0, 1.0, 4)
    with open(f"{out}/metrics.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [int(r["epoch"]) for r in rows] == [1, 2, 3, 4]  # every epoch once
    code, _, err = run_cli(["train", "--epochs", "5", "--resume", "--scheduler", "cosine",
                            "--out", out], capsys)
    assert code == 2 and "was trained with --scheduler step, not cosine" in err


def test_summary_marks_the_batch_dimension_wherever_it_is():
    import chainrule as cr
    from chainrule import nn
    from chainrule.train import summary

    class Recurrent(nn.Module):
        def __init__(self):
            super().__init__()
            self.rnn = nn.GRU(3, 4, batch_first=True)
            self.head = nn.Linear(4, 2)

        def forward(self, x):
            out, h = self.rnn(x)
            return self.head(h[-1])

    text = summary(Recurrent(), cr.zeros(1, 5, 3))
    assert text.splitlines()[1].split()[:5] == ["rnn", "GRU", "(N,", "5,", "4)"]
    assert "(1, N, 4)" in text.splitlines()[1]  # the hidden state: (layers, N, hidden)
    assert text.splitlines()[2].split()[:4] == ["head", "Linear", "(N,", "2)"]
