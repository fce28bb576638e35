"""`Function`: a differentiable op written by the user, PyTorch style, on tensors.

    class Cube(cr.autograd.Function):
        # y = x³;  dy/dx = 3x²
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * x * x

        @staticmethod
        def backward(ctx, grad):
            (x,) = ctx.saved_tensors
            return grad * 3 * x * x

    y = Cube.apply(x)                          # recorded in the graph like any built-in op
    Cube.verify(cr.randn(3))                   # backward against finite differences

Each subclass gets its own `Op` subclass (an adapter named after it), and `apply` goes
through `Op.apply`: the node in the graph is an ordinary op, so the engine, `explain`
traces and anomaly mode treat it like the built-in ones.

`forward` runs under `no_grad` on tensors that share the inputs' arrays (or, when the class
defines `setup_context(ctx, inputs, output)`, as `forward(*args)` followed by that);
`backward` gets one gradient tensor per output and returns one gradient per argument of
`forward` (None for non-tensor arguments and for inputs that need none: see
`ctx.needs_input_grad`). Outputs marked `ctx.mark_non_differentiable` (and integer ones)
do not require grad, and their gradients reach backward as zeros (None after
`ctx.set_materialize_grads(False)`); an input changed in place and marked
`ctx.mark_dirty` is returned as that very tensor, now made by this op. With
`create_graph=True` the backward runs with recording on and the saved tensors wired into
the graph, so a backward written with tensor operations is differentiated in turn.

Design note: the user's `ctx` is not the graph node. The node keeps the saved arrays where
the engine expects them (`node.saved`, freed after backward unless `retain_graph`) and lends
them to `ctx.saved_tensors` only while `backward` runs. So nothing the user sets on `ctx`
can collide with the engine's fields, and `ctx` holds no reference back to the node (no
reference cycle: a graph is freed by reference counting alone).
"""
from __future__ import annotations

import numpy

from ..backend import xp
from ..tensor import Tensor
from . import grad_mode
from .op import Op

_TENSOR = object()  # marks where a tensor sits among forward's arguments


class FunctionCtx:
    """What `forward` hands to `backward`: saved tensors, plus any attribute set on it."""

    _to_save = _non_differentiable = _dirty_inputs = ()  # as save_for_backward, mark_* left them
    _saved = _out_shapes = None  # _out_shapes: the differentiable outputs', packed in one array
    _constants: dict = {}  # output position -> an output that is not differentiable
    _dirty: dict = {}  # output position -> argument position, for mark_dirty
    _outputs = 1  # how many outputs forward returned
    materialize_grads = True

    def __init__(self, needs_input_grad: tuple):
        self.needs_input_grad = needs_input_grad

    def save_for_backward(self, *tensors) -> None:
        """Keep tensors (or None) for backward; released after backward unless retain_graph.
        Keep other values (ints, shapes, flags) as plain attributes: `ctx.dim = dim`."""
        for t in tensors:
            if t is not None and not isinstance(t, Tensor):
                raise TypeError("save_for_backward takes tensors (or None), got "
                                f"{type(t).__name__}; keep other values as ctx attributes")
        self._to_save = tensors

    def mark_non_differentiable(self, *outputs) -> None:
        self._non_differentiable += outputs

    def mark_dirty(self, *inputs) -> None:
        self._dirty_inputs += inputs

    def set_materialize_grads(self, value: bool) -> None:
        self.materialize_grads = value

    @property
    def saved_tensors(self) -> tuple:
        if self._saved is None:
            raise RuntimeError("saved_tensors can be read only inside backward")
        return self._saved


class Function:
    """Base class for user-defined ops: static `forward(ctx, *args)` and
    `backward(ctx, *grads)`, called as `MyFunction.apply(*args)`."""

    _node_class: type | None = None

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        # The graph node of this function: an Op subclass named after it, so that errors,
        # traces and anomaly reports say "Cube", not "FunctionNode".
        cls._node_class = type(cls.__name__, (_FunctionNode,),
                              {"function": cls, "torch_name": cls.__name__ + "Backward"})

    @staticmethod
    def forward(ctx, *args):  # pragma: no cover - abstract
        raise NotImplementedError("a Function subclass defines forward(ctx, ...)")

    @staticmethod
    def backward(ctx, *grads):  # pragma: no cover - abstract
        raise NotImplementedError("a Function subclass defines backward(ctx, grad) to be "
                                  "differentiated")

    @classmethod
    def apply(cls, *args):
        """Run `forward` on the arguments; record the op when a gradient is wanted."""
        if cls._node_class is None:
            raise TypeError("call apply() on a subclass of Function, not on Function itself")
        tensors = tuple(a for a in args if isinstance(a, Tensor))
        if not tensors:
            raise TypeError(f"{cls.__name__}.apply: no tensor among the arguments")
        recording = grad_mode.state.enabled
        ctx = FunctionCtx(tuple(isinstance(a, Tensor) and a.requires_grad and recording
                                for a in args))
        template = tuple(_TENSOR if isinstance(a, Tensor) else a for a in args)
        try:
            result = cls._node_class.apply(*tensors, template=template, function_ctx=ctx)
        except _UserError as carrier:  # the user's own exception, unchanged
            raise carrier.error.with_traceback(carrier.error.__traceback__) from None
        pieces = iter((result,) if ctx._out_shapes is None else _split(result, ctx._out_shapes))
        outputs = [ctx._constants[k] if k in ctx._constants else next(pieces)
                   for k in range(ctx._outputs)]
        for position, slot in ctx._dirty.items():
            outputs[position] = _made_in_place(args[slot], outputs[position], result.grad_fn)
        return outputs[0] if ctx._outputs == 1 and not ctx._out_shapes else tuple(outputs)

    @staticmethod
    def setup_context(ctx, inputs, output):  # pragma: no cover - only when overridden
        raise NotImplementedError


def once_differentiable(backward):
    """PyTorch's decorator for a `backward` written outside autograd: it runs under
    `no_grad`, so a second derivative through it finds no graph."""
    return grad_mode.no_grad()(backward)


class _UserError(Exception):
    """Carries an exception raised by the user's forward past `Op.apply`, which would
    otherwise rewrite a ValueError or TypeError as a message about input shapes."""

    def __init__(self, error: BaseException):
        super().__init__(str(error))
        self.error = error


class _FunctionNode(Op):
    """The adapter: an Op whose forward and backward call the user's static methods."""

    function: type = None

    def forward(node, *arrays, template=(), function_ctx=None):
        ctx = node.ctx = function_ctx
        arrays = iter(arrays)
        args = [Tensor._wrap(next(arrays)) if a is _TENSOR else a for a in template]
        node.arg_slots = tuple(i for i, a in enumerate(template) if a is _TENSOR)
        function = node.function
        try:
            with grad_mode.no_grad():
                if function.setup_context is Function.setup_context:
                    outputs = function.forward(ctx, *args)
                else:  # PyTorch's other form: forward without ctx, then setup_context
                    outputs = function.forward(*args)
                    function.setup_context(ctx, tuple(args), outputs)
        except Exception as err:
            raise _UserError(err) from err
        node.save_for_backward(*(None if t is None else t.array for t in ctx._to_save))
        ctx._to_save = ()
        single = isinstance(outputs, Tensor)
        outputs = (outputs,) if single else outputs
        if not (isinstance(outputs, (tuple, list)) and outputs and all(
                isinstance(o, Tensor) for o in outputs)):
            raise _UserError(TypeError(f"{node.name}.forward must return a tensor or a tuple "
                                       f"of tensors, got {type(outputs).__name__}"))
        ctx._outputs = len(outputs)
        ctx._dirty = {k: next(i for i, a in enumerate(args) if a is o)
                      for k, o in enumerate(outputs) if any(o is d for d in ctx._dirty_inputs)}
        ctx._constants = {k: o for k, o in enumerate(outputs) if o.dtype.kind != "f" or
                          any(o is n for n in ctx._non_differentiable)}
        if single and not ctx._constants:
            return outputs[0].array
        return _pack(node, ctx, [o for k, o in enumerate(outputs) if k not in ctx._constants])

    def backward(node, grad):
        on_tensors = node.building_graph  # create_graph: the backward is recorded too
        ctx = node.ctx
        pieces = iter((grad,) if ctx._out_shapes is None else _split(grad, ctx._out_shapes))
        grads = tuple(_constant_grad(ctx, ctx._constants[k]) if k in ctx._constants
                      else next(pieces) for k in range(ctx._outputs))
        if not ctx.materialize_grads:  # an unused output's gradient (all zeros) is None
            grads = tuple(None if g is None or not g.any() else g for g in grads)
        grads = tuple(g if on_tensors or g is None else Tensor._wrap(g) for g in grads)
        ctx._saved = tuple(s if s is None or isinstance(s, Tensor) else Tensor._wrap(s)
                           for s in node.saved)
        try:
            returned = node.function.backward(ctx, *grads)
        finally:
            ctx._saved = None
        return _input_grads(node, returned, on_tensors)


def _constant_grad(ctx, output):
    """What backward gets for an output that is not differentiable: zeros, or None."""
    return xp(output.array).zeros_like(output.array) if ctx.materialize_grads else None


def _made_in_place(original: Tensor, produced: Tensor, node) -> Tensor:
    """`ctx.mark_dirty`: the input changed in place becomes the output, made by `node`,
    which reads an alias of the input as it was (composites' in-place rule)."""
    if not produced.requires_grad:
        return original
    if original.is_leaf and original.requires_grad:
        raise RuntimeError(f"{node.name}: a leaf Variable that requires grad is being used in "
                           "an in-place operation (mark_dirty)")
    alias = Tensor._wrap(original.array)
    alias.grad_fn, alias.requires_grad = original.grad_fn, original.requires_grad
    node.inputs = tuple(alias if t is original else t for t in node.inputs)
    original.array, original.grad_fn = produced.array, produced.grad_fn
    original.requires_grad = True
    return original


def _pack(node, ctx, outputs):
    """Several outputs travel as one flat array (the engine's nodes have one output each);
    `Function.apply` cuts it back into tensors with recorded slicing and reshaping."""
    if not outputs:  # none is differentiable: the node's output is empty
        ctx._out_shapes = ()
        return xp(node.ctx._constants[0].array).empty(0, dtype="float32")
    dtypes = {o.dtype for o in outputs}  # (floating: the others are not differentiable)
    if len(dtypes) > 1:
        raise _UserError(TypeError(f"{node.name}.forward: its differentiable outputs must "
                                   f"share one dtype, got {sorted(map(str, dtypes))}"))
    ctx._out_shapes = tuple(o.shape for o in outputs)
    return xp(outputs[0].array).concatenate([o.array.reshape(-1) for o in outputs])


def _split(flat, shapes):
    start = 0
    for shape in shapes:
        size = int(numpy.prod(shape))
        yield flat[start:start + size].reshape(shape)
        start += size


def _input_grads(node, returned, on_tensors) -> tuple:
    """The user's gradients, one per forward argument, as the engine wants them: one per
    tensor input, arrays (or tensors when building a graph), checked against the shapes."""
    returned = returned if isinstance(returned, (tuple, list)) else (returned,)
    expected = len(node.ctx.needs_input_grad)
    if len(returned) < expected or any(g is not None for g in returned[expected:]):
        raise RuntimeError(f"{node.name}.backward returned {len(returned)} gradients but "
                           f"forward took {expected} arguments: return one per argument "
                           "(None for the non-tensor ones)")
    return tuple(None if returned[slot] is None else _as_gradient(
        node, returned[slot], slot, node.inputs[k] if node.inputs else None, on_tensors)
        for k, slot in enumerate(node.arg_slots))


def _as_gradient(node, g, slot, tensor, on_tensors):
    if isinstance(g, Tensor):
        value = g if on_tensors else g.array
    elif hasattr(g, "shape") and not on_tensors:
        value = g
    else:
        raise TypeError(f"{node.name}.backward: the gradient for argument {slot} is a "
                        f"{type(g).__name__}; return a tensor (or None)")
    if tensor is not None and g.shape != tensor.shape:
        try:
            fits = numpy.broadcast_shapes(g.shape, tensor.shape) == tuple(g.shape)
        except ValueError:
            fits = False
        if not fits:  # a broadcast gradient is fine: the engine sums it back to the input
            raise RuntimeError(f"{node.name}.backward: the gradient for argument {slot} has "
                               f"shape {tuple(g.shape)} but that input has shape "
                               f"{tuple(tensor.shape)}")
    return value
