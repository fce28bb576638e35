"""A model's summary, as Keras' `model.summary()` or torchinfo print it: one row per layer
with the shape it outputs for a sample batch and how many parameters it holds.

    layer                  type       output shape       parameters
    1                      Linear     (N, 256)               16,640
    ...
    total                                                    52,138  (52,138 trainable)
"""
from __future__ import annotations

from ..autograd.grad_mode import no_grad
from ..composites.functions import cat
from ..tensor import Tensor


def layer_rows(model, sample) -> list[tuple[str, str, str, int]]:
    """(path, type, output shape, own parameter count) for every module that has no
    sub-modules or holds parameters of its own, in the order the forward pass calls them.
    `sample` is one batch of model inputs (a Tensor). The model runs on it and on it twice
    over: the dimensions that grow with the batch are shown as N, wherever they are (a
    GRU's hidden state is (layers, N, hidden))."""
    own = {}
    for name, p in model.named_parameters():
        owner = name.rpartition(".")[0]
        own[owner] = own.get(owner, 0) + p.numel()
    modules = dict(model.named_modules())
    shown = [path for path, m in modules.items()
             if path and (not any(True for _ in m.children()) or own.get(path))]
    single = _output_shapes(model, modules, shown, sample)
    double = _output_shapes(model, modules, shown, cat([sample, sample]))
    order = list(single) + [path for path in shown if path not in single]
    return [(path, type(modules[path]).__name__,
             _shape_text(single[path], double.get(path)) if path in single else "(not called)",
             own.get(path, 0)) for path in order]


def _output_shapes(model, modules, shown, sample) -> dict:
    """path → the shapes of what the module returned, in call order (one forward pass with
    each shown module's forward wrapped, unwrapped afterwards)."""
    shapes = {}
    originals = []
    for path in shown:
        module = modules[path]
        originals.append((module, "forward" in module.__dict__, module.__dict__.get("forward")))
        object.__setattr__(module, "forward", _recording(module.forward, path, shapes))
    was_training = model.training
    model.eval()
    try:
        with no_grad():
            model(sample)
    finally:
        model.train(was_training)
        for module, had_own, original in originals:
            if had_own:
                object.__setattr__(module, "forward", original)
            else:
                object.__delattr__(module, "forward")
    return shapes


def _recording(forward, path, shapes):
    def recorded(*args, **kwargs):
        out = forward(*args, **kwargs)
        shapes.setdefault(path, _shapes(out))
        return out
    return recorded


def _shapes(value) -> list[tuple]:
    """The shapes of the tensors in a module's output (one, or a tuple's)."""
    if isinstance(value, Tensor):
        return [tuple(int(d) for d in value.shape)]
    if isinstance(value, (tuple, list)):
        return [shape for v in value for shape in _shapes(v)]
    return []


def _shape_text(shapes, doubled) -> str:
    """(N, 256) for a batch tensor: a dimension that doubled with the batch is N."""
    texts = []
    for k, shape in enumerate(shapes):
        other = doubled[k] if doubled and k < len(doubled) else shape
        dims = ["N" if b != a else str(a) for a, b in zip(shape, other)]
        texts.append("(" + ", ".join(dims) + ("," if len(dims) == 1 else "") + ")")
    return " ".join(texts) or "-"


def summary(model, sample, title: str | None = None) -> str:
    """The summary table as text (see the module docstring)."""
    rows = layer_rows(model, sample)
    total = sum(p.numel() for p in model.parameters())
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    name_width = max([len("layer")] + [len(r[0]) for r in rows])
    type_width = max([len("type")] + [len(r[1]) for r in rows])
    shape_width = max([len("output shape")] + [len(r[2]) for r in rows])
    line = f"{{:<{name_width}}}  {{:<{type_width}}}  {{:<{shape_width}}}  {{:>12}}"
    lines = [title] if title else []
    lines.append(line.format("layer", "type", "output shape", "parameters"))
    lines += [line.format(path, kind, shape, f"{count:,}") for path, kind, shape, count in rows]
    lines.append(line.format("total", "", "", f"{total:,}") + f"  ({trainable:,} trainable)")
    return "\n".join(lines)
