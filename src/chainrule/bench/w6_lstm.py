"""W6: LSTM, batch 64, length 50, input 64, hidden 128, one layer; the last hidden state
through a linear layer to 2 classes, cross-entropy, one SGD step.

The NumPy reference writes the LSTM out: the input projection of all steps in one matrix
product, 50 recurrent steps forward, 50 back (backpropagation through time), and the
weight gradients as single products over all steps.
"""
from __future__ import annotations

import numpy as np

from .common import torch_threads, unsupported

ID = "W6"
TITLE = "LSTM batch 64, length 50, input 64, hidden 128, last state → linear 2"
UNIT = "samples/s"
FRAMEWORKS = ("chainrule", "torch", "numpy")
VARIANTS = (("", {"batch": 64, "steps": 50, "features": 64, "hidden": 128}),)
REPEATS, WARMUP = 5, 2
TARGET = 0.9
LR = 0.01
CLASSES = 2


def inner(**size) -> int:
    return 2


def work(batch, **size) -> float:
    return batch


def data(batch, steps, features):
    rng = np.random.default_rng(0)
    return (rng.standard_normal((batch, steps, features), dtype=np.float32),
            rng.integers(0, CLASSES, batch))


def make(framework: str, batch: int, steps: int, features: int, hidden: int):
    x, y = data(batch, steps, features)
    if framework == "chainrule":
        import chainrule as cr
        cr.manual_seed(0)
        return _framework_step(cr, cr.from_numpy(x), cr.from_numpy(y), features, hidden)
    if framework == "torch":
        torch = torch_threads()
        torch.manual_seed(0)
        return _framework_step(torch, torch.from_numpy(x), torch.from_numpy(y), features,
                               hidden)
    if framework == "numpy":
        return _numpy_step(x, y, hidden)
    raise unsupported(ID, framework)


def _framework_step(lib, x, y, features, hidden):
    lstm = lib.nn.LSTM(features, hidden, batch_first=True)
    head = lib.nn.Linear(hidden, CLASSES)
    opt = lib.optim.SGD(list(lstm.parameters()) + list(head.parameters()), lr=LR)

    def step():
        _, (h, _) = lstm(x)
        loss = lib.nn.functional.cross_entropy(head(h[-1]), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
    return step


def _sigmoid(z):
    return 1 / (1 + np.exp(-z))


def _numpy_step(x, y, hidden):
    batch, steps, features = x.shape
    rng = np.random.default_rng(0)
    bound = 1 / np.sqrt(hidden)

    def uniform(*shape):
        return rng.uniform(-bound, bound, shape).astype(np.float32)

    # gates in PyTorch's order: i, f, g, o
    w_x, w_h, b = uniform(features, 4 * hidden), uniform(hidden, 4 * hidden), uniform(4 * hidden)
    w_out, b_out = uniform(hidden, CLASSES), uniform(CLASSES)
    rows = np.arange(batch)
    H = hidden  # noqa: N806 - as in the equations

    def step():
        nonlocal w_x, w_h, b, w_out, b_out
        # time-major, so that each step's rows are contiguous
        inputs = x.transpose(1, 0, 2).reshape(steps * batch, features)
        projected = (inputs @ w_x + b).reshape(steps, batch, 4 * H)
        h = np.zeros((batch, H), np.float32)
        c = np.zeros((batch, H), np.float32)
        hs = np.empty((steps, batch, H), np.float32)   # h entering each step
        cs = np.empty((steps, batch, H), np.float32)   # c entering each step
        sig = np.empty((steps, batch, 4 * H), np.float32)  # σ(i), σ(f), tanh(g), σ(o)
        tanh_cs = np.empty((steps, batch, H), np.float32)
        for t in range(steps):
            hs[t], cs[t] = h, c
            a = projected[t] + h @ w_h
            gates = sig[t]
            np.tanh(a[:, 2 * H:3 * H], out=gates[:, 2 * H:3 * H])
            gates[:, :2 * H] = _sigmoid(a[:, :2 * H])
            gates[:, 3 * H:] = _sigmoid(a[:, 3 * H:])
            i, f, g, o = (gates[:, k * H:(k + 1) * H] for k in range(4))
            c = f * c + i * g
            np.tanh(c, out=tanh_cs[t])
            h = o * tanh_cs[t]
        logits = h @ w_out + b_out
        e = np.exp(logits - logits.max(1, keepdims=True))
        d = e / e.sum(1, keepdims=True)
        d[rows, y] -= 1
        d /= batch
        grad_w_out, grad_b_out = h.T @ d, d.sum(0)
        dh = d @ w_out.T
        dc = np.zeros_like(dh)
        da = np.empty((steps, batch, 4 * H), np.float32)
        for t in reversed(range(steps)):
            i, f, g, o = (sig[t][:, k * H:(k + 1) * H] for k in range(4))
            tanh_c = tanh_cs[t]
            dc += dh * o * (1 - tanh_c * tanh_c)
            da[t, :, :H] = dc * g * i * (1 - i)
            da[t, :, H:2 * H] = dc * cs[t] * f * (1 - f)
            da[t, :, 2 * H:3 * H] = dc * i * (1 - g * g)
            da[t, :, 3 * H:] = dh * tanh_c * o * (1 - o)
            dc *= f
            dh = da[t] @ w_h.T
        flat_da = da.reshape(-1, 4 * H)
        w_x -= LR * (inputs.T @ flat_da)
        w_h -= LR * (hs.reshape(-1, H).T @ flat_da)
        b = b - LR * flat_da.sum(0)
        w_out -= LR * grad_w_out
        b_out = b_out - LR * grad_b_out
    return step
