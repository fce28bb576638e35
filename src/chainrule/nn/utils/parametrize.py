"""`chainrule.nn.utils.parametrize`: a module's tensor computed by modules from others.

After `register_parametrization(layer, "weight", P)`, `layer.weight` is `P(original)`,
recomputed at every read, and what the optimizer updates is `original`, found at
`layer.parametrizations.weight.original` (its state-dict key is
`parametrizations.weight.original`). If P has `right_inverse`, `original` starts as
`P.right_inverse(weight)` (several tensors `original0`, `original1`, ... when it returns a
sequence), and assigning `layer.weight = X` stores `right_inverse(X)`. Several
parametrizations of one tensor chain: `P2(P1(original))`.

As in PyTorch, the module's class is swapped for a subclass with a property per
parametrized tensor; removing the last parametrization restores the class.
"""
from __future__ import annotations

import contextlib
from collections.abc import Sequence

from ...autograd.grad_mode import no_grad
from ...tensor import Tensor
from ..containers import ModuleDict, ModuleList
from ..parameter import Parameter

__all__ = ["register_parametrization", "remove_parametrizations", "is_parametrized",
           "type_before_parametrizations", "cached", "ParametrizationList"]

_cache_depth = 0
_cache: dict = {}


@contextlib.contextmanager
def cached():
    """Inside the block a parametrized tensor is computed once per read site and reused
    (one evaluation per forward pass for a weight read many times)."""
    global _cache_depth
    _cache_depth += 1
    try:
        yield
    finally:
        _cache_depth -= 1
        if not _cache_depth:
            _cache.clear()


class ParametrizationList(ModuleList):
    """The parametrizations of one tensor, in order, and its original tensor(s)."""

    def __init__(self, modules, original, unsafe: bool = False):
        super().__init__(modules)
        self.unsafe = unsafe
        with no_grad():
            new = original
            for module in reversed(list(self)):
                if hasattr(module, "right_inverse"):
                    with contextlib.suppress(NotImplementedError):  # (then kept as is)
                        new = module.right_inverse(new)
        self.is_tensor = isinstance(new, Tensor)
        if not self.is_tensor and not isinstance(new, Sequence):
            raise ValueError(f"'right_inverse' must return a Tensor or a Sequence of "
                             f"tensors, got {type(new).__name__}")
        self.ntensors = 1 if self.is_tensor else len(new)
        if self.is_tensor:
            _check_dtype(original, new)
            original.array = new.array                  # the same object, new values
            _register(self, "original", original)
        else:
            for i, part in enumerate(new):
                tensor = Parameter(part, original.requires_grad) if isinstance(
                    original, Parameter) else part.requires_grad_(original.requires_grad)
                _register(self, f"original{i}", tensor)
        if not unsafe:
            _check_consistent(self(), original, "registering a parametrization")

    def forward(self) -> Tensor:
        first, *rest = list(self)
        x = first(self.original) if self.is_tensor else first(
            *(getattr(self, f"original{i}") for i in range(self.ntensors)))
        for module in rest:
            x = module(x)
        return x

    def right_inverse(self, value: Tensor) -> None:
        """Store `value` as the parametrized tensor: the right inverses, last first."""
        with no_grad():
            for module in reversed(list(self)):
                if not hasattr(module, "right_inverse"):
                    raise RuntimeError(f"parametrization {type(module).__name__} does not "
                                       f"implement right_inverse.")
                value = module.right_inverse(value)
            parts = [value] if self.is_tensor else list(value)
            names = ["original"] if self.is_tensor else [f"original{i}"
                                                         for i in range(self.ntensors)]
            for name, part in zip(names, parts, strict=True):
                original = getattr(self, name)
                _check_dtype(original, part)
                original.array = part.array


def register_parametrization(module, tensor_name: str, parametrization, *,
                             unsafe: bool = False):
    """Make `module.<tensor_name>` the output of `parametrization` (appended to the chain
    when the tensor is parametrized already). Returns the module."""
    parametrization.train(module.training)
    if is_parametrized(module, tensor_name):
        if not unsafe:
            now = getattr(module, tensor_name)
            _check_consistent(parametrization(now), now, "appending a parametrization")
        chain = module.parametrizations[tensor_name]
        chain.append(parametrization)
        chain.unsafe |= unsafe
        return module
    if tensor_name not in module._parameters and tensor_name not in module._buffers:
        raise ValueError(f"Module '{module}' does not have a parameter, a buffer, or a "
                         f"parametrized element with name '{tensor_name}'")
    original = getattr(module, tensor_name)
    delattr(module, tensor_name)
    chain = ParametrizationList([parametrization], original, unsafe=unsafe)
    if not is_parametrized(module):
        _swap_class(module)
        module.parametrizations = ModuleDict()
    module.parametrizations[tensor_name] = chain
    setattr(type(module), tensor_name, property(_getter(tensor_name), _setter(tensor_name)))
    return module


def remove_parametrizations(module, tensor_name: str, leave_parametrized: bool = True):
    """Undo register_parametrization: `<tensor_name>` becomes a plain parameter (or
    buffer) again, holding the parametrized value, or the original with
    leave_parametrized=False."""
    if not is_parametrized(module, tensor_name):
        raise ValueError(f"Module {module} does not have a parametrization on {tensor_name}")
    chain = module.parametrizations[tensor_name]
    if chain.is_tensor:
        original = chain.original
        if leave_parametrized:
            with no_grad():
                value = getattr(module, tensor_name)
            _check_dtype(original, value)
            original.array = value.array
    else:
        if not leave_parametrized:
            raise ValueError("Cannot leave unparametrized (`leave_parametrized=False`) a "
                             "tensor that is parametrized in terms of a sequence of tensors.")
        with no_grad():
            value = getattr(module, tensor_name)
        original = Parameter(value, chain.original0.requires_grad) if isinstance(
            chain.original0, Parameter) else value
    delattr(type(module), tensor_name)
    delattr(module.parametrizations, tensor_name)
    _register(module, tensor_name, original)
    if not module.parametrizations._modules:
        module.__class__ = type_before_parametrizations(module)
        delattr(module, "parametrizations")
    return module


def is_parametrized(module, tensor_name: str | None = None) -> bool:
    parametrizations = module.__dict__.get("_modules", {}).get("parametrizations")
    if not isinstance(parametrizations, ModuleDict):
        return False
    return tensor_name is None or tensor_name in parametrizations


def type_before_parametrizations(module) -> type:
    """The module's class as it was before any parametrization was registered."""
    cls = type(module)
    return cls.__bases__[0] if is_parametrized(module) else cls


def _swap_class(module) -> None:
    cls = type(module)
    module.__class__ = type(f"Parametrized{cls.__name__}", (cls,), {})


def _getter(name: str):
    def get(self):
        chain = self.parametrizations[name]
        if not _cache_depth:
            return chain()
        key = (id(self), name)
        if key not in _cache:
            _cache[key] = chain()
        return _cache[key]
    return get


def _setter(name: str):
    def set_(self, value) -> None:
        self.parametrizations[name].right_inverse(value)
    return set_


def _register(module, name: str, tensor) -> None:
    if isinstance(tensor, Parameter):
        module.register_parameter(name, tensor)
    else:
        module.register_buffer(name, tensor)


def _check_dtype(original, new) -> None:
    if original.dtype != new.dtype:
        raise ValueError(f"When `right_inverse` outputs one tensor, it may not change the "
                         f"dtype.\noriginal.dtype: {original.dtype}\nright_inverse(original)"
                         f".dtype: {new.dtype}")


def _check_consistent(value, original, when: str) -> None:
    """A parametrization must give a tensor of the original's shape and dtype."""
    if not isinstance(value, Tensor) or value.dtype != original.dtype \
            or value.shape != original.shape:
        raise ValueError(f"{when}: a parametrization may not change the shape or dtype of "
                         f"the tensor, unless unsafe=True is passed; expected "
                         f"{tuple(original.shape)} {original.dtype}, got "
                         f"{getattr(value, 'shape', type(value).__name__)} "
                         f"{getattr(value, 'dtype', '')}")
