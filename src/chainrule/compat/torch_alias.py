"""An import hook that answers `import torch` (and every `torch.X.Y`) with chainrule.

While `torch_as_chainrule()` is active, a finder at the front of `sys.meta_path` maps
`torch` to `chainrule` and `torch.X.Y` to `chainrule.X.Y`: the module object a program
gets *is* chainrule's (no copy, no wrapper), so `torch.nn.Linear is chainrule.nn.Linear`.
A `torch` path chainrule does not have fails as Python's own ModuleNotFoundError would,
naming both paths; `torchvision`, `torchaudio` and `torchtext` are refused in one line
(chainrule provides `torch` only), unless the user's own path holds a module of that name
(a stand-in written for chainrule, as scripts/ports.py uses). On leaving, the aliases are
taken out of `sys.modules` and the finder is removed, so the real PyTorch can be imported
again afterwards.
"""
from __future__ import annotations

import contextlib
import importlib
import importlib.abc
import importlib.machinery
import importlib.util
import pathlib
import sys
import types

NOT_PROVIDED = ("torchvision", "torchaudio", "torchtext")


class TorchNotProvided(ModuleNotFoundError):
    """A PyTorch companion library (torchvision, ...) that chainrule does not stand in for."""


def chainrule_name(name: str) -> str:
    """`torch.nn.functional` -> `chainrule.nn.functional`."""
    return "chainrule" + name[len("torch"):]


def _provided_by_user(name: str) -> bool:
    """A module of that name on the user's own path (next to the script, PYTHONPATH), not
    the installed package built for the real PyTorch."""
    spec = importlib.machinery.PathFinder.find_spec(name)
    origin = (spec.origin or "") if spec is not None else ""
    return bool(origin) and "site-packages" not in origin and "dist-packages" not in origin


def _chainrule_module(name: str):
    """The module `name`, or a module object its parent package holds under that name
    (`chainrule.onnx` may be an attribute naming a module inside chainrule.io)."""
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as err:
        if err.name != name:
            raise
    parent, _, last = name.rpartition(".")
    found = getattr(importlib.import_module(parent), last, None)
    return found if isinstance(found, types.ModuleType) else None


class _TorchFinder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Finds `torch...` modules as chainrule's, and loads them by handing the module over."""

    def find_spec(self, name, path=None, target=None):
        top = name.split(".")[0]
        if name in NOT_PROVIDED and not _provided_by_user(name):
            raise TorchNotProvided(
                f"{top} is not provided: `chainrule run` maps torch to chainrule, not "
                f"{top}; load data with chainrule.data or chainrule.utils.data instead",
                name=name)
        if top != "torch":
            return None
        module = _chainrule_module(chainrule_name(name))
        if module is None:
            raise ModuleNotFoundError(f"No module named '{name}' (chainrule has no "
                                      f"'{chainrule_name(name)}')", name=name)
        spec = importlib.util.spec_from_loader(name, self, is_package=hasattr(module, "__path__"))
        spec.loader_state = (module, module.__spec__)
        return spec

    def create_module(self, spec):
        return spec.loader_state[0]

    def exec_module(self, module):
        # the import system stamped the alias's spec on chainrule's module: give it back
        module.__spec__ = module.__spec__.loader_state[1]


# A folder whose `torch` package turns itself into chainrule (spawned/torch/__init__.py):
# put on the path that multiprocessing hands the processes it spawns, so that they import
# chainrule for `torch` as their parent does.
SPAWNED = str(pathlib.Path(__file__).resolve().parent / "spawned")


def _alias_torch():
    """Map `torch` and `torch.X` to chainrule in this process; returns the finder."""
    import chainrule

    finder = _TorchFinder()
    sys.meta_path.insert(0, finder)
    sys.modules["torch"] = chainrule
    for name, module in list(sys.modules.items()):   # modules at paths that are not files,
        if name.startswith("chainrule."):             # e.g. chainrule.nn.utils.rnn
            sys.modules.setdefault("torch" + name[len("chainrule"):], module)
    return finder


def alias_torch_for_good() -> None:
    """`import torch` is chainrule for the rest of this process (a spawned child's)."""
    if not any(isinstance(finder, _TorchFinder) for finder in sys.meta_path):
        _alias_torch()


@contextlib.contextmanager
def torch_as_chainrule():
    """Within the block, `import torch...` imports chainrule (in this process, and in the
    processes multiprocessing spawns from it, through SPAWNED on their path)."""
    hidden = {name: sys.modules.pop(name) for name in list(sys.modules)
              if name == "torch" or name.startswith("torch.")}
    finder = _alias_torch()
    sys.path.insert(min(1, len(sys.path)), SPAWNED)  # after the script's own folder
    try:
        yield
    finally:
        sys.meta_path.remove(finder)
        if SPAWNED in sys.path:
            sys.path.remove(SPAWNED)
        for name in [n for n in sys.modules if n == "torch" or n.startswith("torch.")]:
            del sys.modules[name]
        sys.modules.update(hidden)
