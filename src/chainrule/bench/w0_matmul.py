"""W0: a 2048×2048 float32 matrix product, the GFLOP/s ceiling every dense workload sits
under (W2 reports its own GFLOP/s as a share of this)."""
from __future__ import annotations

import numpy as np

from .common import torch_threads, unsupported

ID = "W0"
TITLE = "2048×2048 float32 matmul"
UNIT = "GFLOP/s"
FRAMEWORKS = ("chainrule", "torch", "numpy")
VARIANTS = (("", {"n": 2048}),)
REPEATS, WARMUP = 5, 1
TARGET = None
QUICK = {"n": 1024}  # --quick: a smaller product (and so a lower ceiling)


def work(n: int) -> float:
    return 2.0 * n ** 3


def _operands(n: int):
    rng = np.random.default_rng(0)
    return (rng.standard_normal((n, n), dtype=np.float32),
            rng.standard_normal((n, n), dtype=np.float32))


def make(framework: str, n: int):
    a, b = _operands(n)
    if framework == "numpy":
        return lambda: a @ b
    if framework == "chainrule":
        import chainrule as cr
        ta, tb = cr.from_numpy(a), cr.from_numpy(b)
        return lambda: ta @ tb
    if framework == "torch":
        torch = torch_threads()
        ta, tb = torch.from_numpy(a), torch.from_numpy(b)
        return lambda: ta @ tb
    raise unsupported(ID, framework)
