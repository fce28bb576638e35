"""Module hooks, as PyTorch's: functions called around a module's forward and backward.

    handle = layer.register_forward_hook(lambda module, args, output: print(output.shape))
    handle.remove()

* forward pre-hook  `hook(module, args) -> None | new args`, before `forward`;
* forward hook      `hook(module, args, output) -> None | new output`, after it;
* backward pre-hook `hook(module, grad_output) -> None | new grad_output`, when the
  gradients of the module's outputs are known;
* backward hook     `hook(module, grad_input, grad_output) -> None | new grad_input`, when
  the gradients of its tensor inputs are known too.

The backward ones work by putting identity ops around the call: one on each output tensor
(its backward sees dL/doutput) and one on each input tensor that requires a gradient (its
backward sees dL/dinput). A module with no hooks never reaches this file: `Module.__call__`
checks one attribute and calls `forward`.

With several output tensors, or several inputs that require a gradient, the hooks still
see every gradient, but cannot replace them (that needs one graph node for all of them).

Hooks on every module (`torch.nn.modules.module.register_module_forward_hook` and its
three siblings) run before each module's own of the same kind, as in PyTorch. While any is
registered, the Module class's `_hooks` is set, so that every call takes the hooked path.

The other kinds (a module's state-dict hooks, an optimizer's step and state-dict hooks) are
kept apart, in `_other_hooks`, so that they do not take a module off the hook-free path;
their owner calls them through `registered(owner, kind)`.
"""
from __future__ import annotations

import itertools
import warnings
from collections import OrderedDict, defaultdict

from ..autograd.op import Op
from ..tensor import Tensor

KINDS = ("forward_pre", "forward", "backward_pre", "backward")  # the hooks around a call


def _registry(kind: str) -> str:
    return "_hooks" if kind in KINDS else "_other_hooks"
_ids = itertools.count()


class RemovableHandle:
    """What `register_*_hook` returns: `.remove()` takes the hook out (also on `with` exit)."""

    def __init__(self, module, kind: str):
        self.id = next(_ids)
        self._module = module
        self._kind = kind

    def remove(self) -> None:
        registry = _registry(self._kind)
        hooks = self._module.__dict__.get(registry)
        if hooks is None:
            return
        hooks[self._kind].pop(self.id, None)
        if not any(hooks.values()):  # back to the hook-free fast path
            del self._module.__dict__[registry]

    def __enter__(self) -> "RemovableHandle":
        return self

    def __exit__(self, *exc) -> None:
        self.remove()


def register(module, kind: str, hook, prepend: bool = False, with_kwargs: bool = False,
             always_call: bool = False):
    if not callable(hook):
        raise TypeError(f"register_{kind}_hook: the hook must be callable, got {hook!r}")
    hooks = module.__dict__.get(_registry(kind))
    if hooks is None:
        hooks = module.__dict__[_registry(kind)] = defaultdict(OrderedDict)
    handle = RemovableHandle(module, kind)
    hooks[kind][handle.id] = (hook, with_kwargs, always_call)
    if prepend:
        hooks[kind].move_to_end(handle.id, last=False)
    return handle


# Every module's hooks: {kind: {handle id: (hook, with_kwargs, always_call)}}, kinds as in
# KINDS.
global_hooks: dict = defaultdict(OrderedDict)


class GlobalHandle(RemovableHandle):
    """What `register_module_*_hook` returns: `.remove()` takes the hook off every module."""

    def __init__(self, on_change, kind: str):
        super().__init__(None, kind)
        self._on_change = on_change

    def remove(self) -> None:
        global_hooks[self._kind].pop(self.id, None)
        if not any(global_hooks.values()):
            self._on_change(False)  # back to the hook-free path


def register_global(kind: str, hook, on_change, with_kwargs: bool = False,
                    always_call: bool = False):
    """A hook of `kind` on every module; `on_change(bool)` tells Module whether any is
    registered."""
    if not callable(hook):
        raise TypeError(f"register_module_{kind}_hook: the hook must be callable, got {hook!r}")
    handle = GlobalHandle(on_change, kind)
    global_hooks[kind][handle.id] = (hook, with_kwargs, always_call)
    on_change(True)
    return handle


def _in_order(module) -> dict:
    """{kind: [(hook, with_kwargs), ...]}: every module's hooks, then this module's own."""
    own = module._hooks
    return {kind: [*global_hooks[kind].values(), *own[kind].values()] for kind in KINDS}


def registered(owner, kind: str) -> list:
    """The hooks of that kind on a module or optimizer, in the order they run."""
    hooks = owner.__dict__.get(_registry(kind))
    return [hook for hook, *_ in hooks[kind].values()] if hooks else []


def after_state_dict(module, state, prefix: str):
    """A module's state-dict post hooks `hook(module, state_dict, prefix, local_metadata)`:
    those of `_register_state_dict_hook` may return a new dict, the public ones must not."""
    for hook in registered(module, "state_dict_replacing"):
        result = hook(module, state, prefix, {"version": 1})
        state = state if result is None else result
    for hook in registered(module, "state_dict_post"):
        if hook(module, state, prefix, {"version": 1}) is not None:
            raise RuntimeError("state_dict post-hook must return None")
    return state


def call_with_hooks(module, args: tuple, kwargs: dict):
    """`module(*args, **kwargs)` with its hooks: pre-hooks, forward, hooks, backward wiring."""
    hooks = _in_order(module)
    for hook, with_kwargs, _ in hooks["forward_pre"]:
        if with_kwargs:
            result = hook(module, args, kwargs)
            if result is not None:
                args, kwargs = result
        else:
            result = hook(module, args)
            if result is not None:
                args = result if isinstance(result, tuple) else (result,)
    backward = _BackwardHooks(module, hooks) if hooks["backward"] or hooks["backward_pre"] \
        else None
    if backward is not None:
        args = backward.wrap_inputs(args)
    try:
        output = module.forward(*args, **kwargs)
    except Exception:
        _after_failure(module, args, kwargs, hooks["forward"])
        raise
    for hook, with_kwargs, _ in hooks["forward"]:
        result = hook(module, args, kwargs, output) if with_kwargs else hook(module, args, output)
        if result is not None:
            output = result
    if backward is not None:
        output = backward.wrap_outputs(output)
    return output


def _after_failure(module, args, kwargs, forward_hooks) -> None:
    """A forward that raised: the hooks registered with always_call=True run anyway, with
    None for the output (a hook that fails in turn is reported as a warning), as PyTorch's."""
    for hook, with_kwargs, always_call in forward_hooks:
        if always_call:
            try:
                hook(module, args, kwargs, None) if with_kwargs else hook(module, args, None)
            except Exception as error:  # noqa: BLE001 - the forward's error goes on
                warnings.warn(f"a forward hook with always_call=True failed: {error!r}",
                              stacklevel=3)


class _BackwardHooks:
    """One call's gradients: dL/doutputs as they arrive, then dL/dinputs."""

    def __init__(self, module, hooks):
        self.module = module
        self.hooks = hooks
        self.grad_outputs: list = []
        self.grad_inputs: list = []
        self.inputs_waiting = self.wanted_inputs = 0
        self.outputs_waiting = 0
        self.pre_hooks_done = False

    def wrap_inputs(self, args: tuple) -> tuple:
        positions = [i for i, a in enumerate(args) if isinstance(a, Tensor)]
        self.grad_inputs = [None] * len(positions)
        wrapped = list(args)
        for slot, i in enumerate(positions):
            if args[i].requires_grad:
                wrapped[i] = _GradientTap.apply(args[i], on_grad=self._input_arrived, slot=slot)
                self.inputs_waiting += 1
        self.wanted_inputs = self.inputs_waiting
        return tuple(wrapped)

    def wrap_outputs(self, output):
        tensors = [output] if isinstance(output, Tensor) else \
            [t for t in output if isinstance(t, Tensor)] if isinstance(output, (tuple, list)) \
            else []
        self.grad_outputs = [None] * len(tensors)
        taps = {}
        for slot, t in enumerate(tensors):
            if t.requires_grad:
                taps[id(t)] = _GradientTap.apply(t, on_grad=self._output_arrived, slot=slot)
                self.outputs_waiting += 1
        if isinstance(output, Tensor):
            return taps.get(id(output), output)
        return type(output)(taps.get(id(t), t) for t in output)

    def _output_arrived(self, slot: int, grad):
        self.grad_outputs[slot] = grad
        self.outputs_waiting -= 1
        if self.outputs_waiting == 0:
            self._run_pre_hooks()
            if self.wanted_inputs == 0:
                self._run_backward_hooks()  # no input wants a gradient: the hooks run now
        return self.grad_outputs[slot]

    def _input_arrived(self, slot: int, grad):
        if not self.pre_hooks_done:  # an output's gradient never came (unused output)
            self._run_pre_hooks()
        self.grad_inputs[slot] = grad
        self.inputs_waiting -= 1
        if self.inputs_waiting == 0:
            self._run_backward_hooks()
        return self.grad_inputs[slot]

    def _run_pre_hooks(self) -> None:
        self.pre_hooks_done = True
        alone = len(self.grad_outputs) == 1
        for hook, *_ in self.hooks["backward_pre"]:
            result = hook(self.module, tuple(self.grad_outputs))
            if result is not None:
                _check_replacement(alone, "backward pre-hook", "output")
                self.grad_outputs = list(_as_tuple(result))

    def _run_backward_hooks(self) -> None:
        alone = len(self.grad_inputs) <= 1
        for hook, *_ in self.hooks["backward"]:
            result = hook(self.module, tuple(self.grad_inputs), tuple(self.grad_outputs))
            if result is not None:
                _check_replacement(alone, "backward hook", "input")
                self.grad_inputs = list(_as_tuple(result))


def _as_tuple(value) -> tuple:
    return tuple(value) if isinstance(value, (tuple, list)) else (value,)


def _check_replacement(alone: bool, kind: str, side: str) -> None:
    if not alone:
        raise RuntimeError(f"{kind}: replacing gradients is supported for modules with one "
                           f"tensor {side} only")


class _GradientTap(Op):
    # y = x;  dL/dx = dL/dy, shown to the module's backward hooks on the way (they may
    # return a replacement)
    def forward(ctx, x, on_grad=None, slot=0):
        ctx.on_grad = on_grad
        ctx.slot = slot
        return x.view()

    def backward(ctx, grad):
        seen = grad if ctx.building_graph else Tensor._wrap(grad)
        result = ctx.on_grad(ctx.slot, seen)
        if result is None:
            return (grad,)
        return (result if ctx.building_graph else result.array,)
