"""W3: a small CNN training step on a (64, 1, 28, 28) batch.

    conv 1→16 5×5, ReLU, maxpool 2, conv 16→32 5×5, ReLU, maxpool 2, flatten,
    linear 512→10, cross-entropy, SGD step

The NumPy reference is a plain im2col convolution (one matrix product forward, two
backward, a scatter-add back to the image) and a reshape max-pool.
"""
from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from .common import torch_threads, unsupported

ID = "W3"
TITLE = "CNN on (64,1,28,28): conv 5×5 ×2, ReLU, maxpool 2, linear 512→10"
UNIT = "samples/s"
FRAMEWORKS = ("chainrule", "torch", "numpy")
VARIANTS = (("", {"batch": 64}),
            # with cr.explain.instruments read every 10 steps (one reading per repeat), and
            # the same without, in the same run: the instruments' cost
            ("plain", {"batch": 64, "inner": 10}),
            ("instruments/10", {"batch": 64, "inner": 10, "instruments": 10}))
REPEATS, WARMUP = 7, 3
TARGET = 0.8
LR = 0.01


def inner(batch: int, inner: int = 5, instruments: int = 0) -> int:
    return inner


def work(batch: int, inner: int = 5, instruments: int = 0) -> float:
    return batch


def data(batch: int):
    rng = np.random.default_rng(0)
    return (rng.standard_normal((batch, 1, 28, 28)).astype(np.float32),
            rng.integers(0, 10, batch))


def make(framework: str, batch: int, inner: int = 5, instruments: int = 0,
         device: str = "cpu"):
    if framework == "chainrule":
        return _chainrule_step(batch, instruments, device)
    if instruments:
        raise unsupported(ID, framework)
    if framework == "torch":
        return _torch_step(batch, device)
    if device != "cpu":
        raise unsupported(ID, f"{framework} on {device}")
    if framework == "numpy":
        return _numpy_step(batch)
    raise unsupported(ID, framework)


def _chainrule_step(batch: int, instruments: int = 0, device: str = "cpu"):
    import chainrule as cr
    import chainrule.nn.functional as F

    class Net(cr.nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = cr.nn.Conv2d(1, 16, 5)
            self.conv2 = cr.nn.Conv2d(16, 32, 5)
            self.fc = cr.nn.Linear(512, 10)

        def forward(self, x):
            x = F.max_pool2d(self.conv1(x).relu(), 2)
            x = F.max_pool2d(self.conv2(x).relu(), 2)
            return self.fc(x.flatten(1))

    cr.manual_seed(0)
    model = Net().to(device)
    opt = cr.optim.SGD(model.parameters(), lr=LR)
    x, y = (cr.from_numpy(a).to(device) for a in data(batch))
    meter = None
    if instruments:
        from ..explain.instruments import Instruments
        meter = Instruments(model, every=instruments)
    steps = iter(range(1, 1 << 62))

    def step():
        opt.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        if meter is not None:
            meter.after_step(next(steps), loss.item())
    return step


def _torch_step(batch: int, device: str = "cpu"):
    torch = torch_threads()
    torch.manual_seed(0)
    nn = torch.nn
    model = nn.Sequential(nn.Conv2d(1, 16, 5), nn.ReLU(), nn.MaxPool2d(2),
                          nn.Conv2d(16, 32, 5), nn.ReLU(), nn.MaxPool2d(2),
                          nn.Flatten(), nn.Linear(512, 10)).to(device)
    opt = torch.optim.SGD(model.parameters(), lr=LR)
    x, y = (torch.from_numpy(a).to(device) for a in data(batch))

    def step():
        opt.zero_grad()
        loss = nn.functional.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
    return step


# --- the same network by hand ----------------------------------------------------------------

def _conv_forward(x, w, b):
    """x (N, C, H, W), w (F, C, k, k) → (N, F, H-k+1, W-k+1), and the im2col matrix."""
    n, c = x.shape[:2]
    f, _, k, _ = w.shape
    windows = sliding_window_view(x, (k, k), axis=(2, 3))          # (N, C, Ho, Wo, k, k)
    ho, wo = windows.shape[2:4]
    cols = windows.transpose(0, 2, 3, 1, 4, 5).reshape(n * ho * wo, c * k * k)
    out = cols @ w.reshape(f, -1).T + b                              # (N·Ho·Wo, F)
    return out.reshape(n, ho, wo, f).transpose(0, 3, 1, 2), cols


def _conv_backward(grad, cols, w, x_shape, need_input_grad: bool):
    """Gradients of weight, bias and (if asked) input from grad (N, F, Ho, Wo)."""
    n, c, h, wd = x_shape
    f, _, k, _ = w.shape
    ho, wo = grad.shape[2:]
    g = grad.transpose(0, 2, 3, 1).reshape(-1, f)                    # (N·Ho·Wo, F)
    grad_w = (g.T @ cols).reshape(w.shape)
    grad_b = g.sum(0)
    grad_x = None
    if need_input_grad:
        grad_cols = (g @ w.reshape(f, -1)).reshape(n, ho, wo, c, k, k)
        grad_x = np.zeros(x_shape, dtype=grad.dtype)
        for i in range(k):
            for j in range(k):
                grad_x[:, :, i:i + ho, j:j + wo] += grad_cols[:, :, :, :, i, j].transpose(
                    0, 3, 1, 2)
    return grad_w, grad_b, grad_x


def _pool_forward(x):
    """2×2 max-pool of (N, C, H, W) with even H, W; the position of each maximum."""
    n, c, h, w = x.shape
    blocks = x.reshape(n, c, h // 2, 2, w // 2, 2).transpose(0, 1, 2, 4, 3, 5).reshape(
        n, c, h // 2, w // 2, 4)
    where = blocks.argmax(-1)
    return np.take_along_axis(blocks, where[..., None], -1)[..., 0], where


def _pool_backward(grad, where, x_shape):
    n, c, h, w = x_shape
    blocks = np.zeros((n, c, h // 2, w // 2, 4), dtype=grad.dtype)
    np.put_along_axis(blocks, where[..., None], grad[..., None], -1)
    return blocks.reshape(n, c, h // 2, w // 2, 2, 2).transpose(0, 1, 2, 4, 3, 5).reshape(
        x_shape)


def _numpy_step(batch: int):
    rng = np.random.default_rng(0)

    def uniform(shape, fan_in):
        bound = 1 / np.sqrt(fan_in)
        return rng.uniform(-bound, bound, shape).astype(np.float32)

    params = {"w1": uniform((16, 1, 5, 5), 25), "b1": uniform(16, 25),
              "w2": uniform((32, 16, 5, 5), 400), "b2": uniform(32, 400),
              "w3": uniform((10, 512), 512), "b3": uniform(10, 512)}
    x, y = data(batch)
    rows = np.arange(batch)

    def step():
        p = params
        z1, cols1 = _conv_forward(x, p["w1"], p["b1"])
        a1 = np.maximum(z1, 0)
        h1, where1 = _pool_forward(a1)
        z2, cols2 = _conv_forward(h1, p["w2"], p["b2"])
        a2 = np.maximum(z2, 0)
        h2, where2 = _pool_forward(a2)
        flat = h2.reshape(batch, -1)
        logits = flat @ p["w3"].T + p["b3"]
        e = np.exp(logits - logits.max(1, keepdims=True))
        g = e / e.sum(1, keepdims=True)
        g[rows, y] -= 1
        g /= batch
        grads = {"w3": g.T @ flat, "b3": g.sum(0)}
        g = (g @ p["w3"]).reshape(h2.shape)
        g = _pool_backward(g, where2, a2.shape) * (z2 > 0)
        grads["w2"], grads["b2"], g = _conv_backward(g, cols2, p["w2"], h1.shape, True)
        g = _pool_backward(g, where1, a1.shape) * (z1 > 0)
        grads["w1"], grads["b1"], _ = _conv_backward(g, cols1, p["w1"], x.shape, False)
        for name, grad in grads.items():
            p[name] -= LR * grad
    return step
