"""One framework, one workload, one process: `python -m chainrule.bench.worker
--framework torch --workload W2 [--repeats N] [--quick]` prints one line of JSON.

The process's peak resident memory (`ru_maxrss`) is reported twice: once when the imports
are done (what a worker run with `--workload none`, which times nothing, ends with) and once
at the end; the workload's peak memory is the difference. Threads: PyTorch gets
`torch.set_num_threads(2)`; NumPy's BLAS is left as the environment sets it (nothing here
changes OPENBLAS_* or the like).
"""
from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import resource
import sys
import traceback

from . import FRAMEWORKS, THREADS, WORKLOADS, cuda, workload_module
from .common import figure, measure

QUICK_TIMING = {"repeats": 2, "warmup": 2, "inner": 1}


def preload(framework: str) -> dict:
    """Import what the framework's steps use (so the baseline worker holds it too)."""
    import numpy
    versions = {"python": platform.python_version(), "numpy": numpy.__version__}
    import chainrule
    versions["chainrule"] = chainrule.__version__
    if framework == "torch":
        import torch
        torch.set_num_threads(THREADS)
        versions["torch"] = torch.__version__
    elif framework == "sklearn":
        import sklearn
        import sklearn.neural_network  # noqa: F401
        versions["sklearn"] = sklearn.__version__
    return versions


def threads(framework: str) -> dict:
    """The thread pools as they are (read only)."""
    info = {}
    if framework == "torch":
        import torch
        info["torch"] = torch.get_num_threads()
    try:
        from threadpoolctl import threadpool_info
        for pool in threadpool_info():
            info[f"{pool.get('internal_api')} ({pool.get('user_api')})"] = pool.get("num_threads")
    except ImportError:
        pass
    return info


def peak_rss_bytes() -> int:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak if sys.platform == "darwin" else peak * 1024  # Linux reports KiB


def run_workload(framework: str, workload: str, repeats: int | None, quick: bool,
                 variants: list[str] | None = None, device: str = "cpu") -> list[dict]:
    mod = workload_module(workload)
    on_gpu = {} if device == "cpu" else {"device": device}  # make()'s extra argument
    rows = []
    for label, size in (cuda.VARIANTS[mod.ID] if on_gpu else mod.VARIANTS):
        if variants and label not in variants:
            continue
        if quick:
            size = dict(size, **getattr(mod, "QUICK", {}))
        row = {"label": label, "size": size}
        try:
            step = mod.make(framework, **size, **on_gpu)
            inner = getattr(step, "inner", None) or (
                mod.inner(**size) if hasattr(mod, "inner") else 1)
            timing = {"repeats": mod.REPEATS, "warmup": mod.WARMUP, "inner": inner}
            if on_gpu:
                timing["warmup"] = cuda.WARMUP
            if quick:
                timing = dict(QUICK_TIMING)
            if repeats:
                timing["repeats"] = repeats
            sync = cuda.synchronizer(framework) if on_gpu else None  # waits for the GPU
            seconds, result = measure(step, **timing, sync=sync)
            work = getattr(step, "work", None) or mod.work(**size)
            values = [figure(mod.UNIT, s, work) for s in seconds]
            row.update(timing=timing, seconds=seconds, values=values)
            if isinstance(result, float):
                row["accuracy"] = result
            del step
            gc.collect()
        except Exception as err:  # noqa: BLE001 - reported in the table, the run goes on
            row["error"] = f"{type(err).__name__}: {err}"
            row["traceback"] = traceback.format_exc(limit=3)
        rows.append(row)
    return rows


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m chainrule.bench.worker",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--framework", required=True, choices=list(FRAMEWORKS))
    parser.add_argument("--workload", required=True,
                        help=f"one of {', '.join(WORKLOADS)}, or 'none' (imports only)")
    parser.add_argument("--repeats", type=int)
    parser.add_argument("--variants", help="comma-separated variant labels (default: all)")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    args = parser.parse_args(argv)
    report = {"framework": args.framework, "workload": args.workload}
    report["versions"] = preload(args.framework)
    if args.device == "cuda":
        report["versions"].update(cuda.versions(args.framework))
    if args.workload.lower() != "none":
        workload_module(args.workload)
    report["baseline_rss_bytes"] = peak_rss_bytes()  # the imports alone
    if args.workload.lower() != "none":
        variants = args.variants.split(",") if args.variants else None
        report["rows"] = run_workload(args.framework, args.workload, args.repeats, args.quick,
                                      variants, args.device)
    report["peak_rss_bytes"] = peak_rss_bytes()
    report["threads"] = threads(args.framework)
    report["env"] = {k: v for k, v in os.environ.items()
                     if k.startswith(("OPENBLAS_", "OMP_", "MKL_"))}
    sys.stdout.write("\n" + json.dumps(report) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
