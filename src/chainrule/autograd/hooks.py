"""Hooks: the one way to watch, or adjust, the forward and backward passes from outside.

Two kinds, both returning a `RemovableHandle` (`handle.remove()`, or use it in `with`):

* An **op hook** (`OpHook`, Chainer's FunctionHook in spirit) sees every op application
  and every node's backward, process-wide, while it is registered:

      class CountOps(OpHook):
          def __init__(self):
              self.count = 0
          def after_forward(self, node, inputs, output):
              self.count += 1

      with CountOps() as counter:        # or: handle = register_op_hook(CountOps())
          loss = model(x).sum()
      print(counter.count)

  The four methods (each optional) are called as

      before_forward(node, inputs, params)     before `node.forward` runs on the inputs' arrays
      after_forward(node, inputs, output)      `output` is the result tensor
      before_backward(node, grad)              `grad` is dL/d(node's output)
      after_backward(node, grad, input_grads)  may return replacement input gradients

  `node` is the op instance (the graph node, when one is recorded). Anomaly mode and the
  ONNX exporter's tracer are op hooks; nothing patches `Op.apply` or the engine.
  `backward_node()` tells a hook whose backward is running (ops applied inside a
  backward, as with `create_graph=True`, run their forward hooks too).

* A **tensor hook** (`tensor.register_hook(fn)`, PyTorch's semantics) is called with the
  gradient of that one tensor once it is complete in a backward pass; if it returns a
  tensor, that replaces the gradient (for a leaf: before it is added into `.grad`; for a
  non-leaf: before it flows on into the op that made the tensor).

* A **node hook** (PyTorch's `grad_fn.register_prehook(fn)` and `grad_fn.register_hook(fn)`)
  belongs to one graph node: `fn(grad_outputs)` before its backward, after the output's
  tensor hooks, and `fn(grad_inputs, grad_outputs)` after it, grad_inputs shaped like the
  node's inputs (None for one that wants no gradient). Either may return a tuple that
  replaces the gradients it was given (pre-hook) or the node's results (hook).

When no hook is registered, `Op.apply` reads `active` once per op and the engine tests
locals per node (the hooks registered when a backward pass starts).
"""
from __future__ import annotations

import itertools
import threading
import weakref

active: tuple = ()     # the registered op hooks, in registration order
_op_hooks: dict = {}   # handle id -> op hook
_ids = itertools.count()
_running = threading.local()  # .node: the node whose backward runs on this thread


class RemovableHandle:
    """What a `register_*` call returns: `remove()` unregisters (twice is harmless)."""

    def __init__(self, hooks: dict, key: int, on_remove=None):
        self._hooks = hooks
        self._key = key
        self._on_remove = on_remove

    def remove(self) -> None:
        self._hooks.pop(self._key, None)
        if self._on_remove is not None:
            self._on_remove()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.remove()
        return False


class OpHook:
    """Base class of op hooks: override any of the four methods (module docstring). Used
    as a context manager it is registered inside the block and removed after it."""

    def before_forward(self, node, inputs, params) -> None:
        pass

    def after_forward(self, node, inputs, output) -> None:
        pass

    def before_backward(self, node, grad) -> None:
        pass

    def after_backward(self, node, grad, input_grads):
        return None

    def __enter__(self):
        self._handle = register_op_hook(self)
        return self

    def __exit__(self, *exc):
        self._handle.remove()
        return False


def register_op_hook(hook: OpHook) -> RemovableHandle:
    """Call `hook`'s methods around every op's forward and every node's backward."""
    key = next(_ids)
    _op_hooks[key] = hook
    _refresh()
    return RemovableHandle(_op_hooks, key, on_remove=_refresh)


def _refresh() -> None:
    global active
    active = tuple(_op_hooks.values())


def backward_node():
    """The node whose backward is running on this thread, or None (in a forward pass)."""
    return getattr(_running, "node", None)


# --- called by Op.apply and the engine (only while `active` is not empty) -----------------
def before_forward(node, inputs, params) -> None:
    for hook in active:
        hook.before_forward(node, inputs, params)


def after_forward(node, inputs, output) -> None:
    for hook in active:
        hook.after_forward(node, inputs, output)


def run_backward(node, grad, backward):
    """`backward(node, grad)` with the op hooks called around it."""
    outer, _running.node = backward_node(), node
    try:
        for hook in active:
            hook.before_backward(node, grad)
        input_grads = backward(node, grad)
        for hook in active:
            replaced = hook.after_backward(node, grad, input_grads)
            if replaced is not None:
                input_grads = tuple(replaced)
    finally:
        _running.node = outer
    return input_grads


# --- tensor hooks ------------------------------------------------------------------------
# A non-leaf's hooks live on the node that made it (`node.grad_hooks`, one output per
# node); a leaf's, here by the leaf's id, dropped when the leaf is collected.
leaf_hooks: dict = {}
node_hooks = 0  # how many nodes were ever given tensor hooks (the engine skips the test at 0)


def register_tensor_hook(tensor, fn) -> RemovableHandle:
    """`tensor.register_hook(fn)`: fn(grad) -> None or a replacement gradient."""
    if not tensor.requires_grad:
        raise RuntimeError("register_hook: cannot register a hook on a tensor that does not "
                           "require grad")
    if tensor.grad_fn is None:
        return _add_leaf_hook(leaf_hooks, tensor, fn)
    return register_node_hook(tensor.grad_fn, "grad_hooks", fn)


def register_node_hook(node, kind: str, fn) -> RemovableHandle:
    """A hook kept by a node: kind "grad_hooks" (a tensor hook on its output), "pre_hooks"
    (`node.register_prehook`) or "post_hooks" (`node.register_hook`)."""
    if not callable(fn):
        raise TypeError(f"register_hook: the hook must be callable, got {fn!r}")
    if kind not in node.__dict__:
        global node_hooks
        node_hooks += 1
        node.__dict__[kind] = {}
    return _add_hook(node.__dict__[kind], fn)


def run_node_hooks(hooks: dict, grads: tuple, *more) -> tuple:
    """A node's pre-hooks (`fn(grads)`) or hooks (`fn(grads, grad_outputs)`) in turn on a
    tuple of gradient tensors; a returned tuple replaces it."""
    for fn in list(hooks.values()):
        replaced = fn(grads, *more)
        if replaced is not None:
            if len(replaced) != len(grads):
                raise RuntimeError(f"node hook: the hook returned {len(replaced)} gradients "
                                   f"where {len(grads)} were given")
            grads = tuple(replaced)
    return grads


class PackedSaved(tuple):
    """What a node saved for backward, as the saved-tensors hooks in force at its forward
    packed it (torch.autograd.graph.saved_tensors_hooks): `unpack()` gives the arrays back,
    through the `unpack_all(packed)` its maker sets, each time the node's backward runs. The
    node's `saved_at` is -1 meanwhile (so the engine looks), the packed keep the real one."""

    def unpack(self) -> tuple:
        return tuple(self.unpack_all(self))


def _add_hook(hooks: dict, fn, on_remove=None) -> RemovableHandle:
    key = next(_ids)
    hooks[key] = fn
    return RemovableHandle(hooks, key, on_remove)


def _add_leaf_hook(registry: dict, leaf, fn) -> RemovableHandle:
    """`fn` among `leaf`'s hooks in `registry` (by the leaf's id, dropped when the leaf is
    collected or its last hook removed: an empty registry costs the engine nothing)."""
    key = id(leaf)
    if key not in registry:
        registry[key] = {}
        weakref.finalize(leaf, registry.pop, key, None)
    hooks = registry[key]

    def drop_if_empty():
        if not hooks and registry.get(key) is hooks:
            del registry[key]
    return _add_hook(hooks, fn, drop_if_empty)


def run_tensor_hooks(hooks: dict, grad, wrap, unwrap):
    """Each hook in turn on the gradient (as a tensor: `wrap`); a returned tensor replaces it."""
    for fn in list(hooks.values()):
        replaced = fn(wrap(grad))
        if replaced is not None:
            grad = unwrap(replaced)
    return grad


# --- post-accumulate-grad hooks ------------------------------------------------------------
# A leaf's hooks, by the leaf's id, called with the leaf itself as soon as its `.grad`
# holds the whole gradient of the running backward pass (the engine counts how many
# gradients each such leaf will receive). DistributedDataParallel starts averaging a
# parameter's gradient across processes from here, while backward goes on.
accumulate_hooks: dict = {}


def register_post_accumulate_grad_hook(tensor, fn) -> RemovableHandle:
    """`leaf.register_post_accumulate_grad_hook(fn)`: fn(leaf) once `leaf.grad` is final."""
    if tensor.grad_fn is not None:
        raise RuntimeError("register_post_accumulate_grad_hook: post accumulate grad hooks "
                           "cannot be registered on non-leaf tensors")
    if not tensor.requires_grad:
        raise RuntimeError("register_post_accumulate_grad_hook: cannot register a hook on a "
                           "tensor that does not require grad")
    return _add_leaf_hook(accumulate_hooks, tensor, fn)


def run_accumulate_hooks(leaf) -> None:
    for fn in list(accumulate_hooks.get(id(leaf), {}).values()):
        fn(leaf)
