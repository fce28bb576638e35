"""`chainrule.jit`: PyTorch's TorchScript decorators, as `torch.compile` is here: chainrule
runs Python as written, so `@torch.jit.script`, `torch.jit.trace(model, example)` and the
marker decorators return what they are given.

Saving "TorchScript" (`torch.jit.save(m, f)`, `torch.jit.script(m).save(f)`) writes the
module whole in chainrule's own checkpoint format, and `torch.jit.load(f)` reads it back
(see Note [whole objects] in chainrule/serialize.py; chainrule.io registers the two
functions here, from above). A TorchScript archive written by PyTorch holds compiled code,
which chainrule cannot run: loading one is a one-line error.
"""
from __future__ import annotations

_archive = {}  # "save", "load": set by chainrule.io (whole modules in checkpoints)


class _Saver:
    """A scripted module's `.save(f)`: the module, saved whole."""

    def __init__(self, module):
        self.module = module

    def __call__(self, f, **options) -> None:
        save(self.module, f, **options)


def script(obj=None, *args, **options):
    """The function or module unchanged; a module gains `.save(f)`, as a ScriptModule has."""
    if hasattr(obj, "state_dict") and not hasattr(obj, "save"):
        obj.save = _Saver(obj)
    return obj


def trace(func, example_inputs=None, *args, **options):
    """The function or module unchanged (chainrule records graphs as it runs); a module
    gains `.save(f)`."""
    return script(func)


def _unchanged(fn):
    return fn


ignore = unused = export = _unchanged


def is_scripting() -> bool:
    return False


def is_tracing() -> bool:
    return False


def save(m, f, _extra_files=None) -> None:
    """The module whole, in chainrule's checkpoint format (not a TorchScript archive)."""
    _archive["save"](m, f)


def load(f, map_location=None, _extra_files=None):
    """A module saved by `save` (or `torch.save(model)`) under chainrule."""
    return _archive["load"](f, map_location=map_location)
