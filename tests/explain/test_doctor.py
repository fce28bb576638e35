"""The doctor names each planted fault first, and a healthy run gets no finding.

Each run trains the small digits network (seconds); the faults are planted as a user makes
them (a learning rate, an init, a data pipeline), see chainrule/explain/doctor_faults.py."""
import functools
import json

import numpy as np
import pytest

from chainrule import cli
from chainrule.explain import doctor, doctor_faults

planted_run = functools.lru_cache(maxsize=None)(doctor_faults.planted_run)  # each run once


@pytest.mark.parametrize("fault", sorted(doctor_faults.FAULTS))
def test_the_doctor_names_the_planted_cause_first(fault):
    findings = doctor.diagnose(planted_run(fault))
    expected = doctor_faults.FAULTS[fault][2]
    assert findings, f"{fault}: no finding"
    assert findings[0].cause == expected, [f.cause for f in findings]
    assert findings[0].evidence and findings[0].change


def test_a_healthy_run_gets_no_finding():
    assert doctor.diagnose(planted_run(None)) == []


def test_the_default_recipe_through_the_command_line_gets_no_finding(tmp_path, capsys):
    run_dir = tmp_path / "run"
    assert cli.main(["train", "--instruments", "10", "--out", str(run_dir), "--quiet",
                     "--epochs", "15"]) == 0
    record = json.loads((run_dir / "instruments.json").read_text())
    assert record["readings"][0]["step"] == 1 and record["readings"][1]["step"] == 10
    assert cli.main(["doctor", str(run_dir)]) == 0
    assert "found nothing wrong" in capsys.readouterr().out


def test_a_run_stopped_by_a_nan_loss_is_still_diagnosed(tmp_path, capsys):
    run_dir = tmp_path / "run"
    assert cli.main(["train", "--instruments", "10", "--out", str(run_dir), "--quiet",
                     "--optimizer", "sgd", "--lr", "50", "--epochs", "3"]) == 1
    assert cli.main(["doctor", str(run_dir), "--plots", "none"]) == 0
    out = capsys.readouterr().out
    assert "1. the learning rate is too high" in out
    assert "infinite or NaN" in out


def test_doctor_prints_findings_and_draws_their_evidence(tmp_path, capsys):
    record = planted_run("labels-flipped")
    (tmp_path / "instruments.json").write_text(json.dumps(record))
    assert cli.main(["doctor", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "1. some examples' loss stays high: likely mislabelled" in out
    pictures = sorted((tmp_path / "doctor").glob("*.png"))
    assert pictures and pictures[0].name == "1-mislabelled.png"
    assert len(record["data"]["stubborn"]) == 8  # shown as pictures
    flipped = np.array(record["data"]["stubborn"][0]["image"])
    assert flipped.shape == (8, 8) and 0 <= flipped.min() and flipped.max() <= 1


def test_doctor_without_instruments_says_how_to_record_them(tmp_path, capsys):
    assert cli.main(["doctor", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "--instruments" in err and len(err.strip().splitlines()) == 1


def test_findings_come_most_fundamental_first():
    order = [check.__name__ for check in doctor.CHECKS]
    assert order.index("duplicates_across_splits") < order.index("learning_rate_too_high")
    assert order.index("unnormalised_inputs") < order.index("saturated_units")
    assert order.index("learning_rate_too_high") < order.index("dead_relus")
    assert order.index("exploding_gradients") < order.index("first_loss_off")


def test_gradients_growing_towards_the_input_are_called_exploding():
    """The rule's arithmetic on a record written by hand (the planted run: relu-x3-gain)."""
    layers = lambda: {str(k): {"kind": "Linear", "grad_norm": 1.0,  # noqa: E731
                               "output_grad_rms": 10.0 ** (4 - k), "update_ratio": 1e-3}
                      for k in range(5)}
    record = {"format": "chainrule-instruments", "optimizer": {"name": "SGD", "lr": 0.01},
              "batch_losses": [2.3] * 50,
              "readings": [{"step": s, "layers": layers(), "activations": {}, "input": {}}
                           for s in range(1, 50, 10)],
              "epochs": [], "data": {"num_classes": 10}}
    findings = doctor.diagnose(record)
    assert findings[0].cause == "exploding-gradients"
    assert "10,000× the last layer's" in findings[0].evidence


def test_the_planted_exploding_run_grows_the_gradient_layer_by_layer():
    norms = doctor.diagnose(planted_run("relu-x3-gain"))[0].plot["values"]
    assert len(norms) == 11
    assert all(a > 1.5 * b for a, b in zip(norms[:-1], norms[1:-1]))  # about ×3 per layer


def test_the_report_opens_with_the_doctor(tmp_path):
    run_dir = tmp_path / "run"
    assert cli.main(["train", "--out", str(run_dir), "--quiet", "--epochs", "2", "--report",
                     "--lr", "0.1"]) == 0
    page = (run_dir / "report.html").read_text(encoding="utf-8")
    assert (run_dir / "instruments.json").exists()  # --report turns the instruments on
    assert page.index("<h2>The doctor</h2>") < page.index("<h2>Summary</h2>")
    assert "the learning rate is too high" in page and "data:image/png;base64," in page
