"""A model's summary, as Keras' `model.summary()` or torchinfo print it: one row per layer
with the shape it outputs for a sample batch and how many parameters it holds.

    layer                  type       output shape       parameters
    1                      Linear     (N, 256)               16,640
    ...
    total                                                    52,138  (52,138 trainable)
"""
from __future__ import annotations

from ..autograd.grad_mode import no_grad
from ..tensor import Tensor


def layer_rows(model, sample) -> list[tuple[str, str, str, int]]:
    """(path, type, output shape, own parameter count) for every module that has no
    sub-modules or holds parameters of its own, in the order the forward pass calls them.
    `sample` is one batch of model inputs (a Tensor)."""
    own = {}
    for name, p in model.named_parameters():
        owner = name.rpartition(".")[0]
        own[owner] = own.get(owner, 0) + p.numel()
    modules = dict(model.named_modules())
    shown = [path for path, m in modules.items()
             if path and (not any(True for _ in m.children()) or own.get(path))]
    shapes = {}  # path → output shape text, in call order
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
    order = list(shapes) + [path for path in shown if path not in shapes]
    return [(path, type(modules[path]).__name__, shapes.get(path, "(not called)"),
             own.get(path, 0)) for path in order]


def _recording(forward, path, shapes):
    def recorded(*args, **kwargs):
        out = forward(*args, **kwargs)
        shapes.setdefault(path, _shape_text(out))
        return out
    return recorded


def _shape_text(value) -> str:
    """(N, 256) for a batch tensor; a tuple's tensors' shapes side by side."""
    if isinstance(value, Tensor):
        dims = ["N", *(str(int(d)) for d in value.shape[1:])] if value.ndim else []
        return "(" + ", ".join(dims) + ("," if len(dims) == 1 else "") + ")"
    if isinstance(value, (tuple, list)):
        return " ".join(_shape_text(v) for v in value if isinstance(v, (Tensor, tuple, list)))
    return type(value).__name__


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
