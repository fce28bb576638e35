"""scripts/ports.py: the manifest is complete, and a program runs unchanged through
`chainrule run` with its metric read, compared and reported."""
from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _ports():
    spec = importlib.util.spec_from_file_location("ports", ROOT / "scripts" / "ports.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_manifest_names_at_least_twenty_pinned_programs():
    ports = _ports().load_manifest()
    assert len(ports) >= 20 and len({p["name"] for p in ports}) == len(ports)
    for port in ports:
        assert re.fullmatch(r"[0-9a-f]{40}", port["commit"]), port["name"]
        assert port["files"] and port["data"] and port["metric"]
        if "pattern" not in port:  # a program that prints no metric: it runs to the end
            assert "reference" not in port, port["name"]
            continue
        assert port.get("better", "lower") in ("lower", "higher")
        assert port.get("reduce", "last") in ("last", "mean")
        assert re.compile(port["pattern"]).groups == 1, port["name"]
        assert port["tolerance"] >= 0


PROGRAM = """
import torch
import torch.nn as nn
torch.manual_seed(0)
x = torch.linspace(-1, 1, 50).unsqueeze(1)
y = 3 * x + 1
model = nn.Linear(1, 1)
opt = torch.optim.SGD(model.parameters(), lr=0.5)
for step in range(100):
    loss = nn.functional.mse_loss(model(x), y)
    opt.zero_grad(); loss.backward(); opt.step()
print(f"final loss: {loss.item():.6f} from {torch.__name__}")
"""


@pytest.mark.parametrize("reference,passes", [(0.001, True), (-1.0, False)])
def test_a_program_runs_through_chainrule_run(tmp_path, reference, passes):
    (tmp_path / "fit.py").write_text(PROGRAM)
    port = {"name": "fit", "files": ["fit.py"], "metric": "final loss",
            "pattern": r"final loss: ([\d.]+) from chainrule", "better": "lower",
            "reference": reference, "tolerance": 0.01, "data": "synthetic",
            "repository": "example/repo", "commit": "0" * 40}
    passed, why, value = _ports().run_port(port, tmp_path, "chainrule")
    assert passed is passes, why
    assert value is not None and value < 0.001
    row = _ports()._markdown_row(port, passed, why, value)
    assert row.startswith("| fit |") and row.endswith("PASS |" if passes else "FAIL |")


def test_a_failing_program_reports_its_last_error_line(tmp_path):
    (tmp_path / "bad.py").write_text("import torch\nraise ValueError('no good')\n")
    port = {"name": "bad", "files": ["bad.py"], "metric": "m", "pattern": "(x)",
            "reference": 0, "tolerance": 0}
    passed, why, value = _ports().run_port(port, tmp_path, "chainrule")
    assert not passed and value is None and why == "exit 1: ValueError: no good"


def test_the_graph_stand_in_is_coras_files(tmp_path):
    """examples-gat reads ./cora/cora.content and cora.cites (Cora itself is a download)."""
    _ports().write_graph_data({"graph": "cora", "graph_nodes": 50}, tmp_path)
    rows = [line.split("\t") for line in (tmp_path / "cora" / "cora.content").read_text()
            .splitlines()]
    assert len(rows) == 50 and {len(r) for r in rows} == {102}
    assert {r[-1] for r in rows} <= {f"class_{k}" for k in range(7)}
    assert all(set(r[1:-1]) <= {"0", "1"} for r in rows)
    ids = {r[0] for r in rows}
    cites = [line.split("\t") for line in (tmp_path / "cora" / "cora.cites").read_text()
             .splitlines()]
    assert len(cites) > 50 and all(a in ids and b in ids and a != b for a, b in cites)


def test_a_metric_can_be_the_mean_of_every_match_and_a_program_without_one_runs(tmp_path):
    (tmp_path / "loop.py").write_text("for loss in (4, 2, 3):\n    print('loss', loss)\n")
    port = {"name": "loop", "files": ["loop.py"], "metric": "mean loss", "pattern": r"loss (\d)",
            "reduce": "mean", "reference": 3, "tolerance": 0}
    assert _ports().run_port(port, tmp_path, "chainrule")[2] == 3
    del port["pattern"], port["reference"]
    passed, why, value = _ports().run_port(port, tmp_path, "chainrule")
    assert passed and value is None and why.startswith("ran to the end")


def test_the_names_stand_in_is_one_file_of_names_per_language(tmp_path):
    """The char-RNN tutorials read data/names/LANGUAGE.txt (a download)."""
    port = {"names": {"data/names": ["Italian", "Russian"]}, "names_per_language": 30}
    _ports().write_names_data(port, tmp_path)
    names = {p.stem: p.read_text(encoding="utf-8").split() for p in
             (tmp_path / "data" / "names").glob("*.txt")}
    assert sorted(names) == ["Italian", "Russian"] and all(len(n) == 30 for n in names.values())
    assert all(name.isalpha() and name[0].isupper() for n in names.values() for name in n)
    assert set(names["Italian"]).isdisjoint(names["Russian"])
    again = tmp_path / "again"
    _ports().write_names_data({"names": {"n": ["Russian"]}, "names_per_language": 30}, again)
    assert (again / "n" / "Russian.txt").read_text(encoding="utf-8").split() == names["Russian"]


def test_the_parallel_stand_in_is_tab_separated_english_and_french(tmp_path):
    _ports().write_parallel_data({"parallel": "data/eng-fra.txt", "parallel_pairs": 40}, tmp_path)
    pairs = [line.split("\t") for line in
             (tmp_path / "data" / "eng-fra.txt").read_text(encoding="utf-8").splitlines()]
    assert len(pairs) > 40 and {len(p) for p in pairs} == {2}
    assert sum(p[0].startswith(("I am", "He is", "She is", "You are", "We are", "They are",
                                "I'm", "He's", "She's", "You're", "We're", "They're"))
               for p in pairs) >= 40
    assert ["I am too cold.", "Je suis trop froid."] in pairs


def test_the_mnist_pickle_stand_in_holds_three_splits_of_flat_images(tmp_path):
    import gzip
    import pickle
    _ports().write_mnist_pickle({"mnist_pickle": "data/mnist/mnist.pkl.gz",
                                 "mnist_pickle_images": 100}, tmp_path)
    with gzip.open(tmp_path / "data" / "mnist" / "mnist.pkl.gz") as f:
        splits = pickle.load(f)  # the test reads back what it wrote
    assert [x.shape for x, _ in splits] == [(100, 784), (20, 784), (20, 784)]
    assert all(x.dtype.name == "float32" and 0 <= x.min() and x.max() <= 1 for x, _ in splits)
    assert all(y.dtype.name == "int64" and set(y) <= set(range(10)) for _, y in splits)
