"""`chainrule export MODEL --onnx OUT`: a trained model file becomes an ONNX file that
onnxruntime runs, with the same logits as chainrule, for any batch size."""
from __future__ import annotations

import numpy
import pytest

from chainrule import cli
from chainrule.tensor import Tensor
from chainrule.train import model_file, pipeline

ort = pytest.importorskip("onnxruntime")


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    out = tmp_path_factory.mktemp("run")
    assert cli.main(["train", "--data", "digits", "--model", "cnn", "--epochs", "1",
                     "--out", str(out), "--no-progress", "--quiet"]) == 0
    return out / "model.safetensors"


def test_export_writes_a_file_onnxruntime_runs(trained, tmp_path, capsys):
    out = tmp_path / "digits.onnx"
    assert cli.main(["export", str(trained), "--onnx", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "input 'image' (1, 1, 8, 8) float32" in printed
    assert "onnxruntime runs it" in printed
    model, encoder, classes, config = model_file.load_model(str(trained))
    pixels = numpy.random.default_rng(0).uniform(0, 16, (7, 1, 8, 8)).astype(numpy.float32)
    encoded = encoder.transform(pixels)
    session = ort.InferenceSession(str(out), providers=["CPUExecutionProvider"])
    (logits,) = session.run(["logits"], {"image": encoded})
    numpy.testing.assert_allclose(logits, model(Tensor(encoded)).numpy(), rtol=1e-4,
                                  atol=1e-5)
    assert pipeline.sample_input(config, encoder).shape == (1, 1, 8, 8)


def test_export_errors_are_one_line(tmp_path, capsys):
    assert cli.main(["export", str(tmp_path / "missing.safetensors"), "--onnx",
                     str(tmp_path / "x.onnx")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("chainrule: error:") and err.count("\n") == 1
