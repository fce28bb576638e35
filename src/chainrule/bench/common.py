"""What the workloads share: timing, units, and the PyTorch thread setting.

A workload module defines:

    ID, TITLE          "W2", what is run
    UNIT               a key of UNITS: the figure the table shows
    FRAMEWORKS         the frameworks it has a step for
    VARIANTS           ((label, size), …): one table row each, size the keyword arguments
                       of make() (a single row has the label "")
    REPEATS, WARMUP    timed repeats and untimed warm-up calls
    inner(**size)      calls of the step per timed repeat (optional, default 1)
    work(**size)       units of work one call does: samples, ops, FLOPs (a step may carry
                       its own `.work` where one call does more, e.g. sklearn's partial_fit)
    make(framework, **size) -> step   a callable that does one step
    TARGET             the smallest speed ratio chainrule / PyTorch that meets the target
                       (None: no target), a dict {variant label: that}, or a function
                       check(results) -> (text, ok) (results: framework -> row summary)

and optionally FLOPS(**size) (FLOPs per unit of work, for GFLOP/s) and QUICK (size
overrides for --quick).
"""
from __future__ import annotations

import time

# unit -> (higher is better, value per second of one unit of work)
#   rate units: value = work / seconds * scale;   time units: value = seconds / work * scale
UNITS = {
    "GFLOP/s": (True, 1e-9),
    "samples/s": (True, 1.0),
    "µs/op": (False, 1e6),
    "s": (False, 1.0),
}


def higher_is_better(unit: str) -> bool:
    return UNITS[unit][0]


def figure(unit: str, seconds: float, work: float) -> float:
    """One timed call (or the mean of a repeat's calls) in the workload's unit."""
    rate, scale = UNITS[unit]
    return work / seconds * scale if rate else seconds / work * scale


def measure(step, repeats: int, warmup: int, inner: int = 1, sync=None):
    """Seconds per call of `step` for each of `repeats` repeats (each runs it `inner` times),
    after `warmup` untimed calls; also the value the last call returned. On a GPU `sync`
    waits for the device, before the clock starts and before it is read."""
    sync = sync or (lambda: None)
    result = None
    for _ in range(warmup):
        result = step()
    times = []
    for _ in range(repeats):
        sync()
        start = time.perf_counter()
        for _ in range(inner):
            result = step()
        sync()
        times.append((time.perf_counter() - start) / inner)
    return times, result


def torch_threads(n: int | None = None):
    """PyTorch, limited to the benchmark's thread count."""
    import torch

    from . import THREADS
    torch.set_num_threads(n or THREADS)
    return torch


def unsupported(workload: str, framework: str):
    return ValueError(f"{workload}: no step for framework {framework!r}")
