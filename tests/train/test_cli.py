"""The command line as a user meets it: train, predict, evaluate, and one-line errors."""
import os
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from chainrule import cli
from chainrule.data import load_dataset
from chainrule.train import pipeline


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A digits MLP trained once for the module (10 epochs: a few seconds)."""
    out = tmp_path_factory.mktemp("run")
    assert cli.main(["train", "--data", "digits", "--model", "mlp", "--epochs", "10",
                     "--out", str(out), "--no-progress"]) == 0
    return out


def run_cli(args, capsys):
    code = cli.main(args)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_train_end_to_end_reaches_95_percent_on_digits(trained):
    model, encoder, classes, config = pipeline.load_model(str(trained / "model.safetensors"))
    x, y = load_dataset("digits", seed=0).test
    predicted = [classes.index(label) for label, _ in pipeline.predict(model, encoder, classes, x)]
    assert np.mean(np.array(predicted) == y) >= 0.95
    assert os.path.exists(trained / "checkpoint.safetensors")


def test_predict_round_trips_through_image_files(trained, tmp_path, capsys):
    x, y = load_dataset("digits", seed=0).test
    paths = []
    for i in range(6):
        path = tmp_path / f"digit{i}.png"
        Image.fromarray((x[i, 0] * (255 / 16)).round().astype(np.uint8)).save(path)
        paths.append(str(path))
    code, out, _ = run_cli(["predict", str(trained / "model.safetensors"), *paths], capsys)
    assert code == 0
    labels = [line.split("\t")[0] for line in out.strip().splitlines()]
    model, encoder, classes, _ = pipeline.load_model(str(trained / "model.safetensors"))
    direct = [label for label, _ in pipeline.predict(model, encoder, classes, x[:6])]
    assert labels == direct
    assert sum(label == classes[t] for label, t in zip(labels, y[:6])) >= 5


def test_evaluate_prints_accuracy_and_confusion(trained, capsys):
    code, out, _ = run_cli(["evaluate", str(trained / "model.safetensors"), "--data", "digits"],
                           capsys)
    assert code == 0
    accuracy = float(out.split()[2])
    assert accuracy >= 0.95
    assert "confusion matrix" in out


def one_line_error(args, capsys) -> str:
    code, _, err = run_cli(args, capsys)
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("chainrule: error: "), err
    return lines[0]


def test_unknown_dataset_lists_the_known_ones(capsys, tmp_path):
    line = one_line_error(["train", "--data", "nope", "--out", str(tmp_path)], capsys)
    assert "nope" in line and "digits" in line and "mnist" in line


def test_unknown_model_lists_the_recipes(capsys, tmp_path):
    line = one_line_error(["train", "--model", "resnet", "--out", str(tmp_path)], capsys)
    assert "resnet" in line and "text-cnn" in line


def test_model_that_does_not_fit_the_data(capsys, tmp_path):
    line = one_line_error(["train", "--model", "bow-mlp", "--out", str(tmp_path)], capsys)
    assert "bow-mlp" in line and "image" in line


def test_malformed_csv_row_names_file_and_line(capsys, tmp_path):
    path = tmp_path / "table.csv"
    path.write_text("a,b,label\n1,2,0\n3,x,1\n")
    line = one_line_error(["train", "--data", f"csv:{path}", "--out", str(tmp_path)], capsys)
    assert "table.csv" in line and "3" in line


def test_empty_file(capsys, tmp_path):
    path = tmp_path / "empty.csv"
    path.write_text("")
    line = one_line_error(["train", "--data", f"text:{path}", "--out", str(tmp_path)], capsys)
    assert "empty" in line


def test_a_large_inverted_colour_photo_is_matched_to_the_training_images(trained, capsys,
                                                                       tmp_path):
    """A 200×200 RGB picture of a dark digit on a light background is converted, resized and
    inverted (each said on stderr) and gets the label the 8×8 original gets."""
    x, _ = load_dataset("digits", seed=0).test
    model, encoder, classes, _ = pipeline.load_model(str(trained / "model.safetensors"))
    right = 0
    for k in range(10):
        pixels = (x[k, 0] / 16.0 * 255).astype(np.uint8)
        photo = Image.fromarray(255 - pixels).resize((200, 200), Image.Resampling.BICUBIC)
        path = tmp_path / f"photo{k}.jpg"
        photo.convert("RGB").save(path)
        code, out, err = run_cli(["predict", str(trained / "model.safetensors"), str(path)],
                                 capsys)
        assert code == 0
        assert (f"{path}: converted from RGB to L, resized from 200x200 to 8x8, inverted "
                "(its background is light, the training images' dark)") in err
        expected = pipeline.predict(model, encoder, classes, x[k:k + 1])[0][0]
        right += out.split("\t")[0] == expected
    assert right >= 8


def test_checkpoint_from_another_architecture_names_the_parameter(trained, capsys, tmp_path):
    import chainrule as cr
    state = cr.load(str(trained / "model.safetensors"))
    weight = state["state_dict"]["1.weight"]
    state["state_dict"]["1.weight"] = cr.zeros(weight.shape[0] + 1, weight.shape[1])
    other = tmp_path / "other.safetensors"
    cr.save(state, str(other))
    line = one_line_error(["predict", str(other), "-"], capsys)
    assert "1.weight" in line and "shape" in line


def test_not_a_model_file(capsys, tmp_path):
    path = tmp_path / "junk.safetensors"
    path.write_bytes(b"not a checkpoint at all")
    line = one_line_error(["predict", str(path), "hello"], capsys)
    assert "junk.safetensors" in line


def test_unwritable_output_directory(capsys, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("a file where a directory should be")
    line = one_line_error(["train", "--epochs", "1", "--out", str(blocker / "run")], capsys)
    assert str(blocker) in line


def test_evaluate_on_data_with_other_labels(trained, capsys, tmp_path):
    path = tmp_path / "text.csv"
    path.write_text("text,label\n" + "".join(f"good {i},pos\nbad {i},neg\n" for i in range(20)))
    line = one_line_error(["evaluate", str(trained / "model.safetensors"), "--data",
                           f"text:{path}"], capsys)
    assert "classes" in line


def test_console_script_error_is_one_line_and_nonzero(tmp_path):
    result = subprocess.run([sys.executable, "-m", "chainrule.cli", "train", "--data", "nope",
                             "--out", str(tmp_path)], capture_output=True, text=True)
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0 and "Traceback" not in result.stderr
