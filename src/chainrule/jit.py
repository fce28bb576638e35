"""`chainrule.jit`: PyTorch's TorchScript decorators, as `torch.compile` is here: chainrule
runs Python as written, so `@torch.jit.script`, `torch.jit.trace(model, example)` and the
marker decorators return what they are given. Saving or loading a TorchScript archive has
nothing to stand on and says so in one line."""
from __future__ import annotations


def script(obj=None, *args, **options):
    """The function or module unchanged."""
    return obj


def trace(func, example_inputs=None, *args, **options):
    """The function or module unchanged (chainrule records graphs as it runs)."""
    return func


def _unchanged(fn):
    return fn


ignore = unused = export = _unchanged


def is_scripting() -> bool:
    return False


def is_tracing() -> bool:
    return False


def save(module, f, *args, **options):
    raise RuntimeError("torch.jit.save: chainrule has no TorchScript archives; save "
                       "module.state_dict() with torch.save instead")


def load(f, *args, **options):
    raise RuntimeError("torch.jit.load: chainrule cannot read TorchScript archives; load a "
                       "state_dict with torch.load and model.load_state_dict")
