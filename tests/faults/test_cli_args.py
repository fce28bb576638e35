"""Command-line arguments: a value out of range is refused in one line naming the flag and
the allowed range; no value the user gave is silently replaced; a run folder, a checkpoint
and the run they hold are what the flags say, or the command says why not."""
from __future__ import annotations

import math
import sys

import pytest

from chainrule.serialize import load, save
from chainrule.train import pipeline

from .conftest import separable_rows, write_csv

MAX_SEED = 2 ** 63 - 1

BAD_VALUES = [
    ("train", "--epochs", "0", "expected an integer from 1 to 1000000, got '0'"),
    ("train", "--epochs", "-1", "expected an integer from 1 to 1000000, got '-1'"),
    ("train", "--epochs", "1.5", "expected an integer from 1 to 1000000, got '1.5'"),
    ("train", "--epochs", "ten", "expected an integer from 1 to 1000000, got 'ten'"),
    ("train", "--epochs", "1000001", "expected an integer from 1 to 1000000, got '1000001'"),
    ("train", "--batch-size", "0", "expected an integer from 1 to 16777216, got '0'"),
    ("train", "--batch-size", "-32", "expected an integer from 1 to 16777216, got '-32'"),
    ("train", "--batch-size", "2.5", "expected an integer from 1 to 16777216, got '2.5'"),
    ("train", "--lr", "0", "expected a finite number above 0, got '0'"),
    ("train", "--lr", "-0.1", "expected a finite number above 0, got '-0.1'"),
    ("train", "--lr", "inf", "expected a finite number above 0, got 'inf'"),
    ("train", "--lr", "-inf", "expected a finite number above 0, got '-inf'"),
    ("train", "--lr", "nan", "expected a finite number above 0, got 'nan'"),
    ("train", "--lr", "1e999", "expected a finite number above 0, got '1e999'"),
    ("train", "--lr", "fast", "expected a finite number above 0, got 'fast'"),
    ("train", "--seed", "-1", f"expected an integer from 0 to {MAX_SEED}, got '-1'"),
    ("train", "--seed", str(2 ** 63), f"expected an integer from 0 to {MAX_SEED}, "
                                      f"got '{2 ** 63}'"),
    ("train", "--seed", "0x10", f"expected an integer from 0 to {MAX_SEED}, got '0x10'"),
    ("evaluate", "--seed", "-1", f"expected an integer from 0 to {MAX_SEED}, got '-1'"),
]


EXPLAIN_BAD_VALUES = [
    ("explain descent", "--steps", "0", "expected an integer from 1 to 1000, got '0'"),
    ("explain descent", "--lr", "nan", "expected a finite number above 0, got 'nan'"),
    ("explain descent", "--examples", "-5", "expected an integer from 1 to 1000000, got '-5'"),
    ("explain descent", "--train-steps", "-1", "expected an integer from 0 to 1000000, "
                                               "got '-1'"),
    ("explain descent", "--seed", "-1", f"expected an integer from 0 to {MAX_SEED}, got '-1'"),
    ("explain lr", "--start", "0", "expected a finite number above 0, got '0'"),
    ("explain lr", "--end", "inf", "expected a finite number above 0, got 'inf'"),
    ("explain lr", "--steps", "4", "expected an integer from 5 to 1000000, got '4'"),
    ("explain lr", "--batch-size", "0", "expected an integer from 1 to 16777216, got '0'"),
    ("explain lr", "--seed", "-1", f"expected an integer from 0 to {MAX_SEED}, got '-1'"),
    ("explain chain", "--lr", "-1", "expected a finite number above 0, got '-1'"),
    ("explain chain", "--seed", "x", f"expected an integer from 0 to {MAX_SEED}, got 'x'"),
]


@pytest.mark.parametrize("command,flag,value,message", EXPLAIN_BAD_VALUES,
                         ids=[f"{c}{f}={v}" for c, f, v, _ in EXPLAIN_BAD_VALUES])
def test_explain_refuses_values_out_of_range(chainrule, tmp_path, command, flag, value, message):
    line = chainrule.error(*command.split(), f"{flag}={value}", *(
        ["--out", tmp_path / "x.png"] if command != "explain chain" else []))
    assert line == f"chainrule {command}: argument {flag}: {message}"
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("command,flag,value,message", BAD_VALUES,
                         ids=[f"{c}{f}={v}" for c, f, v, _ in BAD_VALUES])
def test_out_of_range_values_are_refused_naming_the_flag(chainrule, tmp_path, command, flag,
                                                          value, message):
    args = [command, "model.safetensors"] if command == "evaluate" else [command]
    line = chainrule.error(*args, f"{flag}={value}", "--out", tmp_path / "run") \
        if command == "train" else chainrule.error(*args, f"{flag}={value}")
    assert line == f"chainrule {command}: argument {flag}: {message}"
    assert not (tmp_path / "run").exists()


def test_an_unknown_choice_is_one_line(chainrule):
    line = chainrule.error("train", "--optimizer", "lion")
    assert line.startswith("chainrule train: argument --optimizer: invalid choice: 'lion'")


def test_an_unknown_flag_is_one_line(chainrule):
    assert chainrule.error("train", "--bogus", "3") == \
        "chainrule: unrecognized arguments: --bogus 3"


def test_an_unknown_command_is_one_line(chainrule):
    assert chainrule.error("fit").startswith("chainrule: argument COMMAND: invalid choice: 'fit'")


def test_a_missing_argument_is_one_line(chainrule):
    assert chainrule.error("evaluate") == \
        "chainrule evaluate: the following arguments are required: model_file"


@pytest.mark.parametrize("flag,value", [("--epochs", "1"), ("--batch-size", "1"),
                                        ("--lr", "1e-9"), ("--seed", "0")])
def test_the_smallest_allowed_value_is_used_as_given(chainrule, tmp_path, flag, value):
    data = write_csv(tmp_path / "t.csv", separable_rows(40))
    code, out, err = chainrule("train", "--data", data, "--epochs", "1", flag, value,
                               "--out", tmp_path / "run", "--no-progress")
    assert code == 0, err
    run = load(str(tmp_path / "run" / "model.safetensors"))["run"]
    key = flag[2:].replace("-", "_")
    assert run[key] == type(run[key])(value)


# --- numerical faults --------------------------------------------------------------------
def test_a_huge_learning_rate_stops_training_naming_epoch_and_step(chainrule, tmp_path):
    line = chainrule.error("train", "--epochs", "3", "--lr", "1e30", "--optimizer", "sgd",
                           "--out", tmp_path, "--no-progress", code=1)
    assert line.startswith("training stopped: the loss is nan at epoch 1, step 2")
    assert line.endswith("; try a lower --lr, or --detect-anomaly to name the op that made it")
    assert not (tmp_path / "model.safetensors").exists()  # no NaN model is ever saved


def test_a_nan_mid_run_keeps_the_last_good_checkpoint(chainrule, tmp_path, monkeypatch):
    from chainrule.train import trainer as trainer_module
    real = trainer_module.Trainer.train_epoch

    def poisoned(self, loader, epoch, epochs):  # epoch 3's weights become NaN
        if epoch == 2:
            next(iter(self.model.parameters())).array[...] = float("nan")
        return real(self, loader, epoch, epochs)

    monkeypatch.setattr(trainer_module.Trainer, "train_epoch", poisoned)
    line = chainrule.error("train", "--epochs", "4", "--out", tmp_path, "--no-progress", code=1)
    checkpoint = tmp_path / "checkpoint.safetensors"
    assert line.startswith(f"training stopped: the loss is nan at epoch 3, step {2 * 40 + 1}; "
                           f"the last good checkpoint is kept in {checkpoint}")
    assert load(str(checkpoint))["epoch"] == 2
    assert not (tmp_path / "model.safetensors").exists()


def test_detect_anomaly_names_the_op(chainrule, tmp_path):
    line = chainrule.error("train", "--epochs", "2", "--lr", "1e30", "--optimizer", "sgd",
                           "--detect-anomaly", "--out", tmp_path, "--no-progress", code=2)
    assert line.startswith("anomaly mode: the forward pass of Linear produced +Inf and -Inf")
    assert not (tmp_path / "model.safetensors").exists()


# --- the run folder ----------------------------------------------------------------------
def test_training_over_another_run_is_refused(chainrule, digits_run):
    before = (digits_run / "model.safetensors").read_bytes()
    assert chainrule.error("train", "--out", digits_run, "--no-progress") == (
        f"{digits_run} already holds a run (model.safetensors, checkpoint.safetensors); pass "
        "--resume to continue it, --overwrite to replace it, or another --out")
    assert (digits_run / "model.safetensors").read_bytes() == before


def test_overwrite_replaces_the_run(chainrule, tmp_path):
    data = write_csv(tmp_path / "t.csv", separable_rows(40))
    args = ["train", "--data", data, "--epochs", "1", "--out", tmp_path / "run", "--no-progress"]
    assert chainrule(*args)[0] == 0
    assert chainrule(*args, "--seed", "3", "--overwrite")[0] == 0
    assert load(str(tmp_path / "run" / "model.safetensors"))["run"]["seed"] == 3


def test_resume_and_overwrite_together_are_refused(chainrule, tmp_path):
    assert chainrule.error("train", "--resume", "--overwrite", "--out", tmp_path) == (
        "--resume continues the run in the output folder and --overwrite replaces it: give "
        "one of them")


def test_resume_without_a_checkpoint_says_so(chainrule, tmp_path):
    assert chainrule.error("train", "--resume", "--out", tmp_path / "empty") == (
        f"--resume: there is no checkpoint to resume in {tmp_path / 'empty'} (no "
        "checkpoint.safetensors); leave out --resume to start a new run")
    assert not (tmp_path / "empty" / "model.safetensors").exists()


def test_resume_of_a_finished_run_says_so(chainrule, digits_run):
    assert chainrule.error("train", "--resume", "--out", digits_run, "--no-progress") == (
        f"--resume: the run in {digits_run} already finished its 2 epochs; pass --epochs "
        "above 2 to train it longer")


@pytest.mark.parametrize("flag,value,recorded", [
    ("--seed", "1", "0"), ("--data", "csv:x.csv", "digits"), ("--model", "cnn", "mlp"),
    ("--batch-size", "64", "32"), ("--optimizer", "sgd", "adamw"), ("--lr", "0.01", "0.001")])
def test_resume_with_other_settings_is_refused(chainrule, digits_run, flag, value, recorded):
    before = (digits_run / "checkpoint.safetensors").read_bytes()
    assert chainrule.error("train", "--resume", "--epochs", "3", flag, value, "--out",
                           digits_run, "--no-progress") == (
        f"--resume: the run in {digits_run} was trained with {flag} {recorded}, not {value}; "
        "resume with the same settings, or train a new run in another --out")
    assert (digits_run / "checkpoint.safetensors").read_bytes() == before


def test_resume_of_changed_data_is_refused(chainrule, tmp_path):
    rows = separable_rows(40)
    data = write_csv(tmp_path / "t.csv", rows)
    assert chainrule("train", "--data", data, "--epochs", "1", "--out", tmp_path / "r",
                     "--no-progress")[0] == 0
    write_csv(tmp_path / "t.csv", rows + ["9,9,yes"])
    assert chainrule.error("train", "--resume", "--epochs", "2", "--out", tmp_path / "r") == (
        f"--resume: the data {data} has changed since the checkpoint in {tmp_path / 'r'} was "
        "written; train a new run in another --out")


def test_resume_of_an_old_checkpoint_without_settings_is_refused(chainrule, tmp_path):
    state = load(str(pipeline_run(tmp_path) / "checkpoint.safetensors"))
    del state["run"]
    save(state, str(tmp_path / "run" / "checkpoint.safetensors"))
    assert chainrule.error("train", "--resume", "--epochs", "3", "--out", tmp_path / "run") == (
        f"--resume: {tmp_path / 'run' / 'checkpoint.safetensors'} does not record the settings "
        "of its run (an older chainrule wrote it); start a new run with --overwrite")


def pipeline_run(tmp_path, epochs=1, **settings):
    data = write_csv(tmp_path / "t.csv", separable_rows(40))
    pipeline.train(data, "mlp", epochs=epochs, out_dir=str(tmp_path / "run"), progress=False,
                   log=lambda *_: None, **settings)
    return tmp_path / "run"


def test_resume_with_more_epochs_continues_the_cosine_of_the_new_length(tmp_path):
    folder = pipeline_run(tmp_path, epochs=2, seed=5)
    result = pipeline.train(None, None, epochs=4, out_dir=str(folder), resume=True,
                            progress=False, log=lambda *_: None)
    lrs = [record["lr"] for record in result["history"].epochs]
    lr0 = 1e-2  # the mlp recipe's learning rate on signals (a CSV table)
    # epochs 1-2 followed the 2-epoch cosine; 3-4 follow the 4-epoch one from where it stands
    assert lrs == pytest.approx([lr0, lr0 / 2, lr0 * (1 + math.cos(math.pi * 2 / 4)) / 2,
                                 lr0 * (1 + math.cos(math.pi * 3 / 4)) / 2])
    run = load(str(folder / "model.safetensors"))["run"]
    assert run["epochs"] == 4 and run["seed"] == 5   # the seed came from the checkpoint


@pytest.mark.parametrize("scheduler", ["step", "onecycle"])
def test_resume_with_more_epochs_stretches_other_schedules(tmp_path, scheduler):
    folder = pipeline_run(tmp_path, epochs=3, scheduler=scheduler)
    resumed = pipeline.train(None, None, epochs=6, out_dir=str(folder), resume=True,
                             progress=False, log=lambda *_: None)["history"].epochs
    lrs = [record["lr"] for record in resumed]
    lr0 = 1e-2
    if scheduler == "step":  # divided by 10 after each third of the 6 epochs, from epoch 4 on
        assert lrs == pytest.approx([lr0, lr0 / 10, lr0 / 100, lr0 / 10, lr0 / 100, lr0 / 100])
    else:  # the 6-epoch cycle goes on from its step 3/6 (near its top), instead of running out
        assert len(lrs) == 6 and lrs[3] > lrs[2] and lrs[5] < lrs[4] < lrs[3]


# --- evaluate: the split of the training run ---------------------------------------------
def test_evaluate_with_another_seed_is_refused(chainrule, digits_run):
    model = digits_run / "model.safetensors"
    assert chainrule.error("evaluate", model, "--seed", "1") == (
        f"{model} was trained on digits split with --seed 0; with --seed 1 the split would "
        "hold training examples (leave out --seed)")


def test_evaluate_defaults_to_the_recorded_data_and_seed(chainrule, tmp_path):
    folder = pipeline_run(tmp_path, epochs=3, seed=7)
    code, out, err = chainrule("evaluate", folder / "model.safetensors")
    assert code == 0, err
    metrics = pipeline.evaluate(str(folder / "model.safetensors"))
    assert out.startswith(f"test accuracy {metrics['accuracy']:.4f}")


def test_evaluate_on_changed_data_is_refused(chainrule, tmp_path):
    folder = pipeline_run(tmp_path)
    write_csv(tmp_path / "t.csv", separable_rows(41))
    assert chainrule.error("evaluate", folder / "model.safetensors") == (
        f"csv:{tmp_path / 't.csv'} has changed since {folder / 'model.safetensors'} was trained "
        "on it, so its splits may mix training and test examples; train again")


def test_evaluate_on_the_same_data_under_another_name_is_refused(chainrule, tmp_path):
    folder = pipeline_run(tmp_path)
    (tmp_path / "copy.csv").write_bytes((tmp_path / "t.csv").read_bytes())
    line = chainrule.error("evaluate", folder / "model.safetensors", "--data",
                           f"csv:{tmp_path / 'copy.csv'}", "--seed", "2")
    assert line.endswith("with --seed 2 the split would hold training examples (leave out "
                         "--seed)")


def test_evaluate_on_data_of_another_shape_is_one_line(chainrule, tmp_path, digits_run):
    model = digits_run / "model.safetensors"
    data = write_csv(tmp_path / "t.csv", [f"{i % 3},{i % 5},{i % 10}" for i in range(200)])
    assert chainrule.error("evaluate", model, "--data", data) == (
        f"{model} takes images of shape (1, 8, 8), but {data} has signals of length 2")


def test_evaluate_on_data_of_another_kind_is_one_line(chainrule, tmp_path):
    text = tmp_path / "t.csv"
    text.write_text("text,label\n" + "".join(f"good {i},{i % 10}\n" for i in range(100)))
    folder = tmp_path / "run"
    assert chainrule("train", "--data", f"text:{text}", "--model", "bow-mlp", "--epochs", "1",
                     "--out", folder, "--quiet")[0] == 0
    assert chainrule.error("evaluate", folder / "model.safetensors", "--data", "digits") == (
        f"{folder / 'model.safetensors'} takes text, but digits has images of shape (1, 8, 8)")


# --- predict ---------------------------------------------------------------------------
def test_predict_a_non_utf8_file_names_file_and_byte(chainrule, tmp_path):
    folder = pipeline_run(tmp_path)
    text = tmp_path / "s.txt"
    text.write_bytes(b"fine\nbad \xff here\n")
    assert chainrule.error("predict", folder / "model.safetensors", "--file", text) == (
        f"{text}:2: not UTF-8 text (byte 0xff at offset 9)")


def test_predict_csv_rows_with_nan_are_refused(chainrule, tmp_path):
    folder = pipeline_run(tmp_path)
    rows = tmp_path / "rows.csv"
    rows.write_text("a,b\n1,2\nnan,1\n")
    assert chainrule.error("predict", folder / "model.safetensors", rows) == (
        f"predict: {rows}:3: a value is NaN, infinite or beyond float32's range")


def test_a_missing_optional_package_names_the_install(chainrule, tmp_path, digits_run,
                                                      monkeypatch):
    monkeypatch.setitem(sys.modules, "PIL", None)  # `import PIL` fails as if not installed
    image = tmp_path / "x.png"
    image.write_bytes(b"")
    assert chainrule.error("predict", digits_run / "model.safetensors", image) == (
        "this needs the optional package 'PIL', which is not installed: "
        "pip install 'pillow>=9,<14'")


# --- the same rules for the library's train() --------------------------------------------
@pytest.mark.parametrize("setting,value,message", [
    ("epochs", 0, "epochs must be an integer of at least 1, got 0"),
    ("epochs", True, "epochs must be an integer of at least 1, got True"),
    ("batch_size", 0, "batch_size must be an integer of at least 1, got 0"),
    ("seed", -1, "seed must be an integer of at least 0, got -1"),
    ("lr", 0.0, "lr must be a finite number above 0, got 0.0"),
    ("lr", float("nan"), "lr must be a finite number above 0, got nan"),
])
def test_train_refuses_a_setting_out_of_range(tmp_path, setting, value, message):
    with pytest.raises(ValueError) as caught:
        pipeline.train(out_dir=str(tmp_path), progress=False, **{setting: value})
    assert str(caught.value) == f"train: {message}"
    assert list(tmp_path.iterdir()) == []
