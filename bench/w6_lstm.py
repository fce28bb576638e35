"""W6: LSTM, batch 64, length 50, input 64, hidden 128, one layer; the last hidden state
through a linear layer to 2 classes, cross-entropy, one SGD step.

Figure: training steps per second, chainrule against PyTorch (2 threads) in the same run,
and their ratio (target ≥ 0.5×).
"""
from __future__ import annotations

import os
import statistics

# 2 threads for every framework (BENCHMARKS.md). NumPy's BLAS reads its thread count when it
# loads, so this comes before the first numpy import; an explicit setting in the
# environment wins (OPENBLAS_NUM_THREADS=1 to compare single-threaded).
THREADS = int(os.environ.setdefault("OPENBLAS_NUM_THREADS", "2"))
os.environ.setdefault("OMP_NUM_THREADS", str(THREADS))
os.environ.setdefault("MKL_NUM_THREADS", str(THREADS))

import numpy as np  # noqa: E402

from common import measure, torch_threads  # noqa: E402

BATCH, STEPS, FEATURES, HIDDEN, CLASSES = 64, 50, 64, 128, 2
LR = 0.01


def _data():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((BATCH, STEPS, FEATURES), dtype=np.float32)
    y = rng.integers(0, CLASSES, BATCH)
    return x, y


def chainrule_step():
    import chainrule as cr
    import chainrule.nn.functional as F

    cr.manual_seed(0)
    x_np, y_np = _data()
    x, y = cr.tensor(x_np), cr.tensor(y_np)
    lstm = cr.nn.LSTM(FEATURES, HIDDEN, batch_first=True)
    head = cr.nn.Linear(HIDDEN, CLASSES)
    params = list(lstm.parameters()) + list(head.parameters())
    try:
        from chainrule.optim import SGD
        optimizer = SGD(params, lr=LR)
        zero_grad, update = optimizer.zero_grad, optimizer.step
    except ImportError:  # before cr.optim exists: the same update by hand
        def zero_grad():
            for p in params:
                p.grad = None

        def update():
            for p in params:
                p.data -= LR * p.grad.data
    rows = cr.arange(BATCH)

    def loss_of(logits):
        if hasattr(F, "cross_entropy"):
            return F.cross_entropy(logits, y)
        return -(cr.log_softmax(logits, 1)[rows, y]).mean()

    def step():
        _, (h, _) = lstm(x)
        loss = loss_of(head(h[-1]))
        zero_grad()
        loss.backward()
        update()
    return step


def torch_step():
    torch = torch_threads(THREADS)
    torch.manual_seed(0)
    x_np, y_np = _data()
    x, y = torch.from_numpy(x_np), torch.from_numpy(y_np)
    lstm = torch.nn.LSTM(FEATURES, HIDDEN, batch_first=True)
    head = torch.nn.Linear(HIDDEN, CLASSES)
    optimizer = torch.optim.SGD(list(lstm.parameters()) + list(head.parameters()), lr=LR)

    def step():
        _, (h, _) = lstm(x)
        loss = torch.nn.functional.cross_entropy(head(h[-1]), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return step


def run(passes: int = 3) -> list[tuple[str, str, tuple[float, float, float]]]:
    """Both frameworks in turn, `passes` times (a shared machine drifts: interleaving keeps
    the ratio fair); per framework the min / median / max over all repeats."""
    steps = {"chainrule": chainrule_step(), "pytorch": torch_step()}
    times = {name: [] for name in steps}
    for _ in range(passes):
        for name, step in steps.items():
            times[name].append(measure(step, repeats=7, warmup=2)[1])
    return [(name, "steps/s", (1 / max(ts), 1 / statistics.median(ts), 1 / min(ts)))
            for name, ts in times.items()]


if __name__ == "__main__":
    print(f"W6 LSTM training step, {THREADS} thread(s) per framework, float32")
    results = run()
    for name, unit, (lo, mid, hi) in results:
        print(f"{name:10s} {mid:8.1f} {unit} (min {lo:.1f}, max {hi:.1f})")
    print(f"ratio chainrule / pytorch: {results[0][2][1] / results[1][2][1]:.2f}x")
