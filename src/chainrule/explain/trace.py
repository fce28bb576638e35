"""`trace(loss, param)`: one gradient spelled out as the chain rule, path by path.

    w = cr.tensor(0.5, dtype=cr.float64, requires_grad=True)
    f = lambda: ((w * 1.5).sigmoid() - 1) ** 2
    print(cr.explain.trace(f(), w, fn=f))

The trace walks the graph the engine walks (`tensor.grad_fn`, `node.inputs`) from the loss
back to the parameter. Every route through the graph is a *path*; along a path each op
contributes its local derivative, and the chain rule says

    dL/dw = Σ over paths of the product of the local derivatives along the path.

No derivative is computed here: each step calls the node's own backward through
`engine.node_backward` (what the engine calls), with the engine's `sum_to` for broadcast
inputs, so a trace shows exactly what backpropagation does. For one-element tensors the
local derivative of a step is a number (the backward of 1); for larger tensors the
"product" is a chain of vector-Jacobian products applied from the loss side, and the trace
shows shapes and the norm of the gradient after each step. Nothing is freed or changed:
`loss.backward()` still works afterwards.

The sum over paths is checked against the engine's own gradient and, when a closure `fn`
recomputing the loss is given, against central finite differences.
"""
from __future__ import annotations

import inspect
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy

from ..autograd import engine
from ..autograd.broadcast import sum_to
from ..autograd.grad_mode import no_grad
from ..backend import xp
from ..sparse import dense, dense_tensor
from ..tensor import Tensor

MAX_PATHS = 256
MAX_CHECKED_ELEMENTS = 256  # above this, the finite difference is taken along one direction


@dataclass
class Step:
    """One edge of a path: from an op's output back to one of its inputs."""

    op: str                 # the op's name, e.g. "Mul"
    expression: str         # what the op computed, e.g. "t2 = Mul(w, x)"
    output: str             # name of the op's output
    input: str              # name of the input this step goes back to
    input_index: int        # which input of the op that is
    output_shape: tuple
    input_shape: tuple
    local: float | None     # one-element tensors: d output / d input, a number
    gradient: object        # d loss / d input along this path so far (array, input's shape)
    input_named: bool = False  # the input carries a name the caller gave
    shared: bool = False       # the same tensor is several inputs of this op (x·x)


@dataclass
class Factor:
    """One factor of the printed chain, from one named tensor back to the next."""

    output: str
    input: str
    steps: list
    local: float | None     # product of the steps' local derivatives (one-element tensors)


@dataclass
class Path:
    """One route from the loss back to the parameter."""

    steps: list
    factors: list = field(default_factory=list)

    @property
    def value(self):
        """This path's share of the gradient (the parameter's shape)."""
        return self.steps[-1].gradient

    @property
    def scalar(self) -> bool:
        return all(s.local is not None for s in self.steps)


class Trace:
    """What `trace` found: `paths`, `gradient` (the engine's), `product` (the sum over paths
    of each path's chain-rule product), `numerical` (central finite differences, or None),
    `numerical_error` (largest |product - numerical|), `matches` (within tolerance, or None),
    `rules` (each op's derivative, from its source). `str()` is the explanation."""

    def __init__(self, loss_name, param_name, paths, gradient, product, numerical,
                 numerical_error, matches, check_note, rules):
        self.loss_name = loss_name
        self.param_name = param_name
        self.paths = paths
        self.gradient = gradient
        self.product = product
        self.numerical = numerical
        self.numerical_error = numerical_error
        self.matches = matches
        self.check_note = check_note
        self.rules = rules

    @property
    def scalar(self) -> bool:
        """Every tensor on every path holds one number: the chain is a product of numbers."""
        return all(p.scalar for p in self.paths)

    @property
    def agrees_with_engine(self) -> bool:
        scale = float(numpy.abs(self.gradient).max()) if self.gradient.size else 0.0
        return bool(numpy.allclose(self.product, self.gradient, rtol=1e-4, atol=1e-7 * scale))

    def formula(self, path: Path) -> str:
        """`dL/dw = dL/dy · dy/dw` for one path (its factors)."""
        return f"{self._dw} = " + " · ".join(f"d{f.output}/d{f.input}" for f in path.factors)

    def numbers(self, path: Path) -> str:
        """`(-0.42)(0.78)(1.5)`: the factors of one path as numbers (one-element tensors)."""
        return "".join(f"({_num(f.local)})" for f in path.factors)

    @property
    def _dw(self) -> str:
        return f"d{self.loss_name}/d{self.param_name}"

    def __str__(self) -> str:
        return "\n".join(_render(self))

    def __repr__(self) -> str:
        return (f"<Trace {self._dw}: {len(self.paths)} path(s), gradient shape "
                f"{tuple(self.gradient.shape)}>")


def trace(loss: Tensor, param: Tensor, fn=None, names=None, eps: float | None = None,
          max_paths: int = MAX_PATHS) -> Trace:
    """Explain d loss / d param by the chain rule: every path from `loss` back to `param`,
    each step's local derivative (from the node's own backward), and their sum.

    fn: a closure recomputing the loss from the current parameter values, for the finite
        difference check (`fn=lambda: loss_fn(model(x), y)`); without it, none is made.
    names: readable names, as a mapping {tensor: "w1"} (or {"w1": tensor}), a Module (its
        `named_parameters()`), or a list of those. Naming intermediate tensors groups the
        printed chain between them (dL/dh · dh/dw rather than one factor per op).
    eps: the finite-difference step (default 1e-6 in float64, 1e-3 in float32).
    """
    if not isinstance(loss, Tensor) or not isinstance(param, Tensor):
        raise TypeError("trace(loss, param): both must be tensors")
    if loss.array.size != 1:
        raise ValueError(f"trace: the loss must be a single number, got shape {tuple(loss.shape)} "
                         "(reduce it first, e.g. with .sum() or .mean())")
    if not param.requires_grad:
        raise ValueError("trace: the parameter does not require grad, so no gradient flows "
                         "to it (create it with requires_grad=True)")
    if loss.grad_fn is None:
        raise ValueError("trace: the loss was not computed by recorded ops (is it a leaf, "
                         "or was it built under no_grad?)")
    labels = _name_table(names)
    loss_name = labels.get(id(loss), "L")
    param_name = labels.get(id(param), "w")
    counts, order = _path_counts(loss.grad_fn, param)
    total = counts[loss.grad_fn]
    if total == 0:
        raise ValueError(f"trace: {param_name} does not influence {loss_name}: no path in the "
                         "graph leads from the loss back to it")
    if total > max_paths:
        raise ValueError(f"trace: {total} paths lead from {loss_name} back to {param_name}, "
                         f"more than max_paths={max_paths}; the engine adds them all in one "
                         "pass, but a listing would not help: trace a smaller piece")
    names_of = _Names(labels, _auto_names(order, counts, param, labels), loss, loss_name,
                      param, param_name)
    rules = {}
    with no_grad():
        paths = _walk(loss, param, counts, names_of, rules)
        engine_grad = dense_tensor(engine.grad(loss, param, retain_graph=True)[0])
    grouped = any(s.input_named for p in paths for s in p.steps[:-1])
    for path in paths:
        for step in path.steps:
            step.gradient = _host(step.gradient)
        path.factors = _factors(path.steps, grouped)
    product = paths[0].value.copy()
    for path in paths[1:]:
        product = product + path.value
    numerical = error = matches = None
    note = "not checked numerically (pass fn=, a closure recomputing the loss, to check)"
    if fn is not None:
        numerical, error, matches, note = _finite_difference_check(fn, param, product, eps)
    return Trace(loss_name, param_name, paths, engine_grad.numpy(), product, numerical,
                 error, matches, note, rules)


# --- the graph walk --------------------------------------------------------------------------
def _path_counts(root_node, param):
    """How many paths lead from each node back to `param` (0: none), and the nodes in an
    order where every node comes after the nodes that made its inputs (forward order)."""
    counts, order = {}, []
    stack = [(root_node, False)]
    while stack:
        node, expanded = stack.pop()
        if node in counts:
            continue
        if node.inputs is None or node.saved is None:
            raise RuntimeError("trace: " + engine.FREED)
        if expanded:
            counts[node] = sum(1 if t is param else counts.get(t.grad_fn, 0)
                               for t in node.inputs if t.requires_grad)
            order.append(node)
            continue
        stack.append((node, True))
        for t in reversed(node.inputs):  # input 0 finishes first: numbering follows the code
            if t is not param and t.grad_fn is not None and t.grad_fn not in counts:
                stack.append((t.grad_fn, False))
    return counts, order


def _leads_back(t, param, counts) -> bool:
    return t is param or (t.requires_grad and counts.get(t.grad_fn, 0) > 0)


def _walk(loss, param, counts, names_of, rules) -> list:
    """Every path from the loss to `param`, depth first. Each step's gradient is the node's
    own backward applied to the gradient that arrived along that path."""
    paths = []
    ones = {}  # node -> its backward of 1 (the local derivatives), for one-element outputs
    # A path so far is a linked trail (step, trail before it): no copying per step.
    stack = [(loss.grad_fn, loss, xp(loss.array).ones_like(loss.array), None)]
    while stack:
        node, out, grad, trail = stack.pop()
        if node.name not in rules:
            rules[node.name] = _rule(type(node))
        grads = engine.node_backward(node, grad)
        expression = f"{node.name}({', '.join(map(names_of, node.inputs))})"
        deeper = []
        for i, t in enumerate(node.inputs):
            if not _leads_back(t, param, counts):
                continue
            local = None
            if out.array.size == 1 and t.array.size == 1:
                if node not in ones:
                    ones[node] = engine.node_backward(node, xp(out.array).ones_like(out.array))
                local = float(_fit(ones[node][i], t).reshape(()))
            step = Step(node.name, expression, names_of(out), names_of(t), i, tuple(out.shape),
                        tuple(t.shape), local, _fit(grads[i], t), names_of.given(t),
                        sum(u is t for u in node.inputs) > 1)
            if t is param:
                paths.append(Path(_unroll((step, trail))))
            else:
                deeper.append((t.grad_fn, t, step.gradient, (step, trail)))
        stack.extend(reversed(deeper))  # so that paths come out in input order
    return paths


def _unroll(trail) -> list:
    steps = []
    while trail is not None:
        step, trail = trail
        steps.append(step)
    return steps[::-1]


def _fit(g, t):
    """A gradient in the input's shape: None is zero; broadcast dims summed (engine's sum_to);
    a row-sparse one (Embedding(sparse=True)) spread out."""
    if g is None:
        return xp(t.array).zeros_like(t.array)
    g = dense(g)
    return g if g.shape == t.array.shape else sum_to(g, t.array.shape)


def _factors(steps: list, grouped: bool) -> list:
    """The printed chain: one factor per step, or, when the caller named intermediate
    tensors, one factor between consecutive named tensors."""
    factors, group = [], []
    for k, step in enumerate(steps):
        group.append(step)
        if not grouped or step.input_named or k == len(steps) - 1:
            local = None
            if all(s.local is not None for s in group):
                local = float(numpy.prod([s.local for s in group]))
            factors.append(Factor(group[0].output, step.input, group, local))
            group = []
    return factors


# --- names -----------------------------------------------------------------------------------
class _Names:
    """Labels for tensors: the caller's names, then t1, t2, … for intermediate results on the
    paths (in forward order), then values or shapes for constants."""

    def __init__(self, labels, auto, loss, loss_name, param, param_name):
        self.labels, self.auto = labels, auto
        self.loss, self.loss_name = loss, loss_name
        self.param, self.param_name = param, param_name

    def __call__(self, t) -> str:
        if t is self.loss:
            return self.loss_name
        if t is self.param:
            return self.param_name
        label = self.labels.get(id(t)) or self.auto.get(id(t))
        if label:
            return label
        if t.grad_fn is not None:
            return f"{t.grad_fn.name.lower()}(…)"
        if t.array.size == 1 and t.dtype.kind in "fiub":
            return _num(float(t.array.reshape(())))
        return "[" + "×".join(map(str, t.shape)) + "]"

    def given(self, t) -> bool:
        return id(t) in self.labels


def _name_table(names) -> dict:
    table = {}

    def add(item):
        if item is None:
            return
        if hasattr(item, "named_parameters"):
            for name, p in item.named_parameters():
                table[id(p)] = name
        elif isinstance(item, Mapping):
            for key, value in item.items():
                if isinstance(key, Tensor):
                    table[id(key)] = str(value)
                elif isinstance(value, Tensor):
                    table[id(value)] = str(key)
                else:
                    raise TypeError("trace: names maps tensors to names ({w: 'w'} or "
                                    f"{{'w': w}}), got {type(key).__name__} → "
                                    f"{type(value).__name__}")
        elif isinstance(item, (list, tuple)):
            for part in item:
                add(part)
        else:
            raise TypeError(f"trace: names should be a mapping, a Module or a list of them, "
                            f"got {type(item).__name__}")
    add(names)
    return table


def _auto_names(order, counts, param, labels) -> dict:
    made_by = {}  # node -> the tensor it made, for intermediate results on some path
    for node in order:
        for t in node.inputs:
            if t is not param and counts.get(t.grad_fn, 0) > 0:
                made_by[t.grad_fn] = t
    auto = {}
    for node in order:
        t = made_by.get(node)
        if t is not None and id(t) not in labels:
            auto[id(t)] = f"t{len(auto) + 1}"
    return auto


def _rule(node_class) -> str:
    """The op's derivative as its source states it: the comment heading the class
    (`# y = tanh x;  dy/dx = 1 - y²`), else the first docstring line."""
    cls = getattr(node_class, "function", None) or node_class  # autograd.Function adapters
    try:
        lines = inspect.getsource(cls).splitlines()[1:8]
    except (OSError, TypeError):
        lines = []
    for line in lines:
        text = line.strip()
        if text.startswith("#"):
            return text.lstrip("# ").strip()
        if text.startswith(("def ", "@")):
            break
    doc = inspect.getdoc(cls) or ""
    return doc.splitlines()[0] if doc else ""


# --- the numerical check -----------------------------------------------------------------------
def _finite_difference_check(fn, param, product, eps):
    data = param.array
    double = data.dtype == numpy.float64
    if eps is None:
        eps = 1e-6 if double else 1e-3
    atol, rtol = (1e-6, 1e-4) if double else (2e-3, 2e-2)
    with no_grad():
        if data.size <= MAX_CHECKED_ELEMENTS:
            numerical = numpy.zeros(data.shape)
            for index in numpy.ndindex(*data.shape):
                numerical[index] = _central_difference(fn, data, index, eps)
            difference = numpy.abs(product - numerical)
            matches = bool((difference <= atol + rtol * numpy.abs(numerical)).all())
            note = f"central finite difference, ε = {eps:g}"
            return numerical, float(difference.max()), matches, note
        direction = numpy.random.default_rng(0).standard_normal(data.shape)
        original = data.copy()
        try:
            data[...] = original + eps * xp(data).asarray(direction, dtype=data.dtype)
            above = _loss_value(fn())
            data[...] = original - eps * xp(data).asarray(direction, dtype=data.dtype)
            below = _loss_value(fn())
        finally:
            data[...] = original
    numeric = (above - below) / (2 * eps)
    analytic = float((product * direction).sum())
    error = abs(analytic - numeric)
    matches = error <= atol * numpy.sqrt(data.size) + rtol * abs(numeric)
    note = (f"central finite difference along one random direction ({data.size} elements are "
            f"too many to perturb one by one), ε = {eps:g}")
    return None, float(error), bool(matches), note


def _central_difference(fn, data, index, eps) -> float:
    original = data[index].copy()
    try:
        data[index] = original + eps
        x_above = float(data[index])
        above = _loss_value(fn())
        data[index] = original - eps
        x_below = float(data[index])
        below = _loss_value(fn())
    finally:
        data[index] = original
    return (above - below) / (x_above - x_below)  # the step really taken, after rounding


def _loss_value(value) -> float:
    if isinstance(value, Tensor):
        if value.array.size != 1:
            raise ValueError(f"trace: fn() must return the loss (one number), got shape "
                             f"{tuple(value.shape)}")
        return float(value.item())
    return float(value)


def _host(a):
    return numpy.asarray(a.get() if hasattr(a, "get") else a, dtype=None)


# --- the printout ------------------------------------------------------------------------------
def _scalar(a) -> float:
    return float(numpy.asarray(a).reshape(()))


def _num(x: float) -> str:
    text = f"{x:.4g}"
    return "0" if text == "-0" else text


def _shape(shape) -> str:
    return "(" + ", ".join(map(str, shape)) + (",)" if len(shape) == 1 else ")")


def _render(tr: Trace) -> list:
    n = len(tr.paths)
    lines = [(f"{tr._dw} by the chain rule: {n} path{'s' if n > 1 else ''} from "
             f"{tr.loss_name} back to {tr.param_name}")]
    for k, path in enumerate(tr.paths, 1):
        lines.append("")
        if n > 1:
            lines.append(f"path {k} of {n}")
        lines += _render_steps(tr, path)
        lines += _render_product(tr, path)
    lines.append("")
    if n > 1 and tr.scalar:
        shares = " + ".join(f"({_num(_scalar(p.value))})" for p in tr.paths)
        lines.append(f"  sum over the {n} paths: {tr._dw} = {shares} = {_num(_scalar(tr.product))}")
    elif n > 1:
        lines.append(f"  sum over the {n} paths: shape {_shape(tr.product.shape)}, norm "
                     f"{_num(float(numpy.linalg.norm(tr.product)))}")
    mark = "✓" if tr.agrees_with_engine else "✗"
    difference = float(numpy.abs(tr.product - tr.gradient).max()) if tr.gradient.size else 0.0
    engine_value = (_num(_scalar(tr.gradient)) if tr.gradient.size == 1 else
                    f"norm {_num(float(numpy.linalg.norm(tr.gradient)))}")
    lines.append(f"  engine's backward:  {engine_value:<12} {mark} "
                 f"{'the same' if tr.agrees_with_engine else 'DIFFERENT'} "
                 f"(largest difference {difference:.2g})")
    if tr.matches is None:
        lines.append(f"  finite difference:  {tr.check_note}")
    else:
        value = ("along a direction" if tr.numerical is None else
                 _num(_scalar(tr.numerical)) if tr.numerical.size == 1 else
                 f"norm {_num(float(numpy.linalg.norm(tr.numerical)))}")
        verdict = ("✓ matches finite difference" if tr.matches else
                   "✗ does NOT match the finite difference:")
        lines.append(f"  finite difference:  {value:<12} {verdict} {tr.numerical_error:.2g} "
                     f"away ({tr.check_note})")
    lines.append("")
    lines.append("  local derivatives used (as each op's source states them):")
    width = max(map(len, tr.rules))
    lines += [f"    {op:<{width}}  {rule}" for op, rule in tr.rules.items()]
    return lines


def _render_steps(tr: Trace, path: Path) -> list:
    """One line per step: what the op computed, then its local derivative (numbers) or the
    shapes and the norm of the gradient that reaches its input (tensors)."""
    name_width = max(len(s.output) for s in path.steps)
    expressions = [f"{s.output:>{name_width}} = {s.expression}" for s in path.steps]
    width = max(map(len, expressions))
    notes = [f"   (through input {s.input_index} of {s.op})" if s.shared else ""
             for s in path.steps]
    lines = []
    if path.scalar:
        parts = [f"d{s.output}/d{s.input}" for s in path.steps]
        part_width = max(map(len, parts))
        for k, (s, expression, part, note) in enumerate(zip(path.steps, expressions, parts,
                                                            notes), 1):
            lines.append(f"  {k:>3}  {expression:<{width}}   {part:<{part_width}} = "
                         f"{_num(s.local)}{note}")
        return lines
    shapes = [f"{_shape(s.output_shape)} ← {_shape(s.input_shape)}" for s in path.steps]
    shape_width = max(map(len, shapes))
    for k, (s, expression, shape, note) in enumerate(zip(path.steps, expressions, shapes,
                                                         notes), 1):
        norm = float(numpy.linalg.norm(s.gradient))
        lines.append(f"  {k:>3}  {expression:<{width}}   {shape:>{shape_width}}   "
                     f"‖d{tr.loss_name}/d{s.input}‖ = {_num(norm)}{note}")
    return lines


def _render_product(tr: Trace, path: Path) -> list:
    formula = tr.formula(path)
    indent = " " * (len(tr._dw) + 1)
    if path.scalar:
        return [f"  {formula}", f"  {indent}= {tr.numbers(path)}",
                f"  {indent}= {_num(_scalar(path.value))}"]
    return [f"  {formula}",
            f"  {indent}(vector-Jacobian products, applied from the left)",
            (f"  this path's share: shape {_shape(path.value.shape)}, norm "
            f"{_num(float(numpy.linalg.norm(path.value)))}")]
