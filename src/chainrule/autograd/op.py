"""`Op`: one differentiable operation, its forward and its backward side by side.

An op is written on raw arrays:

    class Tanh(Op):
        # y = tanh(x);  dy/dx = 1 - y²
        def forward(ctx, x):
            y = xp(x).tanh(x)
            ctx.save_for_backward(y)
            return y
        def backward(ctx, grad):
            (y,) = ctx.saved
            return (grad * (1 - y * y),)

`Op.apply(*tensors, **params)` runs `forward` on the tensors' arrays and, when a gradient
is wanted, returns a tensor whose `grad_fn` is the op instance itself: that instance *is*
the graph node, remembering its input tensors and what `forward` saved.

`backward(grad)` returns one gradient per input (or None), shaped like the op's output
broadcast to that input; the engine sums broadcast dimensions away in one place. It is
written only with operators and `Op.call`, which work on arrays and on tensors alike, so
the engine can run the very same code on tensors to differentiate a backward pass
(`create_graph=True`, second derivatives).

Op hooks (autograd/hooks.py: anomaly mode, traces, recorders) are called before and after
each application; with none registered the cost is one test of an empty tuple.
"""
from __future__ import annotations

import numpy

from .. import versions
from ..tensor import Tensor
from . import grad_mode, hooks


class OpError(ValueError, RuntimeError):  # PyTorch raises RuntimeError: programs catch that
    """An op received inputs it cannot combine: the message names the op and the shapes."""


class NodeName(str):
    """A node's name ("Mul"), also callable as PyTorch's `grad_fn.name()` ("MulBackward0",
    the node's `backward_name`)."""

    def __new__(cls, name: str, backward_name: str):
        self = super().__new__(cls, name)
        self.backward_name = backward_name
        return self

    def __call__(self) -> str:
        return self.backward_name


class OpIndexError(OpError, IndexError):
    """An index out of range, or too many: also Python's IndexError, as PyTorch raises (the
    sequence protocol ends a `for` over a Dataset that has no __iter__ on it)."""


class AccumulateGrad:
    """Where a leaf's gradient is summed into `.grad` (`variable`), in next_functions."""

    def __init__(self, variable: Tensor):
        self.variable = variable
        self.next_functions = ()

    def __repr__(self) -> str:
        return f"<AccumulateGrad object at {id(self):#x}>"


class Op:
    __slots__ = ("inputs", "parents", "out", "__dict__", "__weakref__")

    # What forward kept for backward (arrays), and versions.clock when it did; set by
    # save_for_backward.
    saved: tuple = ()
    saved_at: int = 0
    # Hooks on the gradient of this node's output tensor (tensor.register_hook), and the
    # node's own before and after its backward (register_prehook, register_hook).
    grad_hooks: dict = {}
    pre_hooks: dict = {}
    post_hooks: dict = {}
    # PyTorch's name for the node where it is not the class name + "Backward0" (Reshape:
    # "ViewBackward0"); a public function may rename its own node (composites/node_names).
    torch_name: str = ""

    # Subclasses write these two as plain functions of (ctx, ...): the instance is the ctx.
    def forward(ctx, *arrays, **params):  # pragma: no cover - abstract
        raise NotImplementedError

    def backward(ctx, grad):  # pragma: no cover - abstract
        raise NotImplementedError

    # Anomaly mode asks the op that produced a NaN or an infinity why. An op where that
    # can happen says so: (kind, explanation) from its inputs and output, or None.
    def nan_cause(ctx, *inputs, out):
        return None

    # ... and, in backward, which local derivative is infinite at the saved values:
    # (kind, the infinite slope, how to avoid it) for input `index`, or None.
    def infinite_slope(ctx, index: int):
        return None

    @property
    def name(self) -> str:
        return NodeName(type(self).__name__, self.backward_name)

    @property
    def backward_name(self) -> str:
        """The node as PyTorch names it, printed as the tensor's `grad_fn=<AddBackward0>`."""
        return self.torch_name or type(self).__name__ + "Backward0"

    @property
    def next_functions(self) -> tuple:
        """The graph one step back, as PyTorch shows it: (node, 0) per input, the node
        being its grad_fn, an AccumulateGrad for a leaf that wants a gradient, or None."""
        return tuple((t.grad_fn or (AccumulateGrad(t) if t.requires_grad else None), 0)
                     for t in self.inputs)

    def register_prehook(self, fn) -> hooks.RemovableHandle:
        """PyTorch's Node hook: fn(grad_outputs) before this node's backward (autograd/hooks)."""
        return hooks.register_node_hook(self, "pre_hooks", fn)

    def register_hook(self, fn) -> hooks.RemovableHandle:
        """PyTorch's Node hook: fn(grad_inputs, grad_outputs) after this node's backward."""
        return hooks.register_node_hook(self, "post_hooks", fn)

    def save_for_backward(self, *arrays) -> None:
        """Keep what backward needs; dropped after backward unless `retain_graph`. The
        version clock is noted: backward refuses what was changed in place since
        (versions.py)."""
        self.saved = arrays
        self.saved_at = versions.clock

    @property
    def building_graph(self) -> bool:
        """In backward: whether it runs on tensors, building a graph of itself
        (`create_graph=True`; the engine runs backward with grad mode set to that)."""
        return grad_mode.is_grad_enabled()

    @property
    def saved_arrays(self) -> tuple:
        """What forward saved, as arrays even while the backward builds a graph (for
        values that are constants there, like the winners of a max)."""
        return tuple(a.array if isinstance(a, Tensor) else a for a in self.saved)

    def once_differentiable(self) -> None:
        """Called first by a backward written on arrays only: a clear error if the engine
        asks to differentiate it (`create_graph=True`)."""
        if self.building_graph:
            raise RuntimeError(f"{self.name}: differentiating its backward again "
                               "(create_graph=True) is not supported")

    def needs_grad(self, i: int) -> bool:
        """Whether input `i` wants a gradient (lets backward skip work for constants)."""
        return self.inputs[i].requires_grad

    @classmethod
    def apply(cls, *inputs, **params):
        """Run the op on tensors, recording it in the graph when a gradient is wanted."""
        ctx = cls()
        hooked = hooks.active  # (read once: one global lookup per op when none is registered)
        if hooked:
            hooks.before_forward(ctx, inputs, params)
        arrays = [t.array for t in inputs]
        if len(arrays) == 2:
            if arrays[0] is arrays[1] and inputs[0] is not inputs[1]:
                _separate_shared_arrays(ctx, inputs, arrays)
        elif len(arrays) > 2:
            _separate_shared_arrays(ctx, inputs, arrays)
        try:
            out = ctx.forward(*arrays, **params)
        except (ValueError, TypeError, IndexError) as err:
            raise _explain(cls, inputs, params, err) from err
        if not hasattr(out, "__setitem__"):
            out = _writable(ctx, out)
        result = Tensor.__new__(Tensor)
        result.array = out
        result.grad = None
        result.grad_fn = None
        result._requires_grad = False
        if grad_mode.state.enabled:
            for t in inputs:
                if t._requires_grad:
                    if out.dtype.kind != "f":  # integers and booleans have no gradient
                        break
                    ctx.inputs = inputs
                    # the inputs' nodes as they are now: an in-place change may give an
                    # input tensor a newer node later (x[k] = v), which must not feed this one
                    ctx.parents = [t.grad_fn for t in inputs]
                    ctx.out = out
                    result.grad_fn = ctx
                    result._requires_grad = True
                    break
        if hooked:
            hooks.after_forward(ctx, inputs, result)
        return result

    @classmethod
    def call(cls, *args, **params):
        """The op on tensors (recorded) or on raw arrays (plain forward): backward uses this."""
        if isinstance(args[0], Tensor):
            return cls.apply(*args, **params)
        return cls().forward(*args, **params)

    def __repr__(self) -> str:
        return f"<{self.backward_name} object at {id(self):#x}>"


def _writable(ctx, scalar):
    """NumPy returns a reduction over every element as a scalar, which no in-place method
    can write into (`x.sum().add_(1)`): the result holds a 0-d array instead, and so does
    what forward saved of it (the engine finds the output among the saved by identity)."""
    array = numpy.asarray(scalar)
    ctx.saved = tuple(array if s is scalar else s for s in getattr(ctx, "saved", ()))
    return array


def _separate_shared_arrays(ctx, inputs, arrays) -> None:
    """Where two different tensors hold one array (x and x.detach()), hand forward a view
    for the later one. The engine maps saved arrays back to input tensors by identity
    (`create_graph`); the view keeps "saved b" from being read as "saved a"."""
    owners = {}
    for i, t in enumerate(inputs):
        if owners.setdefault(id(arrays[i]), t) is not t:
            arrays[i] = arrays[i].view()
            ctx.aliases = getattr(ctx, "aliases", ()) + ((arrays[i], i),)


def _explain(cls, inputs, params, err) -> Exception:
    shapes = " and ".join(str(tuple(t.shape)) for t in inputs)
    devices = {t.device for t in inputs}
    detail = f"{cls.__name__.lower()}: cannot apply to shapes {shapes}"
    if any(t.dtype.kind != "f" for t in inputs):  # often the cause: say which dtypes
        detail += " of dtype " + " and ".join(str(t.dtype) for t in inputs)
    if len(devices) > 1:
        detail = (f"{cls.__name__.lower()}: inputs are on different devices "
                  f"({', '.join(sorted(map(str, devices)))}); move them with .to(device) first")
    elif params:
        shown = ", ".join(f"{k}={v!r}" for k, v in params.items() if _short(v))
        if shown:
            detail += f" with {shown}"
    return (OpIndexError if isinstance(err, IndexError) else OpError)(f"{detail} ({err})")


def _short(value) -> bool:
    return isinstance(value, (int, float, bool, str, tuple, type(None))) and len(repr(value)) < 60
