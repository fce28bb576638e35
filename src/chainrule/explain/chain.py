"""`chainrule explain chain`: backpropagation worked by hand on the smallest network with a
hidden layer, every number shown.

Two inputs, two hidden units with a sigmoid, one output, squared error; one fixed example,
weights drawn from the seed (rounded to two decimals, so the forward pass can be followed
with a pencil). It prints the forward pass, the loss, every weight's and bias's gradient
as a chain-rule product (from `trace`, i.e. from the engine's own backward functions), each
confirmed by a finite difference, then one step of gradient descent and the loss after it.
"""
from __future__ import annotations

import math

from ..autograd.grad_mode import no_grad
from ..backend import float64, manual_seed
from ..creation import randn, tensor
from ..flags import positive_float, seed
from .trace import trace

EXAMPLE = {"x1": 0.5, "x2": -1.0, "y": 0.0}
# From the output back to the inputs: the order in which backpropagation reaches them.
PARAMETERS = ("c", "v1", "v2", "b1", "w11", "w12", "b2", "w21", "w22")
INITIAL_ORDER = ("w11", "w12", "b1", "w21", "w22", "b2", "v1", "v2", "c")

# The local derivatives the chains below multiply, in words (the numbers come from the trace).
SHARED_FACTORS = (
    ("L", "ŷ", "2(ŷ − y)", "how the loss changes with the prediction"),
    ("ŷ", "h1", "v1", "how the prediction changes with hidden unit 1"),
    ("ŷ", "h2", "v2", "… and with hidden unit 2"),
    ("h1", "z1", "h1(1 − h1)", "the slope of the sigmoid at z1"),
    ("h2", "z2", "h2(1 − h2)", "the slope of the sigmoid at z2"),
)


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser(
        "chain", help="backpropagation by hand on a 2-2-1 network: every gradient as a "
        "chain-rule product, checked by finite differences",
        description="A network with two inputs, two sigmoid hidden units and one output, "
                    "on one example: the forward pass, the loss, each weight's gradient as a "
                    "product of local derivatives (confirmed by a finite difference), and "
                    "one step of gradient descent.")
    parser.add_argument("--seed", type=seed, default=0,
                        help="seed for the initial weights (default 0)")
    parser.add_argument("--lr", type=positive_float, default=0.1,
                        help="learning rate of the gradient-descent step (default 0.1)")
    parser.set_defaults(func=run)


def run(args) -> int:
    print(lesson(seed=args.seed, lr=args.lr))
    return 0


def lesson(seed: int = 0, lr: float = 0.1) -> str:
    """The whole printout as text."""
    if not (math.isfinite(lr) and lr > 0):
        raise ValueError(f"explain chain: --lr must be a positive number, got {lr}")
    params = _initial_parameters(seed)
    x1, x2, y = EXAMPLE["x1"], EXAMPLE["x2"], EXAMPLE["y"]
    values = _forward(params)
    loss = values["L"]
    names = {**{p: n for n, p in params.items()},
             **{values[k]: k for k in ("z1", "h1", "z2", "h2", "ŷ", "L")}}
    traces = {n: trace(loss, params[n], fn=lambda: _forward(params)["L"], names=names)
              for n in PARAMETERS}

    out = [("The network: two inputs, two hidden units with a sigmoid σ, one output, and the "
           "squared error."),
           "    z1 = w11·x1 + w12·x2 + b1      h1 = σ(z1) = 1 / (1 + e^(−z1))",
           "    z2 = w21·x1 + w22·x2 + b2      h2 = σ(z2)",
           "    ŷ  = v1·h1 + v2·h2 + c         L  = (ŷ − y)²",
           "",
           f"Initial parameters (seed {seed}, rounded to two decimals):",
           "    " + "".join(f"{n:<3} = {_p(params[n]):<8}" for n in INITIAL_ORDER[:3]).rstrip(),
           "    " + "".join(f"{n:<3} = {_p(params[n]):<8}" for n in INITIAL_ORDER[3:6]).rstrip(),
           "    " + "".join(f"{n:<3} = {_p(params[n]):<8}" for n in INITIAL_ORDER[6:]).rstrip(),
           f"The example: x1 = {x1:g}, x2 = {x2:g}, target y = {y:g}.",
           ""]
    out += _forward_section(params, values)
    out += [""] + _backward_section(traces)
    out += [""] + _descent_section(params, traces, lr, _v(loss))
    return "\n".join(out)


def _initial_parameters(seed: int) -> dict:
    manual_seed(seed)
    drawn = randn(len(INITIAL_ORDER), dtype=float64).numpy()
    return {n: tensor(round(float(v), 2), dtype=float64, requires_grad=True)
            for n, v in zip(INITIAL_ORDER, drawn)}


def _forward(p: dict) -> dict:
    """The network on the example, each intermediate value kept (and named) for the trace."""
    x1, x2, y = EXAMPLE["x1"], EXAMPLE["x2"], EXAMPLE["y"]
    z1 = p["w11"] * x1 + p["w12"] * x2 + p["b1"]
    h1 = z1.sigmoid()
    z2 = p["w21"] * x1 + p["w22"] * x2 + p["b2"]
    h2 = z2.sigmoid()
    y_hat = p["v1"] * h1 + p["v2"] * h2 + p["c"]
    loss = (y_hat - y) ** 2
    return {"z1": z1, "h1": h1, "z2": z2, "h2": h2, "ŷ": y_hat, "L": loss}


def _forward_section(p: dict, v: dict) -> list:
    x1, x2, y = EXAMPLE["x1"], EXAMPLE["x2"], EXAMPLE["y"]
    rows = [
        ("z1", "w11·x1 + w12·x2 + b1",
         f"({_p(p['w11'])})({x1:g}) + ({_p(p['w12'])})({x2:g}) + ({_p(p['b1'])})",
         "the weighted sum into hidden unit 1"),
        ("h1", "σ(z1)", f"σ({_f(v['z1'])})", "squashed into (0, 1) by the sigmoid"),
        ("z2", "w21·x1 + w22·x2 + b2",
         f"({_p(p['w21'])})({x1:g}) + ({_p(p['w22'])})({x2:g}) + ({_p(p['b2'])})",
         "the weighted sum into hidden unit 2"),
        ("h2", "σ(z2)", f"σ({_f(v['z2'])})", ""),
        ("ŷ", "v1·h1 + v2·h2 + c",
         f"({_p(p['v1'])})({_f(v['h1'])}) + ({_p(p['v2'])})({_f(v['h2'])}) + ({_p(p['c'])})",
         "the prediction"),
        ("L", "(ŷ − y)²", f"({_f(v['ŷ'])} − {y:g})²", "the loss: how far the prediction is off"),
    ]
    w1 = max(len(r[1]) for r in rows)
    w2 = max(len(r[2]) for r in rows)
    lines = ["1. Forward pass: compute each value from the inputs to the loss."]
    for name, formula, numbers, note in rows:
        lines.append(f"   {name:<2} = {formula:<{w1}} = {numbers:<{w2}} = {_f(v[name]):>8}"
                     + (f"   {note}" if note else ""))
    return lines


def _backward_section(traces: dict) -> list:
    factors = {}
    for tr in traces.values():
        for path in tr.paths:
            for f in path.factors:
                factors[(f.output, f.input)] = f.local
    lines = [("2. Backward pass: each gradient is a product of local derivatives (the chain "
             "rule),"),
             ("   read off the graph from the loss back to the parameter. The local "
             "derivatives at this example:")]
    shared = [(f"d{o}/d{i}", rule, factors[(o, i)], note)
              for o, i, rule, note in SHARED_FACTORS if (o, i) in factors]
    w1 = max(len(s[0]) for s in shared)
    w2 = max(len(s[1]) for s in shared)
    for name, rule, value, note in shared:
        lines.append(f"     {name:<{w1}} = {rule:<{w2}} = {_g(value):>8}   {note}")
    lines.append("   and the last factor of each chain is what multiplies the parameter: "
                 "dz1/dw11 = x1, dŷ/dv1 = h1, dz1/db1 = 1.")
    lines.append("")
    lines.append("   Every parameter's gradient (the factors near the loss are shared: "
                 "backpropagation computes them once):")
    rows = []
    for name, tr in traces.items():
        (path,) = tr.paths
        formula = " · ".join(f"d{f.output}/d{f.input}" for f in path.factors)
        numbers = "".join(f"({_g(f.local)})" for f in path.factors)
        if tr.matches:
            check = f"✓ matches finite difference {tr.numerical_error:.1e} away"
        else:
            check = f"✗ differs from the finite difference by {tr.numerical_error:.1e}"
        if not tr.agrees_with_engine:
            check += "; ✗ differs from the engine's backward"
        rows.append((f"dL/d{name}", formula, numbers, _g(_scalar(tr.product)), check))
    widths = [max(len(r[k]) for r in rows) for k in range(4)]
    for label, formula, numbers, value, check in rows:
        lines.append(f"     {label:<{widths[0]}} = {formula:<{widths[1]}} = "
                     f"{numbers:<{widths[2]}} = {value:>{widths[3]}}   {check}")
    return lines


def _descent_section(params: dict, traces: dict, lr: float, loss_before: float) -> list:
    lines = [(f"3. One step of gradient descent, learning rate lr = {lr:g}: every parameter "
             "moves against its gradient,"),
             ("   θ ← θ − lr·dL/dθ (downhill: a positive slope means a smaller θ lowers the "
             "loss).")]
    rows = []
    with no_grad():
        for name in INITIAL_ORDER:
            before, g = _v(params[name]), _scalar(traces[name].gradient)
            after = before - lr * g
            params[name].array[...] = after
            rows.append((name, f"{before:7.4f} − {lr:g}·({g:7.4f})", f"{after:.4f}"))
        loss_after = _v(_forward(params)["L"])
    w0 = max(len(r[0]) for r in rows)
    w1 = max(len(r[1]) for r in rows)
    for name, update, after in rows:
        lines.append(f"     {name:<{w0}} ← {update:<{w1}} = {after:>8}")
    predicted = lr * sum(_scalar(traces[n].gradient) ** 2 for n in INITIAL_ORDER)
    change = loss_before - loss_after
    lines += ["",
              f"   loss before the step: {loss_before:.6f}",
              f"   loss after the step:  {loss_after:.6f}   "
              + (f"(down {change:.6f})" if change > 0 else f"(UP {-change:.6f}: lr too large "
                                                           "for this slope; try a smaller --lr)"),
              (f"   The slope predicts a drop of lr·Σ(dL/dθ)² = {predicted:.6f} (first order: "
              "close when the step is small).")]
    return lines


def _v(t) -> float:
    return float(t.item())


def _p(x) -> str:
    """A parameter value (two decimals when it has no more)."""
    value = _v(x)
    return f"{value:.2f}" if round(value, 2) == value else f"{value:.4f}"


def _g(x: float) -> str:
    """A derivative: four significant digits, so that the printed factors multiply out to
    the printed product."""
    text = f"{x:.4g}"
    return "0" if text == "-0" else text


def _f(x) -> str:
    value = x if isinstance(x, float) else _v(x)
    return f"{value:.4f}"


def _scalar(a) -> float:
    return float(a.reshape(()))
