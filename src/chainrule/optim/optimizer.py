"""`Optimizer`: the base of every gradient-descent rule in `chainrule.optim`.

An optimizer holds the parameters it updates in *parameter groups* (each a dict with
`"params"` and its own hyperparameters such as `"lr"`) and a per-parameter `state` dict
(momentum buffers, running averages, step counts). `step()` walks every parameter that
has a gradient and updates its array in place; subclasses write only the update rule,
in `_step_group(group)`, as a few lines of array arithmetic.

The layout of `param_groups`, `state` and `state_dict()` follows PyTorch, so that code
and checkpoints written against `torch.optim` read the same here.
"""
from __future__ import annotations

import copy
import functools
import warnings
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import numpy

from .. import backend, versions
from ..autograd import enable_grad, no_grad
from ..nn import hooks
from ..sparse import RowSparseTensor
from ..tensor import Tensor


class _RequiredParameter:
    """`required`: the default of a hyperparameter the caller must give, as custom
    optimizers copied from PyTorch's SGD write it (`lr=required`)."""

    def __repr__(self) -> str:
        return "<required parameter>"


required = _RequiredParameter()


def _hooked_step(step):
    """`step` with the optimizer's step hooks around it, and the mark the LR schedulers read
    (they warn when `scheduler.step()` comes before the first `optimizer.step()`). As in
    PyTorch, the hooks' `args` start with the optimizer, and a subclass's step that calls
    super().step() runs them twice."""
    @functools.wraps(step)
    def hooked(*args, **kwargs):
        optimizer = args[0]
        optimizer._opt_called = True
        for hook in hooks.registered(optimizer, "step_pre"):
            result = hook(optimizer, args, kwargs)
            if result is not None:
                if not (isinstance(result, tuple) and len(result) == 2):
                    raise RuntimeError("optimizer step pre-hook must return None or a tuple of "
                                       f"(new_args, new_kwargs), but got {result}.")
                args, kwargs = result
        out = step(*args, **kwargs)
        for hook in hooks.registered(optimizer, "step_post"):
            hook(optimizer, args, kwargs)
        return out
    return hooked

class Optimizer:
    """Base class: `Optimizer(params, defaults)`.

    `params` is an iterable of tensors, of `(name, tensor)` pairs, or of dicts (one per
    parameter group, each with a `"params"` entry and optional hyperparameters that
    override `defaults`).
    """

    def __init__(self, params: Iterable, defaults: dict[str, Any]) -> None:
        if isinstance(params, Tensor):
            raise TypeError("params given to the optimizer should be an iterable of Tensors "
                            "or dicts, but got a Tensor")
        self.defaults = dict(defaults)
        self.state: defaultdict[Tensor, dict[str, Any]] = defaultdict(dict)
        self.param_groups: list[dict[str, Any]] = []
        self._opt_called = False

        param_groups = list(params)
        if len(param_groups) == 0:
            raise ValueError("optimizer got an empty parameter list")
        if not isinstance(param_groups[0], dict):
            param_groups = [{"params": param_groups}]
        for param_group in param_groups:
            self.add_param_group(param_group)

    def __init_subclass__(cls, **kwargs):
        # A subclass that writes its own `step` still tells the LR schedulers it has stepped
        # (they warn when `scheduler.step()` comes before the first `optimizer.step()`).
        super().__init_subclass__(**kwargs)
        if "step" in cls.__dict__:
            cls.step = _hooked_step(cls.__dict__["step"])

    # --- hooks (PyTorch's; the handles are nn.hooks.RemovableHandle) -------------------
    def register_step_pre_hook(self, hook) -> hooks.RemovableHandle:
        """`hook(optimizer, args, kwargs) -> None | (new_args, new_kwargs)` before each step."""
        return hooks.register(self, "step_pre", hook)

    def register_step_post_hook(self, hook) -> hooks.RemovableHandle:
        """`hook(optimizer, args, kwargs) -> None` after each step."""
        return hooks.register(self, "step_post", hook)

    def register_state_dict_pre_hook(self, hook, prepend: bool = False) -> hooks.RemovableHandle:
        """`hook(optimizer) -> None` before state_dict()."""
        return hooks.register(self, "state_dict_pre", hook, prepend)

    def register_state_dict_post_hook(self, hook, prepend: bool = False
                                      ) -> hooks.RemovableHandle:
        """`hook(optimizer, state_dict) -> None | new state_dict` after state_dict()."""
        return hooks.register(self, "state_dict_post", hook, prepend)

    def register_load_state_dict_pre_hook(self, hook, prepend: bool = False
                                          ) -> hooks.RemovableHandle:
        """`hook(optimizer, state_dict) -> None | new state_dict` before load_state_dict()."""
        return hooks.register(self, "load_state_dict_pre", hook, prepend)

    def register_load_state_dict_post_hook(self, hook, prepend: bool = False
                                           ) -> hooks.RemovableHandle:
        """`hook(optimizer) -> None` after load_state_dict()."""
        return hooks.register(self, "load_state_dict_post", hook, prepend)

    def _replaced_by_hooks(self, kind: str, state_dict: dict) -> dict:
        for hook in hooks.registered(self, kind):
            result = hook(self, state_dict)
            state_dict = state_dict if result is None else result
        return state_dict

    def __repr__(self) -> str:
        text = self.__class__.__name__ + " ("
        for i, group in enumerate(self.param_groups):
            text += f"\nParameter Group {i}\n"
            for key in sorted(group.keys()):
                if key != "params":
                    text += f"    {key}: {group[key]}\n"
        return text + ")"

    # --- parameter groups --------------------------------------------------------------
    def add_param_group(self, param_group: dict[str, Any]) -> None:
        """Add a group of parameters (with its own hyperparameters) to the optimizer,
        e.g. to start training layers that were frozen until now."""
        if not isinstance(param_group, dict):
            raise TypeError(f"param_group must be a dict, but got {type(param_group).__name__}")
        param_group = dict(param_group)
        params = param_group["params"]
        if isinstance(params, Tensor):
            params = [params]
        elif isinstance(params, set):
            raise TypeError("optimizer parameters need to be organized in ordered collections, "
                            "but the ordering of tensors in sets changes between runs; "
                            "use a list instead")
        else:
            params = list(params)

        tensors, names = [], []
        for param in params:
            if isinstance(param, tuple):
                names.append(param[0])
                tensors.append(param[1])
            else:
                tensors.append(param)
        param_group["params"] = tensors
        if names:
            if len(names) != len(tensors):
                raise ValueError("all optimizer params should be with/without names; "
                                 "some param names are missing")
            param_group["param_names"] = names

        for param in tensors:
            if not isinstance(param, Tensor):
                raise TypeError("optimizer can only optimize Tensors, but one of the params is "
                                f"{type(param).__name__}")
            if param.grad_fn is not None:
                raise ValueError("can't optimize a non-leaf Tensor")

        for name, default in self.defaults.items():
            if default is required and name not in param_group:
                raise ValueError("parameter group didn't specify a value of required "
                                 f"optimization parameter {name}")
            param_group.setdefault(name, default)

        ids = [id(p) for p in tensors]
        if len(ids) != len(set(ids)):
            warnings.warn("optimizer contains a parameter group with duplicate parameters; "
                          "in future, this will cause an error", stacklevel=3)

        seen: set[int] = set()
        for group in self.param_groups:
            seen.update(id(p) for p in group["params"])
            if ("param_names" in param_group) != ("param_names" in group):
                which = "with names" if "param_names" in param_group else "without names"
                raise ValueError("all optimizer param groups should be with/without names. "
                                 f"cannot add param group {which} to the optimizer")
        if not seen.isdisjoint(ids):
            raise ValueError("some parameters appear in more than one parameter group")

        self.param_groups.append(param_group)

    # --- gradients and steps -------------------------------------------------------------
    def zero_grad(self, set_to_none: bool = True) -> None:
        """Forget every parameter's gradient: `.grad = None` (default), or zeros.

        With `set_to_none=False` each `.grad` tensor keeps its identity but gets a fresh
        array of zeros: gradient arrays may be shared between tensors, so they are never
        overwritten in place.
        """
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                g = p.grad
                if set_to_none:
                    p.grad = None
                elif g.is_sparse:
                    p.grad = RowSparseTensor.no_rows(g.shape, p.array)
                else:
                    g.grad_fn = None
                    g.requires_grad = False
                    g.array = backend.xp(g.array).zeros_like(g.array)

    @_hooked_step
    def step(self, closure: Callable[[], Any] | None = None):
        """One update of every parameter that has a gradient (parameters whose `.grad`
        is None are skipped). `closure`, if given, re-evaluates the model and returns the
        loss, which `step` returns."""
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()
        with no_grad():
            for group in self.param_groups:
                self._step_group(group)
        return loss

    def _step_group(self, group: dict[str, Any]) -> None:
        """Update the parameters of one group in place (the rule of each optimizer)."""
        raise NotImplementedError

    def _params_with_grad(self, group: dict[str, Any], with_state: bool = True,
                          sparse: str = "refuse", apply_maximize: bool = False,
                          ) -> Iterator[tuple[Any, Any, dict | None]]:
        """`(param array, grad array, state dict)` for each parameter of `group` that has
        a gradient. The param array is updated in place; the grad array must not be.
        With `with_state=False` the state is None (and no empty state entry is made).

        A row-sparse gradient (`Embedding(sparse=True)`, see chainrule.sparse) is refused
        unless the rule says how to take it: `sparse="dense"` hands it over as a dense
        array (right for rules where a zero gradient row leaves its parameter row alone),
        `sparse="rows"` as the RowSparseTensor itself.
        With `apply_maximize=True` a group with `maximize` set hands out -grad (a new
        array), so the rule descends on -loss.
        """
        state = self.state
        for p in group["params"]:
            grad = p.grad
            if grad is None:
                continue
            if not grad.is_sparse:
                grad = grad.array
            elif sparse == "dense":
                grad = grad.dense_array()
            elif sparse != "rows":
                raise RuntimeError(
                    f"{type(self).__name__} does not support sparse gradients (a parameter of "
                    f"shape {tuple(p.shape)} has one, from Embedding or EmbeddingBag with "
                    "sparse=True): use SGD or Adagrad, or sparse=False")
            if apply_maximize and group["maximize"]:
                grad = -grad
            versions.bump(p.array)  # a graph that saved this weight can no longer use it
            yield p.array, grad, (state[p] if with_state else None)

    def _refuse_sparse_with(self, option: str, value: float, group: dict[str, Any]) -> None:
        """PyTorch's rule: weight decay would make every row of a sparse gradient dense."""
        if value != 0 and any(p.grad is not None and p.grad.is_sparse for p in group["params"]):
            raise RuntimeError(f"{type(self).__name__}: {option}={value} is not compatible "
                               "with sparse gradients (Embedding or EmbeddingBag with "
                               "sparse=True)")

    # --- saving and restoring ------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        """`{"state": {index: {...}}, "param_groups": [{..., "params": [index, ...]}]}`.

        Parameters are named by their position across all groups (0, 1, 2, ...), as in
        PyTorch; the parameters themselves are not saved. State arrays appear as tensors
        (the optimizer's own, not copies), the step counts as numbers.
        """
        for hook in hooks.registered(self, "state_dict_pre"):
            hook(self)
        mapping: dict[int, int] = {}
        start = 0
        groups = []
        for group in self.param_groups:
            packed = {k: v for k, v in group.items() if k != "params"}
            for i, p in enumerate(group["params"], start):
                mapping.setdefault(id(p), i)
            packed["params"] = [mapping[id(p)] for p in group["params"]]
            start += len(packed["params"])
            groups.append(packed)
        state = {(mapping[id(k)] if isinstance(k, Tensor) else k): dict(v)
                 for k, v in self.state.items()}
        return self._replaced_by_hooks("state_dict_post", {"state": state,
                                                           "param_groups": groups})

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore what `state_dict()` returned (from this optimizer or one built the same
        way over other parameters). State arrays are copied onto each parameter's device
        and, for floating parameters, cast to its dtype."""
        state_dict = self._replaced_by_hooks("load_state_dict_pre", state_dict)
        groups = self.param_groups
        saved_groups = copy.deepcopy(list(state_dict["param_groups"]))
        if len(groups) != len(saved_groups):
            raise ValueError("loaded state dict has a different number of parameter groups")
        if any(len(g["params"]) != len(s["params"]) for g, s in zip(groups, saved_groups)):
            raise ValueError("loaded state dict contains a parameter group that doesn't match "
                             "the size of optimizer's group")
        id_map = {}
        for g, s in zip(groups, saved_groups):
            for saved_id, p in zip(s["params"], g["params"]):
                id_map[_as_key(saved_id)] = p

        state: defaultdict[Any, dict[str, Any]] = defaultdict(dict)
        for k, v in state_dict["state"].items():
            key = _as_key(k)
            if key in id_map:
                param = id_map[key]
                state[param] = {name: _cast_state(param, value, name)
                                for name, value in v.items()}
            else:
                state[k] = v

        new_groups = []
        for g, s in zip(groups, saved_groups):
            s["params"] = g["params"]
            if "param_names" in g and "param_names" not in s:
                s["param_names"] = g["param_names"]
            new_groups.append(s)
        self.state = state
        self.param_groups = new_groups
        self._fix_loaded_groups()
        for hook in hooks.registered(self, "load_state_dict_post"):
            hook(self)

    def _fix_loaded_groups(self) -> None:
        """After loading: hyperparameters missing from an older state dict get defaults."""
        for group in self.param_groups:
            for name, default in self.defaults.items():
                group.setdefault(name, default)


def _as_key(k):
    """State-dict keys are ints; a file format may have turned them into strings."""
    if isinstance(k, str) and k.lstrip("-").isdigit():
        return int(k)
    return k


def _cast_state(param: Tensor, value, key=None):
    """A copy of one saved state value placed like `param` (device, floating dtype)."""
    if key == "step":
        if isinstance(value, Tensor):
            value = value.item()
        elif hasattr(value, "item") and getattr(value, "size", 1) == 1:
            value = value.item()
        return float(value)
    array = value.array if isinstance(value, Tensor) else value
    if hasattr(array, "shape") and hasattr(array, "dtype"):  # a numpy/cupy array (or scalar)
        array = backend.to_device(backend.xp(array).asarray(array), param.device)
        if backend.is_floating(param.dtype):
            array = array.astype(param.dtype, copy=True)
        else:
            array = array.copy()
        return Tensor._wrap(array)
    if isinstance(value, dict):
        return {k: _cast_state(param, v, k) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_cast_state(param, v) for v in value)
    return value


# --- helpers shared by the update rules ---------------------------------------------
def _lerp_(start, end, weight: float) -> None:
    """`start <- start + weight * (end - start)` in place, as torch.lerp_ rounds it."""
    diff = end - start
    if abs(weight) < 0.5:
        diff *= weight
        start += diff
    else:
        diff *= 1 - weight
        backend.xp(start).subtract(end, diff, out=start)


def _zeros_state(param) -> Tensor:
    """A zero state array shaped and typed like the parameter array, as a tensor."""
    return Tensor._wrap(backend.xp(param).zeros_like(param))


def _scalar_dtype() -> numpy.dtype:
    """The precision PyTorch keeps 0-d state numbers in (ASGD's eta and mu, NAdam's
    mu_product): float64 when that is the default dtype, else float32."""
    return numpy.dtype("float64" if backend.default_dtype() == backend.float64 else "float32")


def _scalar_state(value: float) -> Tensor:
    """A 0-d state number, rounded to `_scalar_dtype()`."""
    return Tensor._wrap(numpy.asarray(value, dtype=_scalar_dtype()))


def _count_step(state: dict, param, *moments: str) -> float:
    """Start a parameter's state on its first update (step 0, a zero array per name in
    `moments`), then count this step; returns the step number (1, 2, ...)."""
    if len(state) == 0:
        state["step"] = 0.0
        for name in moments:
            state[name] = _zeros_state(param)
    state["step"] += 1
    return state["step"]
