"""`chainrule bench --device cuda` on a machine without a GPU: the one line it prints, the
table it would print (from workers' reports made up here), and the device plumbing of the
W2 and W3 steps, run on the CPU. (The GPU run itself is scripts/gpu_check.sh's.)"""
import subprocess
import sys

import pytest
from devices import CUDA_MISSING

from chainrule.bench import cuda, runner, w2_mlp, w3_cnn, workload_module
from chainrule.bench.common import measure


@pytest.mark.skipif(not CUDA_MISSING, reason="this machine has a GPU")
def test_without_a_gpu_it_says_so_in_one_line():
    done = subprocess.run([sys.executable, "-m", "chainrule.cli", "bench", "--device", "cuda"],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 1
    assert done.stdout == ""
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("bench --device cuda: "), done.stderr


def _report(framework, workload, speed):
    rows = [{"label": label, "values": [speed * size["batch"] * k for k in (0.9, 1.0, 1.1)]}
            for label, size in cuda.VARIANTS[workload]]
    return {"framework": framework, "workload": workload, "rows": rows, "peak_rss_bytes": 0,
            "baseline_rss_bytes": 0, "versions": {"gpu": "Test GPU", "cupy": "14.0"}}


def test_the_gpu_table_has_every_row_its_ratio_and_target():
    reports = [_report("chainrule", "W2", 2000), _report("torch", "W2", 1000),
               _report("chainrule", "W3", 900), _report("torch", "W3", 1000)]
    modules = {w: cuda._rows_of(workload_module(w)) for w in cuda.VARIANTS}
    data = {"reports": reports, "notes": [],
            **runner.summarise(list(cuda.VARIANTS), ["chainrule", "torch"], modules, reports, [])}
    text = cuda.report(data)
    assert "Test GPU" in text
    rows = {line.split("|")[1].strip(): line for line in text.splitlines()
            if line.startswith("| W")}
    assert list(rows) == ["W2 b128", "W2 b1024", "W2 b8192", "W3 b64", "W3 b512"]
    assert "2.00×" in rows["W2 b1024"] and "≥ 1.5× PyTorch" in rows["W2 b1024"]
    assert rows["W2 b8192"].rstrip(" |").endswith("✓")
    assert "0.90×" in rows["W3 b64"] and rows["W3 b512"].rstrip(" |").endswith("✗")


@pytest.mark.parametrize("framework", ["chainrule", "torch"])
def test_the_gpu_steps_take_a_device(framework):
    pytest.importorskip("torch")
    for step in (w2_mlp.make(framework, batch=16, samples=16, device="cpu"),
                 w3_cnn.make(framework, batch=4, device="cpu")):
        step()
    with pytest.raises(ValueError, match="no step"):
        w2_mlp.make("numpy", batch=16, samples=16, device="cuda")


def test_measure_waits_for_the_device_around_each_repeat():
    calls = []
    times, _ = measure(lambda: calls.append("step"), repeats=3, warmup=1, inner=2,
                       sync=lambda: calls.append("sync"))
    assert len(times) == 3
    assert calls == ["step"] + ["sync", "step", "step", "sync"] * 3
