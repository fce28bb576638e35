"""Whole models in checkpoints: `torch.save(model, f)`, and loading it back.

PyTorch pickles the model object; chainrule never pickles (see Note [whole objects] in
chainrule/serialize.py). These codecs reduce a module to its class's import path and its
attributes (`vars(module)`: parameters, buffers, submodules, settings), and rebuild it on
load as a bare instance of that class with those attributes, without calling `__init__`.
A Parameter is saved as its values and `requires_grad`, a Buffer as its values and
`persistent`, a function or class a module holds (`self.act = F.relu`) by its import path,
and other objects it holds (a hook object, a config dataclass) by their attributes, as a
module is. The same object reached twice (a weight in `_parameters` and in the instance
dict, tied weights) comes back as one object.

What can be rebuilt is limited to what does not run code from the file: classes and
functions are looked up in modules already imported (chainrule's own are imported when
needed), never in the standard library, builtins or NumPy; objects are made with
`object.__new__` (no `__new__` or `__init__` of theirs runs) and given their attributes
through their `__dict__` (no `__setattr__` runs).
"""
from __future__ import annotations

import importlib
import inspect
import sys

from .. import jit, serialize
from ..nn.module import Module
from ..nn.parameter import Buffer, Parameter
from ..serialize import LoadError
from ..tensor import Tensor


def _class_path(kind) -> str:
    """`module:QualName` of a class or function that can be found again by that name."""
    qualname = kind.__qualname__
    if "<locals>" in qualname or "<lambda>" in qualname:
        raise TypeError(f"{qualname} is defined inside a function, so loading could not "
                        "find it again; define it at module level")
    found = sys.modules.get(kind.__module__)
    for part in qualname.split("."):
        found = getattr(found, part, None)
    if found is not kind:
        raise TypeError(f"{qualname} is not found again under its name in "
                        f"{kind.__module__} (a class made at run time, as a parametrized "
                        "module's is): save its state_dict() instead")
    return f"{kind.__module__}:{qualname}"


def _resolve(path: str):
    """The class or function at `module:QualName`, from a module already imported."""
    module_name, _, qualname = path.partition(":")
    if _library(module_name.partition(".")[0]):
        raise LoadError(f"the checkpoint names {path}, from the standard library or NumPy: "
                        "chainrule rebuilds only models and what they hold")
    module = sys.modules.get(module_name)
    if module is None and module_name.partition(".")[0] == "chainrule":
        module = importlib.import_module(module_name)
    if module is None:
        raise LoadError(f"the checkpoint holds a {qualname} from module {module_name}, "
                        f"which is not imported: import {module_name} before loading "
                        "(chainrule imports no module a checkpoint names)")
    found = module
    for part in qualname.split("."):
        found = getattr(found, part, None)
        if found is None:
            raise LoadError(f"the checkpoint holds a {qualname}, which module "
                            f"{module_name} does not define")
    return found


class _Objects:
    """What modules and chainrule's helper objects share: saved as their class's path and
    their attributes, made bare on load and then given the attributes."""

    @staticmethod
    def class_path(value) -> str:
        return _class_path(type(value))

    @staticmethod
    def reduce(value) -> dict:
        return dict(vars(value))

    @staticmethod
    def fill(obj, attributes: dict) -> None:
        obj.__dict__.update(attributes)


class _Modules(_Objects):
    name = "module"

    @staticmethod
    def accepts(value) -> bool:
        return isinstance(value, Module)

    @staticmethod
    def create(path: str):
        kind = _resolve(path)
        if not (isinstance(kind, type) and issubclass(kind, Module)):
            raise LoadError(f"the checkpoint says {path} is a module, and it is not one")
        return object.__new__(kind)


class _Plain(_Objects):
    """Other objects a model holds by attribute: chainrule's own (the hook object of
    `weight_norm`) and the program's (a config dataclass, `self.config = config`). Not
    objects of the standard library or NumPy, not subclasses of Python's containers and
    numbers (a `Size` is saved as the tuple it is), not functions or modules."""

    name = "object"

    @staticmethod
    def accepts(value) -> bool:
        kind = type(value)
        top = kind.__module__.partition(".")[0]
        return hasattr(value, "__dict__") and not _library(top) \
            and not isinstance(value, (Tensor, type, tuple, list, dict, set, str, int, float)) \
            and not callable(getattr(value, "__func__", None)) and not inspect.ismodule(value)

    @staticmethod
    def create(path: str):
        kind = _resolve(path)
        if not isinstance(kind, type):
            raise LoadError(f"the checkpoint names {path}, which is not a class")
        return object.__new__(kind)


def _library(top: str) -> bool:
    """Whether a top-level module is the standard library, builtins or NumPy, whose
    objects are not rebuilt from attributes."""
    return top in ("builtins", "numpy") or top in sys.stdlib_module_names


class _Tensors:
    """Parameters and Buffers: the values, and what makes them more than a Tensor."""

    name = "tensor-kind"

    class_path = _Objects.class_path

    @staticmethod
    def accepts(value) -> bool:
        return isinstance(value, (Parameter, Buffer))

    @staticmethod
    def reduce(value) -> dict:
        flag = ("requires_grad", value.requires_grad) if isinstance(value, Parameter) \
            else ("persistent", value.persistent)
        return {"data": Tensor._wrap(value.array), flag[0]: flag[1]}

    @staticmethod
    def rebuild(path: str, attributes: dict):
        kind = _resolve(path)
        if isinstance(kind, type) and issubclass(kind, Parameter):
            return kind(attributes["data"], requires_grad=attributes["requires_grad"])
        if isinstance(kind, type) and issubclass(kind, Buffer):
            return kind(attributes["data"], persistent=attributes["persistent"])
        raise LoadError(f"the checkpoint says {path} is a Parameter or Buffer, and it is not")


class _Functions:
    """A function or class a module holds as an attribute, by its import path."""

    name = "reference"

    @staticmethod
    def accepts(value) -> bool:
        return inspect.isfunction(value) or inspect.isbuiltin(value) or \
            (isinstance(value, type) and not issubclass(value, (dict, list, tuple)))

    @staticmethod
    def class_path(value) -> str:
        return _class_path(value)

    @staticmethod
    def reduce(value) -> dict:
        return {}

    @staticmethod
    def rebuild(path: str, attributes: dict):
        found = _resolve(path)
        if not callable(found):
            raise LoadError(f"the checkpoint names {path}, which is not a function or class")
        return found


def _load_module(f, map_location=None):
    """`torch.jit.load`: a module saved whole; a TorchScript archive from PyTorch (a zip
    holding compiled code) is refused in one line."""
    import zipfile  # noqa: PLC0415

    if not hasattr(f, "read") and zipfile.is_zipfile(f):
        with zipfile.ZipFile(f) as archive:
            if any("/code/" in name for name in archive.namelist()):
                raise RuntimeError(f"torch.jit.load: {f} is a TorchScript archive written by "
                                   "PyTorch (compiled code, which chainrule cannot run): "
                                   "save the model's state_dict there and load that")
    return serialize.load(f, map_location=map_location)


for _codec in (_Modules, _Tensors, _Functions, _Plain):
    serialize.register_codec(_codec)
jit._archive.update(save=serialize.save, load=_load_module)
