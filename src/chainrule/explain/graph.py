"""Drawing the computation graph: the ops the forward pass recorded, as Graphviz.

    loss = F.cross_entropy(model(x), y)
    cr.explain.draw(loss, modules=model, path="graph.svg")

Ops are boxes (name and output shape), leaves are ellipses (parameters named from
`modules=model` or `names={tensor: "w"}`; other leaves are inputs), and each edge carries a
tensor from the op (or leaf) that made it to the op that reads it. With `grads=True` each
edge is labelled with the norm of the gradient of the loss with respect to the tensor it
carries, ‖∂L/∂t‖, computed by the engine itself (`autograd.grad` with `retain_graph`), so
the picture shows exactly what backpropagation sends backwards along that edge (a tensor
read by several ops shows its total gradient on each of its edges).

Large models collapse into modules: with `modules=model`, the ops made inside one
sub-module's forward become one node (or one cluster, `collapse=False`). Which ops belong
to which module is known exactly when the forward ran inside `with watch(model):` (a
temporary wrapper around each sub-module's forward, removed on exit); otherwise it is
inferred from the parameters each op reads, which places every op that uses a weight but
leaves parameter-free ops (ReLU, pooling) as plain ops.

The DOT text is always returned; `dot` (Graphviz) turns it into SVG or PNG when installed.
"""
from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import warnings
import weakref

import numpy

from .. import backend
from ..autograd import engine
from ..sparse import dense_tensor
from ..tensor import Tensor

INSTALL_HINT = "apt-get install graphviz (or run scripts/install_system.sh)"
MAX_SHOWN_VALUES = 4  # constants with at most this many elements are drawn with their values
FORMATS = ("svg", "png", "dot")
FREED = ("draw: this graph was freed by backward(); draw before calling backward, or call "
         "backward(retain_graph=True)")

# op → dotted path of the innermost module whose forward made it, and the model watched
_MEMBERSHIP: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
# id(tensor) → (weak reference, id(model)) for the tensors a watched model was called with
_INPUTS: dict = {}

COLORS = {"op": "#dbe9f6", "root": "#f6d5c8", "param": "#fdf1c7", "input": "#eeeeee",
          "module": "#d9efd5", "edge": "#555555", "grad": "#b03a2e"}


class Graph(str):
    """The DOT text of a drawing; shows itself as SVG in Jupyter when `dot` is installed."""

    def _repr_svg_(self):
        svg = render(self, "svg")
        return svg.decode("utf-8") if svg is not None else None


# --- knowing which module made which op ----------------------------------------------------
@contextlib.contextmanager
def watch(model):
    """Remember, for every op made inside it, which of `model`'s sub-modules made it.

    Each sub-module's `forward` is wrapped for the duration of the block only: after the
    forward returns, the ops between its inputs and its outputs are recorded as its own
    (innermost module first). The graph and the engine are not touched.
    """
    saved = []
    for path, module in model.named_modules():
        had_own = "forward" in module.__dict__
        saved.append((module, had_own, module.__dict__.get("forward")))
        wrapper = _recording(module.forward, model, path) if path else \
            _remembering_inputs(module.forward, model)
        object.__setattr__(module, "forward", wrapper)
    try:
        yield model
    finally:
        for module, had_own, original in saved:
            if had_own:
                object.__setattr__(module, "forward", original)
            else:
                object.__delattr__(module, "forward")


def _recording(forward, model, path):
    def recorded(*args, **kwargs):
        out = forward(*args, **kwargs)
        stop = {t.grad_fn for t in _tensors((args, kwargs)) if t.grad_fn is not None}
        stack = [t.grad_fn for t in _tensors(out) if t.grad_fn is not None]
        seen = set()
        while stack:
            node = stack.pop()
            if node in seen or node in stop or node.inputs is None:
                continue
            seen.add(node)
            if node not in _MEMBERSHIP:  # an inner module claimed it first
                _MEMBERSHIP[node] = (id(model), path)
            stack.extend(t.grad_fn for t in node.inputs if t.grad_fn is not None)
        return out
    return recorded


def _remembering_inputs(forward, model):
    def remembered(*args, **kwargs):
        for t in _tensors((args, kwargs)):
            key = id(t)
            _INPUTS[key] = (weakref.ref(t, lambda _, key=key: _INPUTS.pop(key, None)), id(model))
        return forward(*args, **kwargs)
    return remembered


def _is_input(t, model) -> bool:
    entry = _INPUTS.get(id(t))
    return entry is not None and entry[0]() is t and entry[1] == id(model)


def _tensors(value):
    if isinstance(value, Tensor):
        yield value
    elif isinstance(value, (tuple, list)):
        for item in value:
            yield from _tensors(item)
    elif isinstance(value, dict):
        for item in value.values():
            yield from _tensors(item)


# --- walking the graph ---------------------------------------------------------------------
def walk(tensor: Tensor):
    """Every op behind `tensor`, inputs before the ops that read them, and its leaves."""
    if tensor.grad_fn is None:
        return [], [tensor]
    order, leaves, seen_leaves = [], [], set()
    state = {}  # node → False while its inputs are being visited, True once placed
    stack = [tensor.grad_fn]
    while stack:
        node = stack[-1]
        if node.inputs is None:
            raise RuntimeError(FREED)
        if node in state:
            stack.pop()
            if not state[node]:
                state[node] = True
                order.append(node)
            continue
        state[node] = False
        stack.extend(t.grad_fn for t in reversed(node.inputs)
                     if t.grad_fn is not None and t.grad_fn not in state)
    for node in order:  # leaves in the order the forward pass read them
        for t in node.inputs:
            if t.grad_fn is None and id(t) not in seen_leaves:
                seen_leaves.add(id(t))
                leaves.append(t)
    return order, leaves


def gradient_norms(tensor: Tensor, ops, leaves) -> dict:
    """‖∂tensor/∂t‖ for each op's output and each leaf that wants a gradient, keyed by the
    op or by id(leaf), from one engine pass that keeps the graph (`retain_graph=True`)."""
    outputs = {}  # op → a tensor it made, as found among the inputs of the ops reading it
    for node in ops:
        for t in node.inputs:
            if t.grad_fn is not None:
                outputs.setdefault(t.grad_fn, t)
    wanted, keys = [], []
    for node, out in outputs.items():
        wanted.append(out)
        keys.append(node)
    for leaf in leaves:
        if leaf.requires_grad:
            wanted.append(leaf)
            keys.append(id(leaf))
    if not wanted or not tensor.requires_grad:
        return {}
    seed = None
    if tensor.array.size != 1:  # a non-scalar output: the gradient of its sum
        seed = Tensor._wrap(backend.xp(tensor.array).ones_like(tensor.array))
    grads = engine.grad(tensor, wanted, grad_outputs=seed, retain_graph=True, allow_unused=True)
    norms = {}
    for key, g in zip(keys, grads):
        if g is not None:
            norms[key] = float(numpy.linalg.norm(backend.to_device(dense_tensor(g).array, "cpu")))
    return norms


# --- drawing -------------------------------------------------------------------------------
def draw(tensor: Tensor, grads: bool = False, modules=None, names: dict | None = None,
         path: str | None = None, format: str | None = None, collapse: bool = True,
         depth: int | None = None, rankdir: str = "TB") -> Graph:
    """The computation graph behind `tensor` as DOT text (and a file, when `path` is given).

    grads: label edges with ‖∂tensor/∂t‖ (the graph must not be freed: draw before
        backward, or after backward(retain_graph=True)). For a non-scalar tensor the
        gradients are those of its sum.
    modules: a Module whose parameter names label the leaves; its sub-modules group ops.
    names: {tensor: name} for leaves (or any tensor the graph contains as a leaf).
    collapse: with `modules`, one node per sub-module (True) or a cluster of its ops (False).
    depth: group by modules this many levels below `modules` (None: the innermost).
    format: "svg", "png" or "dot" — what `path` receives (default: as its suffix says,
        "g.png" gives PNG; SVG for other suffixes). Without Graphviz the DOT text is
        written instead (to path with a .dot suffix) and a warning says how to install it.

    Collapsed modules are numbered #1, #2, ... in the order the forward pass ran them, with
    their path in the model in brackets ([4] owns 4.weight). A module that records no op of
    its own (Dropout in eval mode, Flatten of an input that needs no gradient) has no box:
    its work is drawn inside its neighbours.
    """
    if format is None:
        suffix = os.path.splitext(path or "")[1].lower().lstrip(".")
        format = suffix if suffix in FORMATS else "svg"
    if format not in FORMATS:
        raise ValueError(f"draw: format must be 'svg', 'png' or 'dot', not {format!r}")
    ops, leaves = walk(tensor)
    labels = {}
    owner = {}  # id(parameter) → dotted path of the module that owns it
    if modules is not None:
        for name, p in modules.named_parameters():
            labels[id(p)] = name
            owner[id(p)] = name.rpartition(".")[0]
    for t, name in (names or {}).items():
        labels[id(t)] = name
    norms = gradient_norms(tensor, ops, leaves) if grads else {}
    # With a watched forward, leaves that are neither parameters nor what the model was
    # called with are constants made along the way (dropout masks, zero states).
    constants = {}
    if modules is not None and any(_MEMBERSHIP.get(n, (None,))[0] == id(modules) for n in ops):
        constants = {id(t): True for t in leaves if id(t) not in owner
                     and not t.requires_grad and not _is_input(t, modules)}
    for key in constants:
        labels.setdefault(key, "constant")
    groups = _groups(ops, leaves, modules, owner, depth, constants) if modules is not None else {}
    dot = _Dot(rankdir)
    if grads:
        dot.lines.append('  graph [label="edge labels: ‖∂out/∂t‖, the size of the gradient '
                         'that flows back along the edge", labelloc=b, fontsize=9, '
                         'fontcolor="#b03a2e"];')
    _emit(dot, tensor, ops, leaves, labels, norms, groups, modules, collapse, constants)
    text = Graph(dot.text())
    if path is not None:
        _write(text, path, format)
    return text


def _groups(ops, leaves, model, owner, depth, constants) -> dict:
    """op or id(leaf) → the module path it is drawn inside (ops outside any sub-module and
    inputs are left out)."""
    def cut(path):
        if depth is None or not path:
            return path
        return ".".join(path.split(".")[:depth])

    groups = {}
    for node in ops:
        recorded = _MEMBERSHIP.get(node)
        if recorded is not None and recorded[0] == id(model):
            path = recorded[1]
        else:  # not watched: the module owning a parameter this op reads
            path = next((owner[id(t)] for t in node.inputs if id(t) in owner), "")
        if cut(path):
            groups[node] = cut(path)
    for leaf in leaves:
        if owner.get(id(leaf)):
            groups[id(leaf)] = cut(owner[id(leaf)])
        elif constants.get(id(leaf)):  # a mask or a zero state made inside one module
            readers = {groups.get(n) for n in ops if any(t is leaf for t in n.inputs)}
            if len(readers) == 1 and None not in readers:
                groups[id(leaf)] = readers.pop()
    return groups


def _emit(dot, tensor, ops, leaves, labels, norms, groups, model, collapse,
          constants) -> None:
    members = {}  # group path → [node ids drawn inside its cluster]
    group_of = {}  # op or id(leaf) → the DOT id that stands for it
    modules = dict(model.named_modules()) if model is not None else {}
    titles = _titles(groups, modules)

    def place(key, node_id):
        group_of[key] = node_id
        if key in groups:
            members.setdefault(groups[key], []).append(node_id)

    # leaves
    for k, leaf in enumerate(leaves):
        key = id(leaf)
        if collapse and key in groups:
            group_of[key] = _module_id(groups[key])
            continue
        node_id = f"leaf{k}"
        small = not leaf.requires_grad and leaf.numel() <= MAX_SHOWN_VALUES
        name = labels.get(key) or ("parameter" if leaf.requires_grad
                                   else "constant" if small and leaf.numel() == 1 else "input")
        kind = "param" if leaf.requires_grad else "input"
        text = f"{name}\n{_shape(leaf.shape)}"
        if small:  # a constant's value (2.0 in w * 2.0) says more than its shape
            text += "\n= " + _values(leaf)
        dot.node(node_id, text, shape="ellipse", fillcolor=COLORS[kind])
        place(key, node_id)
    # ops
    for k, node in enumerate(ops):
        if collapse and node in groups:
            group_of[node] = _module_id(groups[node])
            continue
        node_id = f"op{k}"
        text = f"{node.name}\n{_shape(_out_shape(node))}"
        root = node is tensor.grad_fn
        if root and tensor.array.size == 1:
            text += f"\n= {_num(float(backend.to_device(tensor.array, 'cpu')))}"
        dot.node(node_id, text, shape="box", style="rounded,filled",
                 fillcolor=COLORS["root" if root else "op"], penwidth="2" if root else "1")
        place(node, node_id)
    # collapsed modules: one node each, with its output shape and its parameters
    if collapse:
        readers = {}  # op → the ops that read its output
        for node in ops:
            for t in node.inputs:
                if t.grad_fn is not None:
                    readers.setdefault(t.grad_fn, []).append(node)
        for path, title in titles.items():
            outputs = [n for n in ops
                       if groups.get(n) == path and _read_outside(n, readers, groups)]
            lines = [title]
            if outputs:
                lines.append(_shape(_out_shape(outputs[-1])))
            for t in leaves:
                if groups.get(id(t)) == path and id(t) not in constants:
                    line = f"{_relative(labels.get(id(t), ''), path)} {_shape(t.shape)}"
                    if id(t) in norms:
                        line += f"  ‖grad‖ {_num(norms[id(t)])}"
                    lines.append(line)
            dot.node(_module_id(path), "\n".join(lines), shape="box3d", style="filled",
                     fillcolor=COLORS["module"], margin="0.25,0.08")
    else:
        for path, node_ids in members.items():
            dot.cluster(_module_id(path), titles[path], node_ids)
    # edges: the tensor an op reads comes from the op (or leaf) that made it
    drawn = set()
    for node in ops:
        target = group_of[node]
        for t in node.inputs:
            source_key = t.grad_fn if t.grad_fn is not None else id(t)
            source = group_of[source_key]
            if source == target or (source, target, source_key) in drawn:
                continue
            drawn.add((source, target, source_key))
            norm = norms.get(source_key)
            if norm is None:
                dot.edge(source, target)
            else:
                dot.edge(source, target, label=_num(norm), fontcolor=COLORS["grad"])


def _titles(groups: dict, modules: dict) -> dict:
    """module path → "#3 Linear [4]": numbered in the order the forward pass ran them, with
    the path in the model that names their parameters (4.weight)."""
    titles = {}
    for number, path in enumerate(_ordered(groups.values()), start=1):
        module = modules.get(path)
        kind = type(module).__name__ if module is not None else "module"
        titles[path] = f"#{number} {kind} [{path}]"
    return titles


def _relative(name: str, path: str) -> str:
    """A parameter's name inside the module drawn as `path` ("0.weight" in "head")."""
    return name[len(path) + 1:] if name.startswith(path + ".") else name


def _read_outside(node, readers, groups) -> bool:
    """Whether `node`'s output is read outside its group (or is the final output)."""
    read_by = readers.get(node, ())
    return not read_by or any(groups.get(n) != groups[node] for n in read_by)


def _ordered(values):
    seen = []
    for v in values:
        if v not in seen:
            seen.append(v)
    return seen


def _module_id(path: str) -> str:
    return "mod_" + "".join(c if c.isalnum() else "_" for c in path)


def _out_shape(node):
    return node.out.shape if node.out is not None else ()


def _shape(shape) -> str:
    if len(shape) == 0:
        return "scalar"
    if len(shape) == 1:
        return f"({int(shape[0])},)"
    return "(" + ", ".join(str(int(s)) for s in shape) + ")"


def _num(x: float) -> str:
    return f"{x:.3g}"


def _values(t: Tensor) -> str:
    values = numpy.ravel(backend.to_device(t.array, "cpu"))
    text = ", ".join(_num(float(v)) for v in values)
    return text if t.ndim == 0 else f"[{text}]"


class _Dot:
    """A tiny DOT writer: quoted labels, one statement a line."""

    def __init__(self, rankdir: str):
        self.lines = [
            "digraph chainrule {",
            (f'  graph [rankdir={rankdir}, nodesep=0.3, ranksep=0.35, '
             'fontname="Helvetica", fontsize=11];'),
            '  node [fontname="Helvetica", fontsize=10, style=filled, margin="0.12,0.05"];',
            (f'  edge [fontname="Helvetica", fontsize=9, color="{COLORS["edge"]}", '
             'arrowsize=0.7];'),
        ]

    def node(self, node_id: str, label: str, **attrs) -> None:
        self.lines.append(f"  {node_id} [{_attrs(label=label, **attrs)}];")

    def edge(self, source: str, target: str, **attrs) -> None:
        extra = f" [{_attrs(**attrs)}]" if attrs else ""
        self.lines.append(f"  {source} -> {target}{extra};")

    def cluster(self, cluster_id: str, label: str, node_ids) -> None:
        self.lines.append(f"  subgraph cluster_{cluster_id} {{")
        self.lines.append(f'    label="{_quote(label)}"; style="rounded,filled"; '
                          'color="#9fc89a"; fillcolor="#f1f8ef";')
        self.lines.append("    " + "; ".join(node_ids) + ";")
        self.lines.append("  }")

    def text(self) -> str:
        return "\n".join(self.lines + ["}"]) + "\n"


def _attrs(**attrs) -> str:
    return ", ".join(f'{k}="{_quote(str(v))}"' for k, v in attrs.items())


def _quote(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


# --- rendering -----------------------------------------------------------------------------
def have_dot() -> bool:
    return shutil.which("dot") is not None


def render(dot_text: str, format: str = "svg") -> bytes | None:
    """DOT text rendered by Graphviz's `dot` (SVG or PNG bytes), or None without Graphviz."""
    exe = shutil.which("dot")
    if exe is None:
        return None
    args = [exe, f"-T{format}"] + (["-Gdpi=110"] if format == "png" else [])
    done = subprocess.run(args, input=dot_text.encode("utf-8"), capture_output=True,
                          timeout=120, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"dot failed: {done.stderr.decode(errors='replace').strip()}")
    return done.stdout


def _write(text: str, path: str, format: str) -> None:
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    if format == "dot":
        with open(path, "w", encoding="utf-8") as handle:
            handle.write(text)
        return
    data = render(text, format)
    if data is None:
        dot_path = os.path.splitext(path)[0] + ".dot"
        with open(dot_path, "w", encoding="utf-8") as handle:
            handle.write(text)
        warnings.warn(f"draw: Graphviz `dot` is not installed, wrote the DOT text to "
                      f"{dot_path} instead ({INSTALL_HINT})", stacklevel=3)
        return
    with open(path, "wb") as handle:
        handle.write(data)
