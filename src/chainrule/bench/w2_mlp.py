"""W2: MLP 784-512-256-10, ReLU, cross-entropy, SGD; one training step per call.

Figure: samples per second at batch 32, 128 and 1024; also the achieved GFLOP/s (matrix
products only) as a share of W0. scikit-learn's MLPClassifier runs the same network with
`partial_fit` over 2048 samples per call (its per-call input checks spread over as many
steps as the others run per timed repeat).
"""
from __future__ import annotations

import numpy as np

from .common import torch_threads, unsupported

ID = "W2"
TITLE = "MLP 784-512-256-10, ReLU, cross-entropy, SGD"
UNIT = "samples/s"
FRAMEWORKS = ("chainrule", "torch", "numpy", "sklearn")
SIZES = (784, 512, 256, 10)
# samples: how many one timed repeat covers (chainrule, PyTorch and NumPy run
# samples // batch steps per repeat; sklearn's partial_fit gets them in one call)
VARIANTS = tuple((f"b{b}", {"batch": b, "samples": 2048}) for b in (32, 128, 1024)) + (
    # chainrule with cr.explain.instruments read every 10 steps (two readings per repeat),
    # and without, in the same run: the instruments' cost
    ("b128 plain", {"batch": 128, "samples": 2560}),
    ("b128 instruments/10", {"batch": 128, "samples": 2560, "instruments": 10}))
QUICK = {"samples": 0}
REPEATS, WARMUP = 7, 2
TARGET = 1.0
LR = 0.01


def inner(batch: int, samples: int, instruments: int = 0) -> int:
    return max(1, samples // batch)


def work(batch: int, samples: int, instruments: int = 0) -> float:
    return batch


def FLOPS(batch: int, samples: int, instruments: int = 0) -> float:  # noqa: N802 - the name the runner reads
    """Matrix-product FLOPs per sample: forward, the weight gradient, and the input
    gradient of every layer but the first."""
    products = [i * o for i, o in zip(SIZES[:-1], SIZES[1:])]
    return 2.0 * (3 * sum(products) - products[0])


def data(batch: int):
    rng = np.random.default_rng(0)
    return (rng.standard_normal((batch, SIZES[0]), dtype=np.float32),
            rng.integers(0, SIZES[-1], batch))


def make(framework: str, batch: int, samples: int, instruments: int = 0,
         device: str = "cpu"):
    if framework == "chainrule":
        import chainrule as cr
        return _framework_step(cr, cr.nn, cr.optim, cr.from_numpy, batch, instruments, device)
    if instruments:
        raise unsupported(ID, framework)
    if framework == "torch":
        torch = torch_threads()
        return _framework_step(torch, torch.nn, torch.optim, torch.from_numpy, batch,
                               device=device)
    if device != "cpu":
        raise unsupported(ID, f"{framework} on {device}")
    if framework == "numpy":
        return _numpy_step(batch)
    if framework == "sklearn":
        return _sklearn_step(batch, samples)
    raise unsupported(ID, framework)


def _framework_step(lib, nn, optim, wrap, batch: int, instruments: int = 0,
                    device: str = "cpu"):
    lib.manual_seed(0)
    model = nn.Sequential(nn.Linear(784, 512), nn.ReLU(), nn.Linear(512, 256), nn.ReLU(),
                          nn.Linear(256, 10)).to(device)
    opt = optim.SGD(model.parameters(), lr=LR)
    x, y = (wrap(a).to(device) for a in data(batch))
    meter = None
    if instruments:
        from ..explain.instruments import Instruments
        meter = Instruments(model, every=instruments)
    steps = iter(range(1, 1 << 62))

    def step():
        loss = nn.functional.cross_entropy(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        if meter is not None:
            meter.after_step(next(steps), loss.item())
    return step


def _numpy_step(batch: int):
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


def _sklearn_step(batch: int, samples: int):
    import warnings

    from sklearn.neural_network import MLPClassifier
    model = MLPClassifier(hidden_layer_sizes=SIZES[1:-1], activation="relu", solver="sgd",
                          alpha=0.0, batch_size=batch, learning_rate_init=LR, momentum=0.0,
                          nesterovs_momentum=False, shuffle=False, random_state=0)
    repeat = max(batch, samples // batch * batch)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((repeat, SIZES[0]), dtype=np.float32)
    y = rng.integers(0, SIZES[-1], repeat)
    classes = np.arange(SIZES[-1])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.partial_fit(x[:batch], y[:batch], classes=classes)  # builds the weights

    def step():
        model.partial_fit(x, y)  # repeat // batch SGD steps
    step.work = repeat  # samples per call
    step.inner = 1      # one call per timed repeat
    return step
