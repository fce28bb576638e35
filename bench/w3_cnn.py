"""W3 (BENCHMARKS.md): a small CNN training step on (64, 1, 28, 28), chainrule vs PyTorch.

    conv 1→16 5×5, ReLU, maxpool 2, conv 16→32 5×5, ReLU, maxpool 2, flatten,
    linear 512→10, cross-entropy, SGD step

Both frameworks start from the same weights and see the same batch; each runs with
2 threads (PyTorch's intra-op pool, the BLAS pool under NumPy). After a warm-up the two
are timed in alternating blocks (so a noisy neighbour slows both alike) and the median
block of each is reported. Run:

    python bench/w3_cnn.py [--repeats 7] [--steps 20]
    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python bench/w3_cnn.py   (see BENCHMARKS.md)
"""
from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

import chainrule as cr
import chainrule.nn.functional as F

THREADS = 2


class ChainruleNet(cr.nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = cr.nn.Conv2d(1, 16, 5)
        self.conv2 = cr.nn.Conv2d(16, 32, 5)
        self.fc = cr.nn.Linear(512, 10)

    def forward(self, x):
        x = F.max_pool2d(self.conv1(x).relu(), 2)
        x = F.max_pool2d(self.conv2(x).relu(), 2)
        return self.fc(x.flatten(1))


def chainrule_loss(logits, y):
    if hasattr(F, "cross_entropy"):
        return F.cross_entropy(logits, y)
    # until F.cross_entropy exists: the mean negative log-likelihood of the true classes
    picked = cr.log_softmax(logits, 1)[cr.arange(logits.shape[0]), y]
    return -picked.mean()


def chainrule_step_fn(model, x, y, lr):
    params = list(model.parameters())
    optim = getattr(cr, "optim", None)
    if optim is not None and hasattr(optim, "SGD"):
        opt = optim.SGD(params, lr=lr)
        update = opt.step
        zero = opt.zero_grad
    else:  # plain gradient descent on the arrays
        def update():
            for p in params:
                p.data -= lr * p.grad.data

        def zero():
            for p in params:
                p.grad = None

    def step():
        zero()
        loss = chainrule_loss(model(x), y)
        loss.backward()
        update()
        return loss
    return step


def torch_step_fn(torch, model, x, y, lr):
    opt = torch.optim.SGD(model.parameters(), lr=lr)

    def step():
        opt.zero_grad()
        loss = torch.nn.functional.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        return loss
    return step


def torch_twin(torch, net: ChainruleNet):
    model = torch.nn.Sequential(
        torch.nn.Conv2d(1, 16, 5), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
        torch.nn.Conv2d(16, 32, 5), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
        torch.nn.Flatten(), torch.nn.Linear(512, 10))
    with torch.no_grad():
        for theirs, ours in zip(model.parameters(), net.parameters()):
            theirs.copy_(torch.from_numpy(np.array(ours.numpy())))
    return model


def time_block(step, steps: int) -> float:
    start = time.perf_counter()
    for _ in range(steps):
        step()
    return (time.perf_counter() - start) / steps


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--steps", type=int, default=20, help="steps per timed block")
    parser.add_argument("--repeats", type=int, default=7, help="timed blocks per framework")
    parser.add_argument("--warmup", type=int, default=10)
    parser.add_argument("--threads", type=int, default=THREADS,
                        help="threads for each framework (BENCHMARKS.md: 2)")
    parser.add_argument("--no-torch", action="store_true")
    args = parser.parse_args(argv)

    limits = None
    try:  # the BLAS pool behind NumPy, limited like PyTorch's
        from threadpoolctl import threadpool_limits
        limits = threadpool_limits(args.threads)
    except ImportError:
        pass

    cr.manual_seed(0)
    rng = np.random.default_rng(0)
    x_np = rng.standard_normal((args.batch, 1, 28, 28)).astype(np.float32)
    y_np = rng.integers(0, 10, args.batch)
    lr = 0.01

    net = ChainruleNet()
    runs = {}
    torch = None
    if not args.no_torch:
        import torch
        torch.set_num_threads(args.threads)
        torch.manual_seed(0)
        model = torch_twin(torch, net)
        runs["pytorch"] = torch_step_fn(torch, model, torch.from_numpy(x_np),
                                        torch.from_numpy(y_np), lr)
    runs["chainrule"] = chainrule_step_fn(net, cr.tensor(x_np), cr.tensor(y_np), lr)

    first = {name: float(step().item()) for name, step in runs.items()}
    if len(first) == 2:
        print(f"first-step loss: chainrule {first['chainrule']:.6f}, "
              f"pytorch {first['pytorch']:.6f}")
    for step in runs.values():
        for _ in range(args.warmup):
            step()
    times = {name: [] for name in runs}
    for _ in range(args.repeats):
        for name, step in runs.items():
            times[name].append(time_block(step, args.steps))

    print(f"W3 CNN, batch {args.batch}, {args.threads} threads, median of {args.repeats} blocks "
          f"of {args.steps} steps (best block in brackets)")
    print(f"{'framework':<10} {'ms/step':>8} {'steps/s':>8} {'samples/s':>10} {'[best ms]':>10}")
    rate, best = {}, {}
    for name, ts in times.items():
        t = statistics.median(ts)
        rate[name], best[name] = 1.0 / t, 1.0 / min(ts)
        print(f"{name:<10} {t * 1e3:8.2f} {1 / t:8.1f} {args.batch / t:10.0f} "
              f"{min(ts) * 1e3:10.2f}")
    if "pytorch" in rate:
        print(f"ratio chainrule / pytorch (steps/s): {rate['chainrule'] / rate['pytorch']:.2f} "
              f"[best blocks {best['chainrule'] / best['pytorch']:.2f}]  (target ≥ 0.5)")
    if limits is not None:
        limits.restore_original_limits()


if __name__ == "__main__":
    main()
