"""W1: a (32, 32) tensor through a chain of 100 ops (add, mul, tanh in turn), sum, backward.

Figure: microseconds per op (forward + backward): the per-op overhead of the autograd, with
the same math written by hand in NumPy as the floor.
"""
from __future__ import annotations

import numpy as np

from .common import torch_threads, unsupported

ID = "W1"
TITLE = "(32,32) tensor, chain of 100 ops (add, mul, tanh), sum, backward"
UNIT = "µs/op"
FRAMEWORKS = ("chainrule", "torch", "numpy")
VARIANTS = (("", {"chain": 100}),)
REPEATS, WARMUP = 9, 3
TARGET = 1.0


def inner(chain: int) -> int:
    return 5


def work(chain: int) -> float:
    return chain


def _chain_step(lib, x, c, chain: int):
    def step():
        y = x
        for i in range(chain):
            k = i % 3
            y = y + c if k == 0 else (y * c if k == 1 else y.tanh())
        x.grad = None
        y.sum().backward()
    return step


def make(framework: str, chain: int):
    if framework == "chainrule":
        import chainrule as cr
        cr.manual_seed(0)
        return _chain_step(cr, cr.randn(32, 32, requires_grad=True), cr.randn(32, 32), chain)
    if framework == "torch":
        torch = torch_threads()
        torch.manual_seed(0)
        return _chain_step(torch, torch.randn(32, 32, requires_grad=True),
                           torch.randn(32, 32), chain)
    if framework == "numpy":
        return _numpy_step(chain)
    raise unsupported(ID, framework)


def _numpy_step(chain: int):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((32, 32), dtype=np.float32)
    c = rng.standard_normal((32, 32), dtype=np.float32)

    def step():
        saved, y = [], x
        for i in range(chain):
            k = i % 3
            if k == 0:
                y = y + c
            elif k == 1:
                y = y * c
            else:
                y = np.tanh(y)
                saved.append(y)
        g = np.ones_like(y)
        for i in reversed(range(chain)):
            k = i % 3
            if k == 1:
                g = g * c
            elif k == 2:
                t = saved.pop()
                g = g * (1 - t * t)
        return g
    return step
