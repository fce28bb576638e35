"""`chainrule bench`: the command runs, prints one table with the rows asked for, and its
speed ratios are positive numbers. (Speed itself is never tested.)"""
import importlib.util
import json
import re
import subprocess
import sys

import pytest

from chainrule import cli
from chainrule.bench import runner, w2_mlp, w5_digits
from chainrule.bench.common import figure, measure

if importlib.util.find_spec("torch") is None:  # (found, not imported: the workers import it)
    pytest.skip("the benchmark's peer PyTorch is not installed", allow_module_level=True)


@pytest.fixture(scope="module")
def quick(tmp_path_factory):
    out = tmp_path_factory.mktemp("bench") / "bench.json"
    done = subprocess.run([sys.executable, "-m", "chainrule.cli", "bench", "--quick",
                           "--workloads", "W1,W2", "--json", str(out), "--quiet"],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout, json.loads(out.read_text())


def table_rows(text):
    rows = {}
    lines = [line for line in text.splitlines() if line.startswith("|")]
    heads = [cell.strip() for cell in lines[0].strip("|").split("|")]
    for line in lines[2:]:
        cells = [cell.strip() for cell in line.strip("|").split("|")]
        rows[cells[0]] = dict(zip(heads, cells))
    return rows


def test_table_has_the_rows_and_positive_ratios(quick):
    text, _ = quick
    rows = table_rows(text)
    assert set(rows) == {"W0", "W1", "W2 b32", "W2 b128", "W2 b1024", "W2 b128 plain",
                         "W2 b128 instruments/10"}  # W2 brings W0
    assert rows["W2 b128 instruments/10"]["PyTorch"] == "–"  # chainrule's instruments alone
    for name in ("W1", "W2 b32", "W2 b128", "W2 b1024"):
        for column in ("speed ÷PyTorch", "speed ÷NumPy"):
            ratio = re.fullmatch(r"(\d+(?:\.\d+)?)× \(best (\d+(?:\.\d+)?)×\)",
                                 rows[name][column])  # medians' ratio (best repeats' ratio)
            assert ratio, (name, column, rows[name][column])
            assert float(ratio.group(1)) > 0 and float(ratio.group(2)) > 0
        assert rows[name]["target"].startswith("≥")
        assert rows[name]["met"] in ("✓", "✗")
    assert re.search(r"\(\d+%\)", rows["W2 b1024"]["cr GFLOP/s (% W0)"])
    assert rows["W2 b32"]["sklearn"] not in ("–", "error")


def test_json_has_the_raw_numbers(quick):
    _, data = quick
    assert {r["framework"] for r in data["reports"]} == {"chainrule", "torch", "numpy",
                                                        "sklearn"}
    assert all("error" not in r for r in data["reports"])
    for report in data["reports"]:
        assert report["peak_rss_bytes"] >= report["baseline_rss_bytes"] > 0
        for row in report["rows"]:
            if "no step" in row.get("error", ""):  # the instruments rows: chainrule's alone
                continue
            assert len(row["values"]) == 2 and all(v > 0 for v in row["values"])
    assert data["meta"]["env"].keys() >= {"OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"}


def test_bad_workload_is_one_line_error(capsys):
    assert cli.main(["bench", "--workloads", "W9"]) == cli.EXIT_BAD_INPUT
    assert "unknown workload" in capsys.readouterr().err


def test_workload_selection_adds_w0_for_w2():
    assert runner.parse_workloads("w2,W1") == ["W0", "W1", "W2"]
    assert runner.parse_workloads(None) == ["W0", "W1", "W2", "W3", "W4", "W5", "W6"]


def test_figures_follow_the_unit():
    assert figure("samples/s", 0.5, 32) == 64
    assert figure("µs/op", 0.001, 100) == pytest.approx(10)
    times, result = measure(lambda: 7, repeats=3, warmup=1, inner=2)
    assert len(times) == 3 and result == 7


def test_sklearn_and_w5_steps_run_in_process():
    pytest.importorskip("sklearn")
    step = w2_mlp.make("sklearn", batch=32, samples=64)
    step()
    assert step.work == 64
    accuracy = w5_digits.make("numpy", epochs=1, batch=32)()
    assert 0.5 < accuracy <= 1.0


def test_w5_target_needs_speed_and_accuracy():
    fast = {"median": 1.0, "accuracy": 0.97}
    slow = {"median": 2.0, "accuracy": 0.97}
    assert w5_digits.check({"chainrule": fast, "torch": slow, "sklearn": slow})[1] is True
    assert w5_digits.check({"chainrule": slow, "torch": fast, "sklearn": slow})[1] is False
    worse = {"median": 1.0, "accuracy": 0.90}
    assert w5_digits.check({"chainrule": worse, "torch": slow, "sklearn": slow})[1] is False
