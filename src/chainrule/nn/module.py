"""`Module`: a piece of network that owns parameters, buffers and sub-modules.

Attributes assigned on a module are sorted as they are set: a `Parameter` is registered
as a parameter, a `Module` as a child, and `register_buffer` records tensors that are
state but not learned (BatchNorm's running mean). They stay ordinary attributes too, so
reading `self.weight` costs no more than any attribute read.
"""
from __future__ import annotations

from collections import OrderedDict, defaultdict, namedtuple
from collections.abc import Iterator

from .. import backend
from ..sparse import RowSparseTensor
from ..tensor import Tensor
from . import hooks
from .parameter import Buffer, Parameter


class IncompatibleKeys(namedtuple("IncompatibleKeys", ["missing_keys", "unexpected_keys"])):
    """What load_state_dict returns, shown as PyTorch's `_IncompatibleKeys`."""

    def __repr__(self) -> str:
        if not self.missing_keys and not self.unexpected_keys:
            return "<All keys matched successfully>"
        return (f"_IncompatibleKeys(missing_keys={self.missing_keys!r}, "
                f"unexpected_keys={self.unexpected_keys!r})")

    __str__ = __repr__


_IncompatibleKeys = IncompatibleKeys  # PyTorch's name, at torch.nn.modules.module


def _key_problems(strict: bool, missing: list, unexpected: list) -> list:
    """What a strict load reports about keys (nothing when not strict)."""
    if not strict:
        return []
    return ([f"missing keys: {', '.join(missing)}"] if missing else []) + \
        ([f"unexpected keys: {', '.join(unexpected)}"] if unexpected else [])


# --- hooks on every module (PyTorch's torch.nn.modules.module functions) -----------------
def register_module_forward_pre_hook(hook) -> hooks.RemovableHandle:
    """`hook(module, args)` before every module's forward, before its own pre-hooks."""
    return hooks.register_global("forward_pre", hook, _every_module_hooked)


def register_module_forward_hook(hook, *, with_kwargs: bool = False,
                                 always_call: bool = False) -> hooks.RemovableHandle:
    """`hook(module, args, output)` after every module's forward, before its own hooks."""
    return hooks.register_global("forward", hook, _every_module_hooked, with_kwargs,
                                 always_call)


def register_module_full_backward_pre_hook(hook) -> hooks.RemovableHandle:
    """`hook(module, grad_output)` in every module's backward, before its own pre-hooks."""
    return hooks.register_global("backward_pre", hook, _every_module_hooked)


def register_module_full_backward_hook(hook) -> hooks.RemovableHandle:
    """`hook(module, grad_input, grad_output)` in every module's backward, first."""
    return hooks.register_global("backward", hook, _every_module_hooked)


register_module_backward_hook = register_module_full_backward_hook  # PyTorch's older name


def _every_module_hooked(registered: bool) -> None:
    """While hooks on every module are registered, a module with none of its own has an
    empty registry (so that its calls take the hooked path); else none (`__call__`)."""
    Module._hooks = defaultdict(OrderedDict) if registered else None


class StateDictError(RuntimeError):
    """A state dict that does not fit the module: the message lists every difference."""


class Module:
    training: bool

    def __init__(self):
        object.__setattr__(self, "_parameters", OrderedDict())
        object.__setattr__(self, "_buffers", OrderedDict())
        object.__setattr__(self, "_non_persistent", set())
        object.__setattr__(self, "_modules", OrderedDict())
        object.__setattr__(self, "training", True)

    def forward(self, *args, **kwargs):  # pragma: no cover - abstract
        raise NotImplementedError(f"{type(self).__name__} has no forward()")

    def __call__(self, *args, **kwargs):
        if self._hooks is None:  # the usual case costs one attribute read
            return self.forward(*args, **kwargs)
        return hooks.call_with_hooks(self, args, kwargs)

    # --- hooks (see nn/hooks.py) ---------------------------------------------------------
    _hooks = None  # {kind: {id: (hook, with_kwargs, always_call)}} once a hook is registered

    def register_forward_pre_hook(self, hook, *, prepend: bool = False,
                                  with_kwargs: bool = False) -> hooks.RemovableHandle:
        """`hook(module, args)` before each forward; may return new args."""
        return hooks.register(self, "forward_pre", hook, prepend, with_kwargs)

    def register_forward_hook(self, hook, *, prepend: bool = False, with_kwargs: bool = False,
                              always_call: bool = False) -> hooks.RemovableHandle:
        """`hook(module, args, output)` after each forward; may return a new output. With
        always_call, also after a forward that raised (output None)."""
        return hooks.register(self, "forward", hook, prepend, with_kwargs, always_call)

    def register_full_backward_pre_hook(self, hook, prepend: bool = False
                                        ) -> hooks.RemovableHandle:
        """`hook(module, grad_output)` once dL/doutput is known; may return a new one."""
        return hooks.register(self, "backward_pre", hook, prepend)

    def register_full_backward_hook(self, hook, prepend: bool = False) -> hooks.RemovableHandle:
        """`hook(module, grad_input, grad_output)` once dL/dinput is known too; may return
        a new grad_input."""
        return hooks.register(self, "backward", hook, prepend)

    def register_backward_hook(self, hook) -> hooks.RemovableHandle:
        """PyTorch's deprecated form, taken as `register_full_backward_hook(hook)` (what
        PyTorch advises): `hook(module, grad_input, grad_output)`."""
        return self.register_full_backward_hook(hook)

    def register_state_dict_pre_hook(self, hook) -> hooks.RemovableHandle:
        """`hook(module, prefix, keep_vars)` before state_dict() takes this module's tensors."""
        return hooks.register(self, "state_dict_pre", hook)

    def register_state_dict_post_hook(self, hook) -> hooks.RemovableHandle:
        """`hook(module, state_dict, prefix, local_metadata) -> None` after state_dict() has
        taken this module's tensors (and its children's); it may edit the dict in place."""
        return hooks.register(self, "state_dict_post", hook)

    def _register_state_dict_hook(self, hook) -> hooks.RemovableHandle:
        """The older post hook: like register_state_dict_post_hook's, but a dict it returns
        replaces the state dict."""
        return hooks.register(self, "state_dict_replacing", hook)

    def register_load_state_dict_pre_hook(self, hook) -> hooks.RemovableHandle:
        """`hook(module, state_dict, prefix, local_metadata, strict, missing_keys,
        unexpected_keys, error_msgs)` before load_state_dict() reads this module's keys; it
        may edit the (copied) state dict, and an entry it adds to error_msgs fails the load."""
        return hooks.register(self, "load_state_dict_pre", hook)

    def _register_load_state_dict_pre_hook(self, hook, with_module: bool = False
                                           ) -> hooks.RemovableHandle:
        """The older pre hook: called without the module unless with_module=True."""
        return self.register_load_state_dict_pre_hook(
            hook if with_module else (lambda module, *arguments: hook(*arguments)))

    def register_load_state_dict_post_hook(self, hook) -> hooks.RemovableHandle:
        """`hook(module, incompatible_keys) -> None` after load_state_dict() has copied the
        values; emptying incompatible_keys' lists in place lets a strict load pass."""
        return hooks.register(self, "load_state_dict_post", hook)

    # --- registration ------------------------------------------------------------------
    def __setattr__(self, name: str, value) -> None:
        if "_parameters" not in self.__dict__:
            raise AttributeError(f"{type(self).__name__}: call super().__init__() before "
                                 f"assigning {name!r}")
        if isinstance(value, Parameter):
            self._forget(name, keeping=self._parameters)
            self._parameters[name] = value
        elif isinstance(value, Module):
            self._forget(name, keeping=self._modules)
            self._modules[name] = value
        elif isinstance(value, Buffer):
            self._forget(name, keeping=self._buffers)
            self.register_buffer(name, value, value.persistent)
        elif name in self._parameters:
            self._parameters[name] = self._only_none(value, name, "parameter", "Parameter")
        elif name in self._modules:
            self._modules[name] = self._only_none(value, name, "child module", "Module")
        elif name in self._buffers:
            if value is not None and not isinstance(value, Tensor):
                raise TypeError(f"buffer {name!r} must be a Tensor or None")
            self._buffers[name] = value
        object.__setattr__(self, name, value)

    def _forget(self, name: str, keeping: dict) -> None:
        """Take `name` out of the registries other than `keeping`: one registered in
        `keeping` already is replaced where it stands, so the children and parameters keep
        their order (a model's replaced `conv1` stays first among its children)."""
        for registry in (self._parameters, self._buffers, self._modules):
            if registry is not keeping:
                registry.pop(name, None)
        self._non_persistent.discard(name)

    @staticmethod
    def _only_none(value, name: str, kind: str, expected: str):
        """A registered parameter or child may be set to None (it stays registered, empty),
        never to anything else, as in PyTorch."""
        if value is not None:
            raise TypeError(f"cannot assign {type(value).__name__!r} as {kind} {name!r} "
                            f"(torch.nn.{expected} or None expected)")
        return None

    def __delattr__(self, name: str) -> None:
        for registry in (self._parameters, self._buffers, self._modules):
            registry.pop(name, None)
        object.__delattr__(self, name)

    def register_buffer(self, name: str, tensor: Tensor | None, persistent: bool = True) -> None:
        self._buffers[name] = tensor
        if not persistent:
            self._non_persistent.add(name)
        object.__setattr__(self, name, tensor)

    def register_parameter(self, name: str, param: Parameter | None) -> None:
        if param is None:
            self._parameters[name] = None
            object.__setattr__(self, name, None)
        else:
            setattr(self, name, param)

    def add_module(self, name: str, module: "Module | None") -> None:
        self._modules[name] = module
        object.__setattr__(self, name, module)

    register_module = add_module

    # --- reaching a part by its dotted name ("encoder.layers.0.weight") ---------------
    def get_submodule(self, target: str) -> "Module":
        module = self
        for name in filter(None, target.split(".")):
            if name not in module._modules:
                raise AttributeError(f"{type(module).__name__} has no attribute `{name}`")
            module = module._modules[name]
        return module

    def set_submodule(self, target: str, module: "Module", strict: bool = False) -> None:
        path, _, name = target.rpartition(".")
        owner = self.get_submodule(path)
        if strict and name not in owner._modules:
            raise AttributeError(f"{type(owner).__name__} has no attribute `{name}`")
        setattr(owner, name, module)

    def get_parameter(self, target: str) -> Parameter:
        return self._get_tensor(target, "_parameters", "an nn.Parameter")

    def get_buffer(self, target: str) -> Tensor:
        return self._get_tensor(target, "_buffers", "a buffer")

    def _get_tensor(self, target: str, registry: str, kind: str):
        path, _, name = target.rpartition(".")
        module = self.get_submodule(path)
        tensors = getattr(module, registry)
        if name not in tensors:
            raise AttributeError(f"`{name}` is not {kind}" if hasattr(module, name) else
                                 f"{type(module).__name__} has no attribute `{name}`")
        return tensors[name]

    # --- walking the tree --------------------------------------------------------------
    def named_modules(self, prefix: str = "", memo: set | None = None):
        memo = set() if memo is None else memo
        if id(self) in memo:
            return
        memo.add(id(self))
        yield prefix, self
        for name, child in self._modules.items():
            if child is not None:
                yield from child.named_modules(f"{prefix}.{name}" if prefix else name, memo)

    def modules(self) -> Iterator["Module"]:
        for _, m in self.named_modules():
            yield m

    def named_children(self):
        """Each child once, under its first name (a module held twice is one child)."""
        seen = set()
        for name, child in self._modules.items():
            if child is not None and id(child) not in seen:
                seen.add(id(child))
                yield name, child

    def children(self) -> Iterator["Module"]:
        for _, child in self.named_children():
            yield child

    def _named(self, registry: str, prefix: str, recurse: bool):
        seen = set()
        modules = self.named_modules(prefix) if recurse else [(prefix, self)]
        for module_prefix, module in modules:
            for name, value in getattr(module, registry).items():
                if value is None or id(value) in seen:
                    continue
                seen.add(id(value))
                yield (f"{module_prefix}.{name}" if module_prefix else name), value

    def named_parameters(self, prefix: str = "", recurse: bool = True):
        return self._named("_parameters", prefix, recurse)

    def parameters(self, recurse: bool = True) -> Iterator[Parameter]:
        for _, p in self.named_parameters(recurse=recurse):
            yield p

    def named_buffers(self, prefix: str = "", recurse: bool = True):
        return self._named("_buffers", prefix, recurse)

    def buffers(self, recurse: bool = True) -> Iterator[Tensor]:
        for _, b in self.named_buffers(recurse=recurse):
            yield b

    def apply(self, fn) -> "Module":
        for child in self.children():
            child.apply(fn)
        fn(self)
        return self

    # --- modes and gradients -----------------------------------------------------------
    def train(self, mode: bool = True) -> "Module":
        for m in self.modules():
            object.__setattr__(m, "training", mode)
        return self

    def eval(self) -> "Module":
        return self.train(False)

    def requires_grad_(self, requires_grad: bool = True) -> "Module":
        for p in self.parameters():
            p.requires_grad_(requires_grad)
        return self

    def zero_grad(self, set_to_none: bool = True) -> None:
        for p in self.parameters():
            if set_to_none or p.grad is None:
                p.grad = None
            elif p.grad.is_sparse:
                p.grad = RowSparseTensor.no_rows(p.shape, p.array)
            else:
                p.grad = Tensor._wrap(backend.xp(p.array).zeros_like(p.grad.array))

    # --- state -------------------------------------------------------------------------
    def state_dict(self, prefix: str = "", *, destination=None,
                   keep_vars: bool = False) -> "OrderedDict[str, Tensor]":
        """Every parameter and persistent buffer by dotted name, detached from the graph
        (kept as they are with keep_vars), into `destination` if given. State-dict hooks
        run per module: pre hooks in order from the top, post hooks children first."""
        state = OrderedDict() if destination is None else destination
        modules = [(f"{name}." if name else "", module)
                   for name, module in self.named_modules(prefix)]
        for dot, module in modules:
            for hook in hooks.registered(module, "state_dict_pre"):
                hook(module, dot, keep_vars)
            for name, p in module._parameters.items():
                if p is not None:
                    state[dot + name] = p if keep_vars else p.detach()
            for name, b in module._buffers.items():
                if b is not None and name not in module._non_persistent:
                    state[dot + name] = b if keep_vars else b.detach()
        for dot, module in reversed(modules):
            state = hooks.after_state_dict(module, state, dot)
        return state

    def load_state_dict(self, state_dict, strict: bool = True) -> IncompatibleKeys:
        """Copy values into this module's tensors; with `strict`, keys and shapes must match
        (checked after the load-state-dict post hooks, which may forgive keys, as PyTorch)."""
        state_dict, missing, unexpected, errors = OrderedDict(state_dict), [], [], []
        for name, module in self.named_modules():
            for hook in hooks.registered(module, "load_state_dict_pre"):
                hook(module, state_dict, f"{name}." if name else "", {}, strict, missing,
                     unexpected, errors)
            module._complete_state_dict(state_dict, f"{name}." if name else "")
        own = self._own_tensors()
        missing += [k for k in own if k not in state_dict]
        unexpected += [k for k in state_dict if k not in own]
        mismatched = []
        for key, target in own.items():
            if key in state_dict:
                value = state_dict[key]
                shape = tuple(value.shape)
                if shape != tuple(target.shape):
                    mismatched.append(f"{key}: checkpoint has shape {shape}, "
                                      f"this model has {tuple(target.shape)}")
        if mismatched or errors:  # every problem in one message
            self._refuse_state_dict(
                errors + ["size mismatch for " + "; ".join(mismatched)] * bool(mismatched)
                + _key_problems(strict, missing, unexpected))
        for key, target in own.items():
            if key in state_dict:
                value = state_dict[key]
                array = value.array if isinstance(value, Tensor) else value
                target.array = backend.to_device(
                    backend.xp(array).asarray(array, dtype=target.dtype), target.device).copy()
        keys = IncompatibleKeys(missing, unexpected)
        for _, module in self.named_modules():
            for hook in hooks.registered(module, "load_state_dict_post"):
                if hook(module, keys) is not None:
                    raise AssertionError("Hooks registered with "
                                         "``register_load_state_dict_post_hook`` are not expected "
                                         "to return new values, if incompatible_keys need to be "
                                         "modified, it should be done inplace.")
        if _key_problems(strict, missing, unexpected):
            self._refuse_state_dict(_key_problems(strict, missing, unexpected))
        return keys

    def _complete_state_dict(self, state_dict: dict, prefix: str) -> None:
        """Add, in place, entries that older checkpoints lack and this module can supply
        (BatchNorm's num_batches_tracked); none by default."""

    def _refuse_state_dict(self, problems: list) -> None:
        raise StateDictError(f"error loading state dict into {type(self).__name__}: "
                             + " | ".join(problems))

    def _own_tensors(self) -> "OrderedDict[str, Tensor]":
        own = OrderedDict()
        for module_prefix, module in self.named_modules():
            dot = f"{module_prefix}." if module_prefix else ""
            for name, p in module._parameters.items():
                if p is not None:
                    own[dot + name] = p
            for name, b in module._buffers.items():
                if b is not None and name not in module._non_persistent:
                    own[dot + name] = b
        return own

    def to(self, *args, **kwargs) -> "Module":
        """Move every parameter and buffer to a device and/or floating dtype, in place
        (PyTorch's forms: `.to(device)`, `.to(dtype)`, `.to(device, dtype)`, `.to(tensor)`)."""
        device, dtype = backend.to_arguments(args, kwargs)
        for t in list(self.parameters()) + [b for b in self.buffers()]:
            array = t.array
            if dtype is not None and array.dtype.kind == "f":
                array = array.astype(dtype)
            if device is not None:
                array = backend.to_device(array, device)
            t.array = array
            if t.grad is not None and device is not None:
                t.grad = (t.grad.to(device) if t.grad.is_sparse
                          else Tensor._wrap(backend.to_device(t.grad.array, device)))
        return self

    def float(self) -> "Module":
        return self.to(backend.float32)

    def double(self) -> "Module":
        return self.to(backend.float64)

    def half(self) -> "Module":
        return self.to(backend.float16)

    def type(self, dst_type) -> "Module":
        return self.to(dst_type)

    def share_memory(self) -> "Module":
        """Every parameter and buffer into shared memory (Tensor.share_memory_), so that
        processes given this module through torch.multiprocessing update the same numbers."""
        for tensor in [*self.parameters(), *self.buffers()]:
            tensor.share_memory_()
        return self

    def compile(self, *args, **kwargs) -> None:
        """As cr.compile: the module keeps running eagerly (there is no compiler)."""

    def cpu(self) -> "Module":
        return self.to("cpu")

    def cuda(self) -> "Module":
        return self.to("cuda")

    # --- printing ----------------------------------------------------------------------
    def extra_repr(self) -> str:
        return ""

    def __repr__(self) -> str:
        lines = [f"({name}): " + repr(child).replace("\n", "\n  ")
                 for name, child in self._modules.items()]
        head = f"{type(self).__name__}({self.extra_repr()}"
        if not lines:
            return head + ")"
        return head + "\n  " + "\n  ".join(lines) + "\n)"
