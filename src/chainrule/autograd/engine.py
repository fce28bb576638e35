"""The backward engine: the chain rule applied to every node of the graph, in reverse.

Each node is an op instance (`tensor.grad_fn`) that remembers its input tensors. Starting
from the output, the engine

1. walks the graph once to count, for every node, how many consumers its output has;
2. takes nodes whose output gradient is complete (every consumer has sent its share) and
   calls `node.backward(grad)`: the local vector-Jacobian product, i.e. the chain rule
   dL/dinput = dL/doutput · doutput/dinput;
3. sums each input gradient back over broadcast dimensions (`sum_to`) and adds it to the
   gradient waiting at the input's own node, or to `.grad` when the input is a leaf.

The walk is an explicit stack, so graphs thousands of ops deep need no recursion. After a
pass the nodes drop their saved arrays unless `retain_graph` is set; a second pass through
the same nodes then raises, as in PyTorch.

With `create_graph=True` the same backward code runs on tensors instead of raw arrays
(every op's backward is written with operators and `Op.call`), so the gradient is itself
a differentiable function of the inputs: second derivatives come from a second pass.

Gradient arrays may be shared between nodes (an add passes one gradient to both inputs)
or be read-only broadcast views (the gradient of a sum), so the engine never writes into
one in place, and a leaf's first `.grad` is a fresh copy that the leaf owns: user code may
then update it in place (`w.grad.zero_()`, `w.grad *= c`).

A row-sparse gradient (`Embedding(sparse=True)`, see chainrule.sparse) reaches a leaf as
it is; a node that needs it as its output gradient gets the dense array.
"""
from __future__ import annotations

from .. import versions
from ..backend import xp
from ..sparse import RowSparseTensor, dense
from ..tensor import Tensor
from . import grad_mode, hooks
from .broadcast import sum_to
from .hooks import PackedSaved

FREED = ("trying to backward through the graph a second time (or to read saved values "
         "after they were freed): pass retain_graph=True to the first backward() if you "
         "need to go through the graph again")


def backward(tensors, grad_tensors=None, retain_graph=None, create_graph=False,
             grad_variables=None, inputs=None) -> None:
    """`tensor.backward(gradient)` and `autograd.backward(tensors, grad_tensors)`: add the
    gradient of the tensors (each weighted by its grad tensor) to every leaf's `.grad`, or,
    given `inputs`, to the `.grad` of those tensors only."""
    roots = [tensors] if isinstance(tensors, Tensor) else list(tensors)
    weights = grad_variables if grad_tensors is None else grad_tensors
    if not isinstance(weights, (list, tuple)):
        weights = [weights] * len(roots)
    keep = create_graph if retain_graph is None else retain_graph
    if inputs is not None:
        inputs = [inputs] if isinstance(inputs, Tensor) else list(inputs)
        if not inputs:
            raise RuntimeError("backward(): the inputs argument cannot be empty")
        for t, g in zip(inputs, grad(roots, inputs, list(weights), keep, create_graph,
                                     allow_unused=True)):
            if g is not None:
                g = g if create_graph else Tensor._wrap(xp(g.array).array(g.array, copy=True))
                t.grad = g if t.grad is None else t.grad + g
        return
    for k, (root, weight) in enumerate(zip(roots, weights)):
        root_grad = _root_gradient(root, weight, "backward()")
        _run(root, root_grad, retain_graph=keep or k < len(roots) - 1,
             create_graph=create_graph, wanted=None)


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False,
         only_inputs=True, allow_unused=False, materialize_grads=False):
    """d outputs / d inputs as a tuple of tensors, without touching any `.grad` (an unused
    input's is None, or zeros with materialize_grads; only_inputs: PyTorch's ignored flag)."""
    outputs = [outputs] if isinstance(outputs, Tensor) else list(outputs)
    single = isinstance(inputs, Tensor)
    inputs = [inputs] if single else list(inputs)
    if grad_outputs is None or isinstance(grad_outputs, Tensor):
        grad_outputs = [grad_outputs] * len(outputs)
    for t in inputs:
        if not t.requires_grad:
            raise RuntimeError(f"autograd.grad: an input of shape {tuple(t.shape)} does not require grad")
    wanted = {id(t): i for i, t in enumerate(inputs)}
    results = [None] * len(inputs)
    keep = create_graph if retain_graph is None else retain_graph
    for k, (out, g) in enumerate(zip(outputs, grad_outputs)):
        root_grad = _root_gradient(out, g, "autograd.grad")
        last = k == len(outputs) - 1
        found = _run(out, root_grad, retain_graph=keep or not last,
                     create_graph=create_graph, wanted=(wanted, inputs))
        for i, value in found.items():
            results[i] = value if results[i] is None else results[i] + value
    for i, value in enumerate(results):
        if value is None and materialize_grads:
            results[i] = xp(inputs[i].array).zeros_like(inputs[i].array)
        elif value is None and not allow_unused:
            raise RuntimeError(f"autograd.grad: input {i} (shape {inputs[i].shape}) was not used "
                               "to compute the outputs; pass allow_unused=True to get None")
    return tuple(_as_tensor(r) if r is not None else None for r in results)


def _root_gradient(tensor: Tensor, gradient, caller: str):
    if not tensor.requires_grad:
        raise RuntimeError(f"{caller}: the tensor does not require grad and has no grad_fn "
                           "(did you build it under no_grad, or from tensors without "
                           "requires_grad=True?)")
    if gradient is None:
        if tensor.array.size != 1:
            raise RuntimeError(f"{caller}: grad can be implicitly created only for scalar "
                               f"outputs, but the output has shape {tuple(tensor.shape)}; pass a "
                               "gradient of that shape")
        return xp(tensor.array).ones_like(tensor.array)
    gradient = gradient.array if isinstance(gradient, Tensor) else gradient
    if gradient.shape != tensor.shape:
        raise RuntimeError(f"{caller}: gradient has shape {tuple(gradient.shape)} but the output "
                           f"has shape {tuple(tensor.shape)}")
    return gradient


def _as_tensor(value):
    return value if isinstance(value, (Tensor, RowSparseTensor)) else Tensor._wrap(value)


def _consumer_counts(root_node) -> dict:
    """How many times each node's output is used by nodes reachable from `root_node`."""
    counts = {root_node: 0}
    stack = [root_node]
    while stack:
        node = stack.pop()
        if node.inputs is None:
            raise RuntimeError(FREED)
        for parent in node.parents:
            if parent is not None:
                if parent in counts:
                    counts[parent] += 1
                else:
                    counts[parent] = 1
                    stack.append(parent)
    return counts


def _run(root: Tensor, root_grad, retain_graph: bool, create_graph: bool, wanted):
    """One backward pass from `root`. With `wanted` = (ids → index, tensors), gradients
    of those tensors are returned instead of accumulated into `.grad`."""
    found = {}
    if create_graph:
        root_grad = _as_tensor(root_grad)
    if root.grad_fn is None:  # the root is a leaf itself
        if id(root) in hooks.leaf_hooks:
            root_grad = _tensor_hooks(hooks.leaf_hooks[id(root)], root_grad, create_graph)
        _deliver(root, xp(root_grad).array(root_grad, copy=True) if not create_graph else root_grad,
                 wanted, found, create_graph, set())
        return found
    wanted_nodes = {} if wanted is None else {  # non-leaf tensors asked for, by their node
        t.grad_fn: i for i, t in enumerate(wanted[1]) if t.grad_fn is not None}
    counts = _consumer_counts(root.grad_fn)
    # leaves with post-accumulate hooks: [gradients still to come, gradients expected]
    waiting = _accumulate_waits(counts) if hooks.accumulate_hooks and wanted is None else None
    pending = {root.grad_fn: root_grad}
    delivered = {id(root_grad)}  # ids of gradient arrays already owned by some leaf
    ready = [root.grad_fn]
    held = {}  # leaves with tensor hooks: their gradient is summed, hooked, then delivered
    # the hooks registered when the pass starts (with none, each test reads a local)
    op_hooks, on_nodes, on_leaves = hooks.active, hooks.node_hooks, hooks.leaf_hooks
    previous_mode = grad_mode.state.enabled
    grad_mode.state.enabled = create_graph
    try:
        while ready:
            node = ready.pop()
            out_grad = pending.pop(node)
            if on_nodes:
                if node.grad_hooks:
                    out_grad = _tensor_hooks(node.grad_hooks, out_grad, create_graph)
                if node.pre_hooks:
                    (out_grad,) = _node_hooks(node.pre_hooks, (out_grad,), create_graph)
            if node in wanted_nodes:
                found[wanted_nodes[node]] = out_grad
            if op_hooks:
                input_grads = hooks.run_backward(
                    node, out_grad, lambda n, g: node_backward(n, g, create_graph))
            else:
                input_grads = node_backward(node, out_grad, create_graph)
            if on_nodes and node.post_hooks:
                input_grads = _node_hooks(node.post_hooks, _shaped(node, input_grads),
                                          create_graph, (out_grad,))
            for t, parent, g in zip(node.inputs, node.parents, input_grads):
                if g is None or not t._requires_grad:
                    continue
                if g.shape != t.array.shape:
                    g = sum_to(g, t.array.shape)
                if parent is None:
                    if t.grad_fn is not None:  # a constant here, given a node by x[k] = v later
                        continue
                    if on_leaves and id(t) in on_leaves:
                        held[t] = held[t] + g if t in held else g
                    else:
                        _deliver(t, g, wanted, found, create_graph, delivered)
                        if waiting and t in waiting:
                            _count_down(t, waiting)
                    continue
                g = dense(g)
                pending[parent] = pending[parent] + g if parent in pending else g
                counts[parent] -= 1
                if counts[parent] == 0:
                    ready.append(parent)
            if not retain_graph:
                node.inputs = node.parents = node.saved = node.out = None
                node.__dict__.pop("aliases", None)
        for leaf, g in held.items():
            g = _tensor_hooks(hooks.leaf_hooks.get(id(leaf), {}), g, create_graph)
            _deliver(leaf, g, wanted, found, create_graph, delivered)
            if waiting and leaf in waiting:
                waiting[leaf][0] = 0
        for leaf, (left, expected) in (waiting or {}).items():
            if left < expected:  # tensor-hooked (delivered just now), or an op gave None
                hooks.run_accumulate_hooks(leaf)
    finally:
        grad_mode.state.enabled = previous_mode
    return found


def _accumulate_waits(nodes) -> dict:
    """For each leaf with post-accumulate hooks: how many gradients this pass sends it."""
    waits = {}
    for node in nodes:
        for t in node.inputs:
            if t.grad_fn is None and t.requires_grad and id(t) in hooks.accumulate_hooks:
                left, expected = waits.get(t, (0, 0))
                waits[t] = [left + 1, expected + 1]
    return waits


def _count_down(leaf, waiting: dict) -> None:
    """One more gradient is in `leaf.grad`; after the last one its hooks run."""
    left = waiting[leaf][0] - 1
    if left:
        waiting[leaf][0] = left
    else:
        del waiting[leaf]
        hooks.run_accumulate_hooks(leaf)


def _tensor_hooks(tensor_hooks: dict, grad, create_graph):
    """A tensor's gradient passed through its hooks (`tensor.register_hook`), which see
    it as a tensor; the engine goes on with arrays unless it builds a graph."""
    def unwrap(t):
        return t if create_graph or not isinstance(t, Tensor) else t.array
    return hooks.run_tensor_hooks(tensor_hooks, grad, _as_tensor, unwrap)


def _node_hooks(node_hooks: dict, grads: tuple, create_graph, grad_outputs=None) -> tuple:
    """A node's own hooks (`grad_fn.register_prehook`/`register_hook`) on its gradients,
    which they see as tensors (None stays None)."""
    def wrap(gs):
        return tuple(None if g is None else _as_tensor(g) for g in gs)
    more = () if grad_outputs is None else (wrap(grad_outputs),)
    result = hooks.run_node_hooks(node_hooks, wrap(grads), *more)
    return tuple(g if g is None or create_graph or not isinstance(g, Tensor) else g.array
                 for g in result)


def _shaped(node, input_grads) -> tuple:
    """The node's input gradients as its hooks see them: summed to each input's shape,
    None for an input that wants no gradient."""
    return tuple(None if g is None or not t._requires_grad else
                 g if g.shape == t.array.shape else sum_to(g, t.array.shape)
                 for t, g in zip(node.inputs, input_grads))


def node_backward(node, out_grad, create_graph=False):
    """One node's local vector-Jacobian product: its backward on arrays, or on tensors when
    building a graph of it. What the engine calls for every node; `explain.trace` calls it
    to show each step of the chain rule."""
    if node.saved is None:
        raise RuntimeError(FREED)
    if versions.clock != node.saved_at:  # something changed in place, or hooks packed saves
        if type(node.saved) is PackedSaved:  # (then saved_at is -1: the packed keep its own)
            packed = node.saved
            node.saved, node.saved_at = packed.unpack(), packed.saved_at
            try:
                return node_backward(node, out_grad, create_graph)
            finally:
                node.saved, node.saved_at = packed, -1
        versions.check_saved(node.name, node.saved_arrays, node.saved_at)
    if not create_graph:
        return node.backward(out_grad)
    arrays = node.saved
    node.saved = _saved_as_tensors(node)
    try:
        return node.backward(out_grad)
    finally:
        node.saved = arrays


def _saved_as_tensors(node):
    """Saved arrays as tensors wired into the graph: an input's array becomes that input
    tensor, the output array a tensor made by this node, anything else a constant."""
    by_id = {}
    for t in node.inputs:
        by_id.setdefault(id(t.array), t)
    for view, i in getattr(node, "aliases", ()):  # see op._separate_shared_arrays
        by_id[id(view)] = node.inputs[i]
    output = None
    tensors = []
    for array in node.saved:
        if id(array) in by_id:
            tensors.append(by_id[id(array)])
        elif array is node.out:
            if output is None:
                output = Tensor._wrap(array)
                output.grad_fn = node
                output.requires_grad = True
            tensors.append(output)
        else:
            tensors.append(array)
    return tuple(tensors)


def _deliver(leaf: Tensor, g, wanted, found, create_graph, delivered):
    """A gradient arriving at a leaf: into `.grad`, or into the results of autograd.grad.
    It has the leaf's dtype (a float32 leaf used with float64 tensors gets a float32 one)."""
    if not isinstance(g, RowSparseTensor) and g.dtype != leaf.dtype:
        g = g.to(leaf.dtype) if create_graph else g.astype(leaf.dtype)
    if wanted is not None:
        i = wanted[0].get(id(leaf))
        if i is not None:
            found[i] = g if i not in found else found[i] + g
        return
    if create_graph:
        leaf.grad = g if leaf.grad is None else leaf.grad + g
    elif isinstance(g, RowSparseTensor) or isinstance(leaf.grad, RowSparseTensor):
        # sparse + sparse stays sparse; with a dense gradient the sum is a new dense array
        if leaf.grad is None:
            leaf.grad = g
        else:
            total = (leaf.grad if leaf.grad.is_sparse else leaf.grad.array) + g
            leaf.grad = total if isinstance(total, RowSparseTensor) else Tensor._wrap(total)
    elif leaf.grad is None:
        # The leaf must own its gradient (user code may update it in place): copy views and
        # arrays already handed to another leaf, keep fresh arrays as they are.
        if g.base is not None or id(g) in delivered:
            g = xp(g).array(g, copy=True)
        delivered.add(id(g))
        leaf.grad = Tensor._wrap(g)
    else:
        leaf.grad = Tensor._wrap(xp(g).asarray(leaf.grad.array + g))  # 0-d: array, not scalar
