"""W0: a 2048×2048 float32 matrix product, the GFLOP/s ceiling every dense workload sits under."""
from __future__ import annotations

import numpy as np

from common import measure, torch_threads

N = 2048
FLOP = 2 * N ** 3


def run() -> list:
    rng = np.random.default_rng(0)
    a = rng.standard_normal((N, N), dtype=np.float32)
    b = rng.standard_normal((N, N), dtype=np.float32)
    torch = torch_threads()
    ta, tb = torch.from_numpy(a), torch.from_numpy(b)
    rows = []
    for name, step in (("numpy", lambda: a @ b), ("pytorch", lambda: ta @ tb)):
        lo, mid, hi = measure(step, repeats=5, warmup=1)
        rows.append((name, "GFLOP/s", (FLOP / hi / 1e9, FLOP / mid / 1e9, FLOP / lo / 1e9)))
    return rows


if __name__ == "__main__":
    for name, unit, (lo, mid, hi) in run():
        print(f"{name:10s} {mid:8.1f} {unit} (min {lo:.1f}, max {hi:.1f})")
