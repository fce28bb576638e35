"""`torch.func`: function transforms over chainrule's engine.

    grad(f)(x)                  ∂f/∂x for a function returning one number
    grad_and_value(f)(x)        (∂f/∂x, f(x))
    jacrev(f)(x), jacfwd(f)(x)  the Jacobian (both by reverse mode here)
    hessian(f)(x)               the matrix of second derivatives
    vmap(f)(xs)                 f over the leading dim of xs, results stacked
    functional_call(m, p, x)    module m run with the tensors p in place of its own

`vmap` loops over the batch in Python and stacks the results: the same values as
PyTorch's vectorised map, one call of `f` per element (randomness="different" is what a
loop gives). `grad` nests (`grad(grad(f))`): where an argument already carries a graph,
the gradient is built as a graph too.
"""
from __future__ import annotations

import contextlib

from .autograd import enable_grad, is_grad_enabled
from .autograd import grad as autograd_grad
from .composites import functions as f
from .creation import tensor
from .diagnostics import functional
from .nn.module import Module
from .tensor import Tensor


def _positions(argnums) -> tuple:
    return tuple(argnums) if isinstance(argnums, (tuple, list)) else (argnums,)


def grad_and_value(func, argnums=0, has_aux: bool = False):
    """A function returning (the gradient of func's scalar output with respect to the
    arguments `argnums`, func's output); with has_aux, func returns (output, aux) and the
    value is that pair."""
    def transformed(*args, **kwargs):
        positions = _positions(argnums)
        nested = any(getattr(args[i], "requires_grad", False) for i in positions)
        args = list(args)
        for i in positions:
            if not args[i].requires_grad:
                args[i] = args[i].detach().requires_grad_()
        with enable_grad():
            result = func(*args, **kwargs)
            output, aux = result if has_aux else (result, None)
            if output.numel() != 1:
                raise RuntimeError(f"grad: the function must return one number, got shape "
                                   f"{tuple(output.shape)}")
            grads = autograd_grad(output, [args[i] for i in positions], create_graph=nested)
        grads = grads if isinstance(argnums, (tuple, list)) else grads[0]
        value = output if nested else output.detach()
        return grads, ((value, aux) if has_aux else value)
    return transformed


def grad(func, argnums=0, has_aux: bool = False):
    """The gradient of func's scalar output (with has_aux: (gradient, aux))."""
    both = grad_and_value(func, argnums, has_aux)

    def transformed(*args, **kwargs):
        gradient, value = both(*args, **kwargs)
        return (gradient, value[1]) if has_aux else gradient
    return transformed


def _one_argument(func, args, argnums):
    """func as a function of the argument `argnums` alone, the others fixed."""
    def of_one(x):
        return func(*args[:argnums], x, *args[argnums + 1:])
    return of_one


def jacrev(func, argnums: int = 0, *, has_aux: bool = False, chunk_size=None):
    """The Jacobian of func with respect to argument `argnums` (output dims first)."""
    def transformed(*args):
        return functional.jacobian(_one_argument(func, args, argnums), args[argnums],
                                   create_graph=is_grad_enabled() and
                                   args[argnums].requires_grad)
    return transformed


def jacfwd(func, argnums: int = 0, has_aux: bool = False, *, randomness: str = "error"):
    """The same Jacobian as jacrev (chainrule computes it in reverse mode)."""
    return jacrev(func, argnums)


def hessian(func, argnums: int = 0):
    """The matrix of second derivatives of func's scalar output."""
    def transformed(*args):
        return functional.hessian(_one_argument(func, args, argnums), args[argnums])
    return transformed


def vmap(func, in_dims=0, out_dims=0, randomness: str = "error", *, chunk_size=None):
    """func applied to each slice of its arguments along `in_dims` (None: the argument is
    shared), the results stacked along `out_dims`."""
    def batched(*args, **kwargs):
        dims = in_dims if isinstance(in_dims, (tuple, list)) else (in_dims,) * len(args)
        if len(dims) != len(args):
            raise ValueError(f"vmap: in_dims has {len(dims)} entries for {len(args)} "
                             "arguments")
        sizes = {a.shape[d] for a, d in zip(args, dims) if d is not None}
        if len(sizes) != 1:
            raise ValueError(f"vmap: the mapped dims must have one size, got {sorted(sizes)}")
        results = [func(*[a if d is None else f.index(a, (slice(None),) * (d % a.ndim) + (i,))
                          for a, d in zip(args, dims)], **kwargs)
                   for i in range(sizes.pop())]
        return _stacked(results, out_dims)
    return batched


def _stacked(results: list, out_dims):
    if isinstance(results[0], (tuple, list)):
        dims = out_dims if isinstance(out_dims, (tuple, list)) else (out_dims,) * len(results[0])
        return type(results[0])(_stacked([r[k] for r in results], dims[k])
                                for k in range(len(results[0])))
    return f.stack([r if isinstance(r, Tensor) else tensor(r) for r in results], out_dims)


@contextlib.contextmanager
def _swapped(module: Module, tensors: dict):
    """The module's parameters and buffers named in `tensors` replaced, restored after."""
    saved = []
    for name, replacement in tensors.items():
        owner_name, _, attribute = name.rpartition(".")
        owner = module.get_submodule(owner_name) if owner_name else module
        registry = owner._parameters if attribute in owner._parameters else owner._buffers
        if attribute not in registry:
            raise KeyError(f"functional_call: the module has no parameter or buffer {name!r}")
        saved.append((owner, registry, attribute, registry[attribute]))
        _place(owner, registry, attribute, replacement)
    try:
        yield
    finally:
        for owner, registry, attribute, original in reversed(saved):
            _place(owner, registry, attribute, original)


def _place(owner: Module, registry: dict, attribute: str, value) -> None:
    """A module holds each tensor twice: in its registry and as its attribute."""
    registry[attribute] = value
    object.__setattr__(owner, attribute, value)


def functional_call(module: Module, parameter_and_buffer_dicts, args=(), kwargs=None, *,
                    tie_weights: bool = True, strict: bool = False):
    """module(*args, **kwargs) computed with the given tensors in place of its parameters
    and buffers (a dict, or a tuple of dicts), the module left as it was."""
    dicts = parameter_and_buffer_dicts if isinstance(parameter_and_buffer_dicts, (tuple, list)) \
        else (parameter_and_buffer_dicts,)
    tensors = {name: t for d in dicts for name, t in d.items()}
    args = args if isinstance(args, tuple) else (args,)
    with _swapped(module, tensors):
        return module(*args, **(kwargs or {}))
