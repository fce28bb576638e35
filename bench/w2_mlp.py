"""W2: MLP 784-512-256-10, ReLU, cross-entropy, SGD; one training step per call.

Figure: samples per second at batch 32, 128 and 1024 for chainrule, PyTorch, and the same
forward and backward written by hand in NumPy (the cost of the math with no autograd).
"""
from __future__ import annotations

import numpy as np

from common import measure, torch_threads

SIZES = (784, 512, 256, 10)
BATCHES = (32, 128, 1024)
LR = 0.01


def data(batch: int):
    rng = np.random.default_rng(0)
    return (rng.standard_normal((batch, SIZES[0]), dtype=np.float32),
            rng.integers(0, SIZES[-1], batch))


def chainrule_step(batch: int):
    import chainrule as cr
    from chainrule import nn
    cr.manual_seed(0)
    model = nn.Sequential(nn.Linear(784, 512), nn.ReLU(), nn.Linear(512, 256), nn.ReLU(),
                          nn.Linear(256, 10))
    opt = cr.optim.SGD(model.parameters(), lr=LR)
    x, y = (cr.tensor(a) for a in data(batch))

    def step():
        loss = nn.functional.cross_entropy(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
    return step


def torch_step(batch: int):
    torch = torch_threads()
    torch.manual_seed(0)
    nn = torch.nn
    model = nn.Sequential(nn.Linear(784, 512), nn.ReLU(), nn.Linear(512, 256), nn.ReLU(),
                          nn.Linear(256, 10))
    opt = torch.optim.SGD(model.parameters(), lr=LR)
    x, y = (torch.from_numpy(a) for a in data(batch))

    def step():
        loss = nn.functional.cross_entropy(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
    return step


def numpy_step(batch: int):
    """Forward and backward of the same network by hand: the floor for any autograd."""
    rng = np.random.default_rng(0)
    weights = [rng.standard_normal((o, i), dtype=np.float32) * np.float32(1 / np.sqrt(i))
               for i, o in zip(SIZES[:-1], SIZES[1:])]
    biases = [np.zeros(o, np.float32) for o in SIZES[1:]]
    x, y = data(batch)
    rows = np.arange(batch)

    def step():
        activations = [x]
        for k, (w, b) in enumerate(zip(weights, biases)):
            z = activations[-1] @ w.T + b
            activations.append(np.maximum(z, 0) if k < len(weights) - 1 else z)
        logits = activations[-1]
        e = np.exp(logits - logits.max(1, keepdims=True))
        grad = e / e.sum(1, keepdims=True)
        grad[rows, y] -= 1
        grad /= batch
        for k in reversed(range(len(weights))):
            a = activations[k]
            grad_w, grad_b = grad.T @ a, grad.sum(0)
            if k:
                grad = (grad @ weights[k]) * (a > 0)
            weights[k] -= LR * grad_w
            biases[k] -= LR * grad_b
    return step


def run() -> list:
    rows = []
    for batch in BATCHES:
        for name, make in (("chainrule", chainrule_step), ("pytorch", torch_step),
                           ("numpy", numpy_step)):
            inner = max(1, 2048 // batch)
            seconds = measure(make(batch), repeats=7, warmup=2, inner=inner)
            rows.append((f"{name} b{batch}", "samples/s",
                         tuple(batch / s for s in reversed(seconds))))
    return rows


if __name__ == "__main__":
    for name, unit, (lo, mid, hi) in run():
        print(f"{name:16s} {mid:10.0f} {unit} (min {lo:.0f}, max {hi:.0f})")
