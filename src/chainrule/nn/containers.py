"""Modules that hold other modules: `Sequential` (a pipeline) and `ModuleList`."""
from __future__ import annotations

import warnings
from collections import OrderedDict

from .module import Module


class _ModuleSequence(Module):
    """What Sequential and ModuleList share as lists of numbered children: deleting,
    inserting and popping renumber them 0, 1, 2, ... as PyTorch does; `+` joins two into a
    new one and `+=` extends this one."""

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules.values())

    def __setitem__(self, index: int, module: Module) -> None:
        self.add_module(list(self._modules)[index], module)

    def append(self, module: Module):
        self.add_module(str(len(self._modules)), module)
        return self

    def extend(self, modules):
        for module in modules:
            self.append(module)
        return self

    def insert(self, index: int, module: Module) -> None:
        modules = list(self._modules.values())
        modules.insert(index, module)
        self._renumber(modules)

    def pop(self, index=-1) -> Module:
        module = self[index]
        del self[index]
        return module

    def __delitem__(self, index) -> None:
        modules = list(self._modules.values())
        del modules[index]
        self._renumber(modules)

    def __iadd__(self, modules):
        return self.extend(modules)

    def __add__(self, other):
        return type(self)().extend([*self, *other])

    def _renumber(self, modules) -> None:
        for name in list(self._modules):
            delattr(self, name)
        self.extend(modules)


class Sequential(_ModuleSequence):
    """Calls its modules in order, each on the previous one's output."""

    def __init__(self, *modules):
        super().__init__()
        if len(modules) == 1 and isinstance(modules[0], OrderedDict):
            for name, module in modules[0].items():
                self.add_module(name, module)
        else:
            for i, module in enumerate(modules):
                self.add_module(str(i), module)

    def forward(self, x):
        for module in self._modules.values():
            x = module(x)
        return x

    def __getitem__(self, index):
        items = list(self._modules.values())
        if isinstance(index, slice):
            return Sequential(*items[index])
        return items[index]

    def __mul__(self, times: int) -> "Sequential":
        """The same modules `times` over (shared, not copied), as PyTorch repeats them."""
        if not isinstance(times, int) or times <= 0:
            raise ValueError(f"Sequential: can only be multiplied by a positive int, got {times!r}")
        return Sequential().extend(list(self) * times)

    __rmul__ = __mul__

    def __add__(self, other: "Sequential") -> "Sequential":
        return super().__add__(self._only_sequential(other))

    def __iadd__(self, other: "Sequential") -> "Sequential":
        return self.extend(self._only_sequential(other))

    @staticmethod
    def _only_sequential(other):
        if not isinstance(other, Sequential):
            raise ValueError("add operator supports only objects of Sequential class, but "
                             f"{type(other)} is given.")
        return other


class ModuleList(_ModuleSequence):
    """A list of modules whose parameters the parent module sees."""

    def __init__(self, modules=()):
        super().__init__()
        self.extend(modules)

    def __getitem__(self, index):
        items = list(self._modules.values())
        if isinstance(index, slice):
            return ModuleList(items[index])
        return items[index]


class ModuleDict(Module):
    """A dict of modules whose parameters the parent module sees."""

    def __init__(self, modules=None):
        super().__init__()
        for name, module in (modules or {}).items():
            self.add_module(name, module)

    def __getitem__(self, name: str) -> Module:
        return self._modules[name]

    def __setitem__(self, name: str, module: Module) -> None:
        self.add_module(name, module)

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules)

    def __contains__(self, name: str) -> bool:
        return name in self._modules

    def keys(self):
        return self._modules.keys()

    def values(self):
        return self._modules.values()

    def items(self):
        return self._modules.items()


class Container(Module):
    """PyTorch's oldest container (deprecated): each keyword argument becomes a submodule."""

    def __init__(self, **modules):
        warnings.warn("nn.Container is deprecated: subclass nn.Module instead", FutureWarning,
                      stacklevel=2)
        super().__init__()
        for name, module in modules.items():
            self.add_module(name, module)
