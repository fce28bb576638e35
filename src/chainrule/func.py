"""`torch.func`: function transforms (grad, grad_and_value, vjp, jvp, jacrev, jacfwd,
hessian, vmap) and `functional_call`, PyTorch's names and results.

chainrule has no functorch levels. A transform runs the function on fresh tensors that
require grad and differentiates with `autograd.grad`; when its inputs already carry a
graph (an enclosing transform is differentiating them) it keeps the graph, so transforms
nest: `jacrev(grad(f))`, `hessian(f)`, `vmap(grad(f))`. `vmap` runs the function once per
example and stacks the results: the same numbers as a batched rule, as a loop.

Inputs of `grad`, `vjp` and the outputs of `vmap` may be nested dicts, lists and tuples of
tensors ("pytrees"), as in PyTorch, e.g. the parameters of a model as a dict:

    params = {k: v.detach() for k, v in model.named_parameters()}
    def loss(params, x, y):
        return F.cross_entropy(functional_call(model, params, (x[None],)), y[None])
    per_example = vmap(grad(loss), in_dims=(None, 0, 0))(params, xs, ys)
"""
from __future__ import annotations

from .autograd.engine import grad as autograd_grad
from .autograd.grad_mode import enable_grad
from .composites.functions import stack
from .creation import zeros_like
from .diagnostics import functional as autograd_functional
from .tensor import Tensor


# --- pytrees: nested dicts, lists and tuples with tensors (or other values) as leaves ----
def _flatten(tree) -> tuple[list, object]:
    """(the leaves in order, a function that builds the same structure from new leaves)."""
    if isinstance(tree, dict):
        parts = [_flatten(v) for v in tree.values()]
        keys = list(tree)
        return [leaf for leaves, _ in parts for leaf in leaves], \
            lambda new: dict(zip(keys, _rebuild_parts(parts, new)))
    if isinstance(tree, (list, tuple)):
        parts = [_flatten(v) for v in tree]
        kind = type(tree)
        return [leaf for leaves, _ in parts for leaf in leaves], \
            lambda new: kind(_rebuild_parts(parts, new))
    return [tree], lambda new: new[0]


def _rebuild_parts(parts, new: list) -> list:
    built, start = [], 0
    for leaves, rebuild in parts:
        built.append(rebuild(new[start:start + len(leaves)]))
        start += len(leaves)
    return built


def _carries_graph(leaves) -> bool:
    """Whether an enclosing transform differentiates these inputs (keep the graph then)."""
    return any(isinstance(t, Tensor) and t.requires_grad for t in leaves)


def _tracked(leaf):
    """A tensor to differentiate with respect to, standing for `leaf`: a new leaf, or a
    copy in the graph when `leaf` is already being differentiated by an outer transform."""
    if not isinstance(leaf, Tensor) or leaf.dtype.kind != "f":
        return leaf
    return leaf.clone() if leaf.requires_grad else leaf.detach().requires_grad_(True)


def _gradients(outputs, leaves: list, keep_graph: bool, weights=None) -> list:
    """d outputs / d leaf for each of `leaves` (the `_tracked` ones; zeros where the outputs
    do not depend on one, None for a leaf that is not a tensor), the graph kept for later
    calls (vjp) and, with keep_graph, differentiable in turn."""
    inputs = [t for t in leaves if isinstance(t, Tensor) and t.requires_grad]
    found = iter(autograd_grad(outputs, inputs, weights, retain_graph=True,
                               create_graph=keep_graph, allow_unused=True))
    grads = [next(found) if isinstance(t, Tensor) and t.requires_grad else None for t in leaves]
    return [zeros_like(t) if g is None and isinstance(t, Tensor) else g
            for g, t in zip(grads, leaves)]


def _argnums(argnums, count: int, caller: str) -> tuple:
    nums = (argnums,) if isinstance(argnums, int) else tuple(argnums)
    for n in nums:
        if not -count <= n < count:
            raise RuntimeError(f"{caller}: got argnums={argnums} but only {count} positional "
                               "inputs")
    return tuple(n % count for n in nums)


# --- gradients -----------------------------------------------------------------------------
def grad_and_value(func, argnums=0, has_aux: bool = False):
    """A function returning (d func / d args[argnums], func(*args)); func returns one
    element (and an auxiliary value with has_aux, given back beside it)."""
    def transformed(*args, **kwargs):
        nums = _argnums(argnums, len(args), "grad")
        args = list(args)
        trees, outer = [], False
        for n in nums:
            leaves, rebuild = _flatten(args[n])
            if any(isinstance(t, Tensor) and t.dtype.kind != "f" for t in leaves):
                raise RuntimeError("grad: only Tensors of floating point dtype can require "
                                   f"gradients (argument {n})")
            outer = outer or _carries_graph(leaves)
            fresh = [_tracked(leaf) for leaf in leaves]
            args[n] = rebuild(fresh)
            trees.append((fresh, rebuild))
        with enable_grad():
            result = func(*args, **kwargs)
        output, aux = result if has_aux else (result, None)
        if not isinstance(output, Tensor) or output.numel() != 1:
            raise RuntimeError("grad(f)(*args): expected f(*args) to return a tensor of one "
                               f"element, got {getattr(output, 'shape', type(output).__name__)}")
        found = iter(_gradients(output, [t for fresh, _ in trees for t in fresh], outer))
        grads = [rebuild([next(found) for _ in fresh]) for fresh, rebuild in trees]
        grads = grads[0] if isinstance(argnums, int) else tuple(grads)
        value = output if outer else output.detach()
        return (grads, (value, aux)) if has_aux else (grads, value)
    return transformed


def grad(func, argnums=0, has_aux: bool = False):
    """A function returning d func / d args[argnums] (with has_aux: (gradient, aux))."""
    both = grad_and_value(func, argnums, has_aux)

    def transformed(*args, **kwargs):
        grads, value = both(*args, **kwargs)
        return (grads, value[1]) if has_aux else grads
    return transformed


def vjp(func, *primals, has_aux: bool = False):
    """(func(*primals), vjp_fn[, aux]): vjp_fn(cotangents) gives cotangentsᵀ·J for every
    primal, shaped like the primals."""
    leaves, rebuild = _flatten(list(primals))
    outer = _carries_graph(leaves)
    fresh = [_tracked(leaf) for leaf in leaves]
    with enable_grad():
        result = func(*rebuild(fresh))
    output, aux = result if has_aux else (result, None)
    outputs, _ = _flatten(output)

    def vjp_fn(cotangents):
        return tuple(rebuild(_gradients(outputs, fresh, outer, _flatten(cotangents)[0])))
    shown = output if outer else _detached(output)
    return (shown, vjp_fn, aux) if has_aux else (shown, vjp_fn)


def _detached(tree):
    leaves, rebuild = _flatten(tree)
    return rebuild([t.detach() if isinstance(t, Tensor) else t for t in leaves])


def jvp(func, primals, tangents, *, has_aux: bool = False):
    """(func(*primals), J·tangents), by the double-backward trick of autograd.functional."""
    if has_aux:
        raise NotImplementedError("jvp(has_aux=True) is not supported")
    outer = _carries_graph(_flatten(primals)[0])
    return autograd_functional.jvp(func, tuple(primals), tuple(tangents), create_graph=outer)


def jacrev(func, argnums=0, has_aux: bool = False):
    """A function returning the Jacobian of func (a tensor) with respect to args[argnums],
    shaped output.shape + input.shape."""
    if has_aux:
        raise NotImplementedError("jacrev(has_aux=True) is not supported")

    def transformed(*args):
        nums = _argnums(argnums, len(args), "jacrev")
        outer = _carries_graph(args[n] for n in nums)
        args = list(args)
        for n in nums:
            args[n] = _tracked(args[n])
        with enable_grad():
            output = func(*args)
        inputs = [args[n] for n in nums]
        rows = [autograd_grad(element, inputs, retain_graph=True, create_graph=outer,
                              allow_unused=True) for element in output.reshape(-1)]
        jacobians = tuple(stack([r[k] if r[k] is not None else zeros_like(x)
                                               for r in rows]).reshape(*output.shape, *x.shape)
                          for k, x in enumerate(inputs))
        jacobians = jacobians if outer else tuple(j.detach() for j in jacobians)
        return jacobians[0] if isinstance(argnums, int) else jacobians
    return transformed


jacfwd = jacrev  # the same Jacobian (computed here in reverse mode)


def hessian(func, argnums=0):
    """The Jacobian of the Jacobian: second derivatives of a function of one element."""
    return jacrev(jacrev(func, argnums), argnums)


# --- vmap ------------------------------------------------------------------------------------
def vmap(func, in_dims=0, out_dims=0, randomness: str = "error", *, chunk_size=None):
    """func mapped over a dimension of its inputs (in_dims: one per argument, or one for
    all; None leaves an argument whole), the results stacked along out_dims."""
    def mapped(*args, **kwargs):
        dims = in_dims if isinstance(in_dims, (tuple, list)) else (in_dims,) * len(args)
        if len(dims) != len(args):
            raise ValueError(f"vmap: in_dims has {len(dims)} entries but the function got "
                             f"{len(args)} positional arguments")
        sizes = {leaf.shape[d] for arg, d in zip(args, dims) if d is not None
                 for leaf in _flatten(arg)[0] if isinstance(leaf, Tensor)}
        if len(sizes) != 1 or 0 in sizes:
            raise ValueError("vmap: the mapped inputs must have one size along their in_dims, "
                             f"got sizes {sorted(sizes)}" if len(sizes) > 1 else
                             "vmap: at least one argument must be mapped (in_dims not None)"
                             if not sizes else "vmap: the mapped dimension is empty (size 0); "
                             "chainrule's vmap runs the function once per example")
        results = [func(*(_example(arg, d, i) for arg, d in zip(args, dims)), **kwargs)
                   for i in range(sizes.pop())]
        columns, rebuild = _flatten(results[0])
        per_leaf = zip(*(_flatten(r)[0] for r in results))
        outs = out_dims if isinstance(out_dims, (tuple, list)) else (out_dims,) * len(columns)
        return rebuild([stack(list(values), dim=d)
                        for values, d in zip(per_leaf, outs)])
    return mapped


def _example(arg, dim, index: int):
    """Example `index` of an argument mapped along `dim` (the argument itself for None)."""
    if dim is None:
        return arg
    leaves, rebuild = _flatten(arg)
    return rebuild([t.select(dim, index) if isinstance(t, Tensor) else t for t in leaves])


# --- modules as functions ------------------------------------------------------------------
def functional_call(module, parameter_and_buffer_dicts, args=None, kwargs=None, *,
                    tie_weights: bool = True, strict: bool = False):
    """module(*args, **kwargs) with some of its parameters and buffers replaced, by dotted
    name, by the given tensors for this call only (tied weights follow each other)."""
    dicts = parameter_and_buffer_dicts if isinstance(parameter_and_buffer_dicts, (tuple, list)) \
        else (parameter_and_buffer_dicts,)
    values = {}
    for given in dicts:
        repeated = sorted(set(values) & set(given))
        if repeated:
            raise ValueError(f"functional_call got multiple values for keys {repeated}")
        values.update(given)
    if strict:
        names = {n for n, _ in module.named_parameters()} | {n for n, _ in module.named_buffers()}
        if set(values) != names:
            raise RuntimeError("functional_call (strict): missing keys "
                               f"{sorted(names - set(values))}, unexpected keys "
                               f"{sorted(set(values) - names)}")
    args = () if args is None else (args,) if not isinstance(args, tuple) else args
    swapped = []
    try:
        for name, value in values.items():
            for owner, table, leaf in _places(module, name, tie_weights):
                swapped.append((owner, table, leaf, table.get(leaf, _ABSENT)))
                table[leaf] = value
                owner.__dict__[leaf] = value  # a module's tensors are its attributes too
        return module(*args, **(kwargs or {}))
    finally:
        for owner, table, leaf, old in reversed(swapped):
            if old is _ABSENT:  # a name the module did not have: removed again
                table.pop(leaf, None)
                owner.__dict__.pop(leaf, None)
            else:
                table[leaf] = old
                owner.__dict__[leaf] = old


_ABSENT = object()  # what functional_call puts back for a name the module did not have


def _places(module, name: str, tie_weights: bool) -> list:
    """Where the tensor called `name` sits: (module, its _parameters or _buffers, key), and,
    with tie_weights, every other place holding the same tensor."""
    prefix, _, leaf = name.rpartition(".")
    owner = module.get_submodule(prefix)
    for table in (owner._parameters, owner._buffers):
        if leaf in table:
            break
    else:  # not a parameter or buffer: an attribute for this call, as PyTorch sets it
        return [(owner, owner.__dict__, leaf)]
    if not tie_weights or table[leaf] is None:
        return [(owner, table, leaf)]
    original = table[leaf]
    return [(m, t, key) for m in module.modules() for t in (m._parameters, m._buffers)
            for key, value in t.items() if value is original]


def stack_module_state(models) -> tuple[dict, dict]:
    """The parameters and buffers of same-shaped models, each stacked along a new first
    dimension: (params, buffers), the parameters as new leaves that require grad."""
    models = list(models)
    stacked = []
    for kind in ("named_parameters", "named_buffers"):
        names = [n for n, _ in getattr(models[0], kind)()]
        tables = [dict(getattr(m, kind)()) for m in models]
        stacked.append({n: stack([t[n].detach() for t in tables]) for n in names})
    for tensor in stacked[0].values():
        tensor.requires_grad_(True)
    return stacked[0], stacked[1]


def linearize(func, *primals):
    """(func(*primals), jvp_fn): jvp_fn(*tangents) is J·tangents at the primals."""
    output = func(*primals)
    return output, lambda *tangents: jvp(func, primals, tangents)[1]


def functionalize(func, *, remove: str = "mutations"):
    """`func` itself: functionalizing removes in-place updates without changing results,
    and chainrule runs the function as written."""
    return func


def debug_unwrap(tensor, *, recurse: bool = True):
    """The tensor itself (chainrule's transforms do not wrap tensors)."""
    return tensor


def replace_all_batch_norm_modules_(root):
    """Batch norms under `root` stop tracking running statistics (they use the batch's),
    in place, as for vmap over examples; returns `root`."""
    for module in root.modules():
        if hasattr(module, "track_running_stats") and hasattr(module, "running_mean"):
            module.running_mean = module.running_var = None
            module.track_running_stats = False
    return root
