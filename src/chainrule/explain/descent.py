"""`chainrule explain descent`: the slope of the loss along one weight, and the steps of
gradient descent that follow it downhill.

A small real model is trained briefly on the digits. Then one weight w is singled out and
every other number is frozen, so the loss becomes a curve L(w) that can be drawn. The
engine's gradient ∂L/∂w is the slope of the tangent to that curve at the current w (checked
here against the slope measured numerically), and gradient descent

    w ← w − lr · ∂L/∂w

walks down the curve. With a learning rate too big the steps overshoot the bottom and
climb the other side; too small, they crawl.

The loss is the mean cross-entropy over the whole training split (no mini-batches), in
float64, so the curve, the tangent and the steps are exact, not noisy estimates.
"""
from __future__ import annotations

import os

import numpy

from .. import backend, nn
from ..autograd import engine
from ..autograd.grad_mode import no_grad
from ..creation import as_tensor
from ..flags import int_in, positive_float, seed
from ..nn import functional as F
from ..sparse import dense_tensor

MODELS = ("logreg", "mlp")


def build_problem(model: str = "logreg", seed: int = 0, train_steps: int = 20,
                  train_lr: float = 0.5, limit: int | None = None):
    """(model, inputs, targets): a logistic regression or a tiny MLP on the digits'
    training split, trained with `train_steps` full-batch SGD steps, in float64."""
    from ..data import load_dataset
    from ..train import recipes
    if model not in MODELS:
        raise ValueError(f"descent: unknown model {model!r}; choose from {', '.join(MODELS)}")
    backend.manual_seed(seed)
    splits = load_dataset("digits", seed=seed)
    encoder = recipes.fit_encoder(recipes.get_recipe("mlp"), splits)
    x, y = splits.train
    if limit:
        x, y = x[:limit], y[:limit]
    inputs = as_tensor(encoder.transform(x).astype(numpy.float64))
    targets = as_tensor(y)
    features = inputs.shape[1]
    network = nn.Linear(features, 10) if model == "logreg" else \
        nn.Sequential(nn.Linear(features, 16), nn.Tanh(), nn.Linear(16, 10))
    network.double()
    from ..optim import SGD
    opt = SGD(network.parameters(), lr=train_lr)
    for _ in range(train_steps):
        loss = F.cross_entropy(network(inputs), targets)
        opt.zero_grad()
        loss.backward()
        opt.step()
    return network, inputs, targets


class _OneWeight:
    """The loss as a function of one weight, every other number held fixed."""

    def __init__(self, model, inputs, targets, name: str, index: tuple):
        self.model, self.inputs, self.targets = model, inputs, targets
        self.param = self.param_named(model, name)
        if len(index) != self.param.ndim or any(
                not -n <= i < n for i, n in zip(index, self.param.shape)):
            raise ValueError(f"descent: index {','.join(map(str, index))} does not fit "
                             f"{name} of shape {tuple(self.param.shape)}")
        self.index = index
        self.original = float(self.param.array[index])

    @staticmethod
    def param_named(model, name: str):
        params = dict(model.named_parameters())
        if name not in params:
            raise ValueError(f"descent: no parameter {name!r}; the model has "
                             f"{', '.join(params)}")
        return params[name]

    def set(self, w: float) -> None:
        self.param.array[self.index] = w

    def loss(self, w: float) -> float:
        self.set(w)
        with no_grad():
            return float(F.cross_entropy(self.model(self.inputs), self.targets).item())

    def gradient(self, w: float) -> float:
        """∂L/∂w from the engine: one forward, one backward (`autograd.grad`)."""
        self.set(w)
        loss = F.cross_entropy(self.model(self.inputs), self.targets)
        (g,) = engine.grad(loss, [self.param])
        return float(dense_tensor(g).array[self.index])

    def descend(self, w: float, lr: float, steps: int) -> list:
        """[(w, L(w))] for `steps` steps of w ← w − lr·∂L/∂w, stopping if L blows up."""
        path = [(w, self.loss(w))]
        for _ in range(steps):
            w = w - lr * self.gradient(w)
            value = self.loss(w)
            path.append((w, value))
            if not numpy.isfinite(value) or value > 50 * path[0][1] + 50:
                break
        return path

    def restore(self) -> None:
        self.set(self.original)


def default_param(model) -> str:
    return next(name for name, p in model.named_parameters() if p.ndim == 2)


def draw_descent(model: str = "logreg", param: str | None = None, index=None,
                 lr: float | None = None,
                 steps: int = 6, train_steps: int = 20, seed: int = 0,
                 out: str | None = "descent.png", problem=None, examples: int | None = None,
                 eps: float = 1e-5) -> dict:
    """Draw L(w) for one weight with its tangent and gradient-descent steps.

    model: "logreg" or "mlp" (ignored when `problem=(model, inputs, targets)` is given),
        trained on the first `examples` training digits (default: all).
    param, index: the weight (default: the first weight matrix, at the element with the
        steepest slope). lr: the step size of the left panel (default 0.8 / the curvature
        at the bottom: a few steps reach it); the right panel uses one past 2 / curvature,
        where steps overshoot by more than they gain, and lr / 10.
    Returns the numbers in the picture: the weight, the loss, the engine's gradient, the
    numerical slope (central difference with step `eps`), the curvature and the paths.
    """
    network, inputs, targets = problem if problem is not None else \
        build_problem(model, seed=seed, train_steps=train_steps, limit=examples)
    param = param or default_param(network)
    chosen = _OneWeight.param_named(network, param)
    if index is None:
        loss = F.cross_entropy(network(inputs), targets)
        g = dense_tensor(engine.grad(loss, [chosen])[0])
        index = tuple(int(i) for i in numpy.unravel_index(
            numpy.abs(backend.to_device(g.array, "cpu")).argmax(), g.shape))
    index = tuple(int(i) for i in index)
    curve = _OneWeight(network, inputs, targets, param, index)
    try:
        w0 = curve.original
        loss0 = curve.loss(w0)
        gradient = curve.gradient(w0)
        slope = (curve.loss(w0 + eps) - curve.loss(w0 - eps)) / (2 * eps)
        bottom, curvature = _bottom(curve, w0)
        if lr is None:
            lr = _nice(0.8 / curvature)
        good = curve.descend(w0, lr, steps)
        big_lr = max(float(f"{2.6 / curvature:.2g}"), 2.0 * lr)  # past 2/curvature
        big = curve.descend(w0, big_lr, min(steps, 5))
        small = curve.descend(w0, lr / 10, steps)
        result = {"param": param, "index": index, "weight": w0, "loss": loss0,
                  "gradient": gradient, "numeric_slope": slope, "curvature": curvature,
                  "bottom": bottom, "lr": lr, "steps": good, "big_lr": big_lr, "big_steps": big,
                  "small_lr": lr / 10, "small_steps": small,
                  "match": bool(numpy.isclose(gradient, slope, rtol=1e-5, atol=1e-9))}
        if out:
            result["curves"] = _plot(curve, result, out)
            result["path"] = out
    finally:
        curve.restore()
    return result


def _bottom(curve, w0: float):
    """The lowest point of L(w) near w0 and the curvature d²L/dw² there (Newton's method
    on the engine's gradient, the curvature from two nearby gradients)."""
    def curvature_at(w):
        delta = 1e-3 * max(1.0, abs(w))
        return (curve.gradient(w + delta) - curve.gradient(w - delta)) / (2 * delta)

    w = w0
    for _ in range(12):
        h = curvature_at(w)
        if h <= 1e-8:
            break
        step = curve.gradient(w) / h
        w -= step
        if abs(step) < 1e-6 * max(1.0, abs(w)):
            break
    h = curvature_at(w)
    if h <= 1e-8 or not numpy.isfinite(w):  # not a bowl here: use the start's curvature
        w, h = w0, max(curvature_at(w0), 1e-3)
    return w, h


def _nice(x: float) -> float:
    """x rounded to 1, 2 or 5 times a power of ten (at most x)."""
    power = 10.0 ** numpy.floor(numpy.log10(x))
    for m in (5, 2, 1):
        if m * power <= x:
            return float(m * power)
    return float(power)


def _sweep(curve, points, pad=0.25, n=121):
    ws = [w for w, _ in points if numpy.isfinite(w)]
    lo, hi = min(ws), max(ws)
    width = max(hi - lo, 1e-3 * max(1.0, abs(lo)))
    grid = numpy.linspace(lo - pad * width, hi + pad * width, n)
    return grid, numpy.array([curve.loss(w) for w in grid])


def _plot(curve, result, out: str) -> dict:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    name = f"{result['param']}[{', '.join(map(str, result['index']))}]"
    w0, l0, g = result["weight"], result["loss"], result["gradient"]
    fig = plt.figure(figsize=(13, 6.4), constrained_layout=True)
    grid_spec = fig.add_gridspec(2, 2, width_ratios=(1.35, 1))
    left = fig.add_subplot(grid_spec[:, 0])
    big = fig.add_subplot(grid_spec[0, 1])
    small = fig.add_subplot(grid_spec[1, 1])
    # left: the curve, the tangent whose slope is the gradient, the steps downhill
    bottom = result["bottom"]
    grid, losses = _sweep(curve, result["steps"] + [(bottom, 0.0)])
    left.plot(grid, losses, color="#1f4e79", lw=2, label=f"loss L(w), w = {name}")
    half = 0.3 * (grid[-1] - grid[0])
    t = numpy.array([w0 - half, w0 + half])
    tangent = l0 + g * (t - w0)
    left.plot(t, tangent, color="#e07b00", lw=2, ls="--",
              label=f"tangent at w: slope ∂L/∂w = {g:.4g} (engine)")
    _steps(left, result["steps"], "#2a9d3f", f"w ← w − lr·∂L/∂w, lr = {result['lr']:.3g}")
    left.plot([w0], [l0], "o", color="#e07b00", ms=9, zorder=5)
    left.annotate(f"w = {w0:.3f}\nL = {l0:.4f}", (w0, l0), textcoords="offset points",
                  xytext=(14, -30), fontsize=9, color="#e07b00")
    left.set_ylim(*_limits(losses))
    left.set_title(f"The slope of the loss along one weight, {name}\n"
                   f"engine gradient {g:.6g}  ·  numerical slope {result['numeric_slope']:.6g}",
                   fontsize=11)
    # right: the same curve with a step size too big (top) and too small (bottom)
    grid2, losses2 = _sweep(curve, result["big_steps"] + [(bottom, 0.0)], pad=0.12)
    big.plot(grid2, losses2, color="#1f4e79", lw=2, label="loss L(w)")
    _steps(big, result["big_steps"], "#c0392b",
           f"lr = {result['big_lr']:.3g}: each step overshoots the bottom")
    big.set_ylim(*_limits(numpy.concatenate([losses2, [v for _, v in result["big_steps"]]])))
    big.set_title("Learning rate too big", fontsize=11)
    small.plot(grid, losses, color="#1f4e79", lw=2, label="loss L(w)")
    _steps(small, result["small_steps"], "#7d3c98",
           f"lr = {result['small_lr']:.3g}: {len(result['small_steps']) - 1} steps, "
           "still far from the bottom")
    small.set_ylim(*_limits(losses))
    small.set_xlim(left.get_xlim())
    small.set_title("Learning rate too small", fontsize=11)
    for ax in (left, big, small):
        ax.set_xlabel(f"w = {name} (every other number fixed)", fontsize=9)
        ax.set_ylabel("mean cross-entropy loss", fontsize=9)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8.5 if ax is left else 8, loc="upper center")
    os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
    fig.savefig(out, dpi=110)
    plt.close(fig)
    return {"grid": grid, "losses": losses, "tangent": (t, tangent)}


def _limits(values):
    values = numpy.asarray(values, float)
    values = values[numpy.isfinite(values)]
    lo, hi = values.min(), values.max()
    span = hi - lo or 1.0
    return lo - 0.08 * span, hi + 0.35 * span  # room for the legend


def _steps(ax, path, color, label) -> None:
    ws = [w for w, _ in path]
    ls = [v for _, v in path]
    ax.plot(ws, ls, "o", color=color, ms=6, zorder=4, label=label)
    for k in range(len(path) - 1):
        ax.annotate("", xy=path[k + 1], xytext=path[k], zorder=3,
                    arrowprops={"arrowstyle": "->", "color": color, "lw": 1.6,
                                "shrinkA": 4, "shrinkB": 4})
    for k, (w, v) in enumerate(path[1:4], start=1):
        ax.annotate(str(k), (w, v), textcoords="offset points", xytext=(0, -14), fontsize=8,
                    color=color, ha="center")


# --- command line --------------------------------------------------------------------------
def add_parser(subparsers) -> None:
    parser = subparsers.add_parser(
        "descent", help="the loss along one weight: its slope (the gradient) and the steps "
        "of gradient descent",
        description="Train a small model on the digits briefly, pick one weight, and draw the "
                    "loss as a function of that weight with its tangent and a few steps of "
                    "gradient descent (and a learning rate too big and too small).")
    parser.add_argument("--model", choices=MODELS, default="logreg",
                        help="logistic regression or a one-hidden-layer MLP (default logreg)")
    parser.add_argument("--param", help="parameter name (default: the first weight matrix)")
    parser.add_argument("--index", help="element of the parameter, e.g. 3,27 (default: the "
                        "one with the steepest slope)")
    parser.add_argument("--lr", type=positive_float, help="learning rate of the left panel "
                        "(default: 0.8 / curvature)")
    parser.add_argument("--steps", type=int_in(1, 1000), default=6,
                        help="gradient-descent steps drawn")
    parser.add_argument("--train-steps", type=int_in(0, 1_000_000), default=20,
                        help="full-batch SGD steps of training before the picture")
    parser.add_argument("--examples", type=int_in(1, 1_000_000), help="use the first N "
                        "training digits (default: all 1,259)")
    parser.add_argument("--seed", type=seed, default=0,
                        help="fixes the training run and the weight picked (default 0)")
    parser.add_argument("--out", default=os.path.join("runs", "explain", "descent.png"),
                        help="picture file, .png or .svg (default runs/explain/descent.png)")
    parser.set_defaults(func=run)


def run(args) -> int:
    index = _parse_index(args.index) if args.index else None
    result = draw_descent(args.model, param=args.param, index=index, lr=args.lr,
                          steps=args.steps, train_steps=args.train_steps, seed=args.seed,
                          out=args.out, examples=args.examples)
    name = f"{result['param']}[{','.join(map(str, result['index']))}]"
    print(f"weight {name} = {result['weight']:.6f}, loss {result['loss']:.6f}")
    print(f"gradient from the engine     dL/dw = {result['gradient']:.10g}")
    print(f"slope measured numerically  ΔL/Δw = {result['numeric_slope']:.10g}  "
          f"({'they match' if result['match'] else 'MISMATCH'})")
    print(f"curvature d²L/dw² ≈ {result['curvature']:.4g} at the bottom, w = "
          f"{result['bottom']:.4f}; lr {result['lr']:.3g}: loss "
          f"{result['steps'][0][1]:.5f} → {result['steps'][-1][1]:.5f} in "
          f"{len(result['steps']) - 1} steps")
    print(f"picture written to {result['path']}")
    return 0 if result["match"] else 1


def _parse_index(text: str) -> tuple:
    try:
        return tuple(int(part) for part in text.replace(" ", "").split(","))
    except ValueError:
        raise ValueError(f"descent: --index wants integers separated by commas, like 3,27; "
                         f"got {text!r}") from None
