"""`chainrule bench --device cuda`: W2 and W3 on a GPU, chainrule (CuPy) against PyTorch
CUDA eager, in the same run on the same GPU.

On a GPU these networks are small: a step is bound by how many kernels it launches and by
the Python around each launch, not by arithmetic. The targets (docs/benchmarks.md): W2 at
batch 128, 1,024 and 8,192 at least 1.5× PyTorch eager's speed, W3 at batch 64 and 512 at
least 1.0×. Each (framework, workload) runs in a worker process of its own, as on the CPU;
a timed repeat is `inner` steps followed by a wait for the GPU, so the clock covers the
GPU's work and not only its queueing.
"""
from __future__ import annotations

import importlib.util
import sys
from types import SimpleNamespace

from .. import backend

# workload -> ((label, size), ...): the GPU rows (size: the keyword arguments of make())
VARIANTS = {
    "W2": tuple((f"b{b}", {"batch": b, "samples": 50 * b}) for b in (128, 1024, 8192)),
    "W3": tuple((f"b{b}", {"batch": b, "inner": 20}) for b in (64, 512)),
}
TARGETS = {"W2": 1.5, "W3": 1.0}
FRAMEWORKS = ("chainrule", "torch")
WARMUP = 5  # steps before timing: CuPy compiles its kernels and cuBLAS picks its algorithms


def missing() -> str:
    """Why chainrule cannot run on a GPU here, in one line ("" where it can)."""
    if importlib.util.find_spec("cupy") is None:
        return ("bench --device cuda: CuPy is not installed, so chainrule has no GPU here "
                "(pip install 'chainrule[gpu]' on a machine with an NVIDIA GPU)")
    if backend.gpu_count() == 0:
        return "bench --device cuda: CuPy finds no GPU on this machine"
    return ""


def torch_missing() -> str:
    """Why PyTorch cannot run on the GPU here ("" where it can)."""
    if importlib.util.find_spec("torch") is None:
        return "PyTorch is not installed: its column is empty"
    import torch
    if not torch.cuda.is_available():
        return (f"PyTorch {torch.__version__} has no CUDA here (a CPU build?): its column is "
                "empty; use the CUDA PyTorch the GPU machine has")
    return ""


def synchronizer(framework: str):
    """The call that waits for the GPU to finish what `framework` queued."""
    if framework == "torch":
        import torch
        return torch.cuda.synchronize
    from .. import cuda
    return cuda.synchronize


def versions(framework: str) -> dict:
    """What ran: the GPU's name, CuPy's and CUDA's versions, or PyTorch's CUDA."""
    if framework == "torch":
        import torch
        return {"torch_cuda": torch.version.cuda,
                "gpu": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None}
    cupy = backend.cupy()
    from .. import cuda
    return {"cupy": cupy.__version__, "cuda_runtime": cupy.cuda.runtime.runtimeGetVersion(),
            "gpu": cuda.get_device_name(0)}


def run(passes: int, repeats=None, progress=None) -> dict:
    """Every GPU row for both frameworks, frameworks alternating between passes."""
    from . import runner, workload_module
    say = progress or (lambda text: None)
    notes = [note for note in (torch_missing(),) if note]
    frameworks = ["chainrule"] + ([] if notes else ["torch"])
    reports = []
    for number in range(passes):
        for workload in VARIANTS:
            order = frameworks[::-1] if number % 2 else frameworks
            for framework in order:
                say(f"{workload} {framework} on cuda (pass {number + 1}/{passes})")
                report = runner.run_worker(framework, workload, repeats, device="cuda")
                report.update(framework=framework, workload=workload, passno=number)
                reports.append(report)
    modules = {w: _rows_of(workload_module(w)) for w in VARIANTS}
    summary = runner.summarise(list(VARIANTS), frameworks, modules, reports, notes)
    return {"reports": reports, "notes": notes, **summary}


def _rows_of(module):
    """The workload as the runner's summary reads it, with the GPU rows and target."""
    return SimpleNamespace(VARIANTS=VARIANTS[module.ID], FRAMEWORKS=FRAMEWORKS,
                           UNIT=module.UNIT, TARGET=TARGETS[module.ID])


def report(data: dict) -> str:
    gpus = {r.get("versions", {}).get("gpu") for r in data["reports"]} - {None}
    stack = {}
    for r in data["reports"]:
        stack.update({k: v for k, v in r.get("versions", {}).items() if k != "gpu"})
    lines = [f"On the GPU ({', '.join(sorted(gpus)) or 'unknown'}; "
             + ", ".join(f"{k} {v}" for k, v in stack.items()) + "): samples/s, median "
             "(min–max) over every timed repeat",
             "",
             "| workload | chainrule (CuPy) | PyTorch CUDA eager | speed ÷PyTorch | target | met |",
             "|---|---|---|---|---|---|"]
    for row in data["rows"]:
        cells = [_cell(row["results"].get(f)) for f in FRAMEWORKS]
        ratio, best = row["speed_vs"]["torch"], row["best_speed_vs"]["torch"]
        ratio_text = "–" if ratio is None else f"{ratio:.2f}× (best {best:.2f}×)"
        met = {True: "✓", False: "✗", None: "?"}[row["met"]]
        lines.append(f"| {row['name']} | {' | '.join(cells)} | {ratio_text} | "
                     f"{row['target']} | {met} |")
    lines += [f"note: {n}" for n in dict.fromkeys(data["notes"])]
    return "\n".join(lines)


def _cell(result) -> str:
    if not result:
        return "–"
    if "error" in result:
        return "error"
    return f"{result['median']:.4g} ({result['min']:.4g}–{result['max']:.4g})"


def main(passes=None, repeats=None, json_path=None, quiet=False, out=None) -> int:
    """The GPU table; 1 with one line on stderr where there is no GPU."""
    reason = missing()
    if reason:
        print(reason, file=sys.stderr)
        return 1
    out = out or sys.stdout

    def progress(text):
        if not quiet:
            print(f"  … {text}", file=sys.stderr, flush=True)
    data = run(passes or 2, repeats, progress)
    print(report(data), file=out)
    if json_path:
        import json
        with open(json_path, "w", encoding="utf-8") as handle:
            json.dump(data, handle, indent=1, default=str)
    return 1 if any("error" in r for r in data["reports"]) else 0

