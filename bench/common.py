"""Timing shared by the workloads: warm up, then min / median / max of several repeats."""
from __future__ import annotations

import statistics
import time


def measure(step, repeats: int = 7, warmup: int = 2, inner: int = 1) -> tuple[float, float, float]:
    """Seconds per call of `step` (each repeat runs it `inner` times): (min, median, max)."""
    for _ in range(warmup):
        step()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(inner):
            step()
        times.append((time.perf_counter() - start) / inner)
    return min(times), statistics.median(times), max(times)


def torch_threads(n: int = 2):
    import torch
    torch.set_num_threads(n)
    return torch
