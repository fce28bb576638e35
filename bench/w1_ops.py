"""W1: a (32, 32) tensor through a chain of 100 ops (add, mul, tanh in turn), sum, backward.

Figure: microseconds per op (forward + backward), chainrule against PyTorch and against the
same math written by hand in NumPy (no autograd at all).
"""
from __future__ import annotations

import numpy as np

from common import measure, torch_threads

CHAIN = 100


def chainrule_step():
    import chainrule as cr
    cr.manual_seed(0)
    x = cr.randn(32, 32, requires_grad=True)
    c = cr.randn(32, 32)

    def step():
        y = x
        for i in range(CHAIN):
            k = i % 3
            y = y + c if k == 0 else (y * c if k == 1 else y.tanh())
        x.grad = None
        y.sum().backward()
    return step


def torch_step():
    torch = torch_threads()
    torch.manual_seed(0)
    x = torch.randn(32, 32, requires_grad=True)
    c = torch.randn(32, 32)

    def step():
        y = x
        for i in range(CHAIN):
            k = i % 3
            y = y + c if k == 0 else (y * c if k == 1 else y.tanh())
        x.grad = None
        y.sum().backward()
    return step


def numpy_step():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((32, 32), dtype=np.float32)
    c = rng.standard_normal((32, 32), dtype=np.float32)

    def step():
        saved, y = [], x
        for i in range(CHAIN):
            k = i % 3
            if k == 0:
                y = y + c
            elif k == 1:
                y = y * c
            else:
                y = np.tanh(y)
                saved.append(y)
        g = np.ones_like(y)
        for i in reversed(range(CHAIN)):
            k = i % 3
            if k == 1:
                g = g * c
            elif k == 2:
                t = saved.pop()
                g = g * (1 - t * t)
        return g
    return step


def run() -> list[tuple[str, str, tuple[float, float, float]]]:
    rows = []
    for name, make in (("chainrule", chainrule_step), ("pytorch", torch_step),
                       ("numpy", numpy_step)):
        seconds = measure(make(), repeats=9, warmup=3, inner=5)
        rows.append((name, "us/op", tuple(s / CHAIN * 1e6 for s in seconds)))
    return rows


if __name__ == "__main__":
    for name, unit, (lo, mid, hi) in run():
        print(f"{name:10s} {mid:8.2f} {unit} (min {lo:.2f}, max {hi:.2f})")
