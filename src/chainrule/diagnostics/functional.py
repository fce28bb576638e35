"""`torch.autograd.functional`: derivatives of a whole function, built on `autograd.grad`.

For f: inputs -> outputs with Jacobian J = ∂f/∂x, and a vector v:

    vjp(f, x, v) = vᵀJ          one backward pass with v as the output gradient
    jvp(f, x, v) = J v          the double-backward trick: g(u) = Jᵀu is linear in u, so
                                ∂(g·v)/∂u = J v, taken with one more backward pass
    jacobian(f, x) = J          one backward pass per output element (row eᵢᵀJ)
    hessian(f, x) = ∂²f/∂x²     the Jacobian of the gradient (f returns one element)
    vhp(f, x, v) = vᵀH          the gradient of (∇f · v)
    hvp(f, x, v) = H v          the double-backward trick applied to ∇f

Inputs and outputs are a Tensor or a tuple of Tensors, and each result has the same
structure as PyTorch's. Results carry no graph unless create_graph=True; an output that
does not depend on an input gives zeros there, or an error with strict=True.
"""
from __future__ import annotations

from ..autograd.engine import grad
from ..autograd.grad_mode import enable_grad
from ..creation import eye, ones_like, zeros_like
from ..ops.shape import Stack
from ..tensor import Tensor


def _as_tuple(value, what: str, caller: str):
    """(was it a tuple?, the tensors as a tuple)."""
    if isinstance(value, Tensor):
        return False, (value,)
    if isinstance(value, (tuple, list)) and all(isinstance(v, Tensor) for v in value):
        return True, tuple(value)
    raise TypeError(f"The {what} given to {caller} must be either a Tensor or a tuple of "
                    f"Tensors but the given {what} has type {type(value)}.")


def _unpack(result, was_tuple):
    """Undo the tuple wrapping for a result built over (outputs, inputs) or one of them."""
    if isinstance(was_tuple, tuple):
        outer, inner = was_tuple
        if not inner:
            result = tuple(row[0] for row in result)
        return result if outer else result[0]
    return result if was_tuple else result[0]


def _differentiable_inputs(inputs, create_graph: bool):
    """Inputs to differentiate against: connected to the caller's graph with create_graph
    (so the result can be differentiated again), otherwise fresh leaves."""
    return tuple(x.view_as(x) if create_graph and x.requires_grad
                 else x.detach().requires_grad_(True) for x in inputs)


def _detached(tensors, create_graph: bool):
    if create_graph:
        return tensors
    return tuple(_detached(t, False) if isinstance(t, tuple) else t.detach() for t in tensors)


def _check_vector(v, refs, caller: str, refs_name: str):
    """v for the product with `refs` (the inputs or outputs), or None where refs is one
    single-element tensor (then v = 1)."""
    if v is None:
        if len(refs) != 1 or refs[0].numel() != 1:
            raise RuntimeError(f"{caller}: the vector v can only be None if the {refs_name} "
                               "is a single Tensor with a single element.")
        return (ones_like(refs[0]),)
    _, v = _as_tuple(v, "v", caller)
    if len(v) != len(refs):
        raise RuntimeError(f"{caller}: v is a tuple of invalid length: should be {len(refs)} "
                           f"but got {len(v)}.")
    for i, (vi, ref) in enumerate(zip(v, refs)):
        if vi.shape != ref.shape:
            raise RuntimeError(f"{caller}: entry {i} in v has invalid size: should be "
                               f"{tuple(ref.shape)} but got {tuple(vi.shape)}.")
    return v


def _check_outputs_require_grad(outputs, strict: bool, caller: str):
    if not strict:
        return
    for i, out in enumerate(outputs):
        if not out.requires_grad:
            raise RuntimeError(f"{caller}: output {i} of the user-provided function does not "
                               "require gradients. The outputs must be computed in a "
                               "differentiable manner from the input when running in strict "
                               "mode.")


def _grads(outputs, inputs, grad_outputs, create_graph: bool):
    """d outputs / d inputs weighted by grad_outputs; None for an input nothing depends on
    (outputs that carry no graph are left out)."""
    pairs = [(o, g) for o, g in zip(outputs, grad_outputs) if o is not None and o.requires_grad]
    if not pairs:
        return (None,) * len(inputs)
    outs, gs = zip(*pairs)
    return grad(outs, inputs, gs, retain_graph=True, create_graph=create_graph,
                allow_unused=True)


def _zeros_where_unused(grads, refs, strict: bool, caller: str, unused: str):
    """Each None gradient as zeros shaped like its ref; with strict, an error instead."""
    filled = []
    for i, (g, ref) in enumerate(zip(grads, refs)):
        if g is None:
            if strict:
                raise RuntimeError(f"{caller}: {unused.format(i=i)} This is not allowed in "
                                   "strict mode.")
            g = zeros_like(ref)
        filled.append(g)
    return tuple(filled)


def _linear_in_u(outputs, inputs, strict: bool, caller: str):
    """(u, Jᵀu) with u zeros that require grad: Jᵀu is linear in u, so its gradient
    against u with weights v is J v (the double-backward trick)."""
    u = tuple(zeros_like(out).requires_grad_(True) for out in outputs)
    terms = [(out * ui).sum() for out, ui in zip(outputs, u) if out.requires_grad]
    transposed = (None,) * len(inputs)
    if terms:
        transposed = grad(sum(terms[1:], terms[0]), inputs, retain_graph=True,
                          create_graph=True, allow_unused=True)
    if strict:
        _zeros_where_unused(transposed, inputs, True, caller,
                            "the output of the user-provided function is independent of "
                            "input {i}.")
    return u, transposed


def _forward_product(outputs, inputs, v, create_graph: bool, strict: bool, caller: str):
    """J v for outputs = f(inputs), through the double-backward trick."""
    u, transposed = _linear_in_u(outputs, inputs, strict, caller)
    product = _grads(transposed, u, v, create_graph)
    return _zeros_where_unused(product, outputs, strict, caller,
                               "the gradient with respect to the input is independent of "
                               "entry {i} in the grad_outputs when using the double backward "
                               "trick to compute forward mode gradients.")


def vjp(func, inputs, v=None, create_graph=False, strict=False):
    """(func(inputs), vᵀJ); the product has the structure of the inputs."""
    with enable_grad():
        inputs_tuple, inputs = _as_tuple(inputs, "inputs", "vjp")
        inputs = _differentiable_inputs(inputs, create_graph)
        outputs_tuple, outputs = _as_tuple(func(*inputs), "outputs of the user-provided "
                                           "function", "vjp")
        _check_outputs_require_grad(outputs, strict, "vjp")
        v = _check_vector(v, outputs, "vjp", "user-provided function's output")
        product = _zeros_where_unused(_grads(outputs, inputs, v, create_graph), inputs, strict,
                                      "vjp", "the output of the user-provided function is "
                                      "independent of input {i}.")
    return (_unpack(_detached(outputs, create_graph), outputs_tuple),
            _unpack(_detached(product, create_graph), inputs_tuple))


def jvp(func, inputs, v=None, create_graph=False, strict=False):
    """(func(inputs), J v); the product has the structure of the outputs."""
    with enable_grad():
        inputs_tuple, inputs = _as_tuple(inputs, "inputs", "jvp")
        inputs = _differentiable_inputs(inputs, create_graph)
        v = _check_vector(v, inputs, "jvp", "input to the user-provided function")
        outputs_tuple, outputs = _as_tuple(func(*inputs), "outputs of the user-provided "
                                           "function", "jvp")
        _check_outputs_require_grad(outputs, strict, "jvp")
        product = _forward_product(outputs, inputs, v, create_graph, strict, "jvp")
    return (_unpack(_detached(outputs, create_graph), outputs_tuple),
            _unpack(_detached(product, create_graph), outputs_tuple))


def _jacobian_rows(out, inputs, create_graph: bool, strict: bool, index: int):
    """∂out/∂x for each input x, shaped out.shape + x.shape: row i is eᵢᵀJ."""
    _check_outputs_require_grad((out,), strict, "jacobian")
    rows = [[] for _ in inputs]
    basis = eye(out.numel(), dtype=out.dtype, device=out.device)
    for i in range(out.numel() if out.requires_grad else 0):
        row_grads = _grads((out,), inputs, (basis[i].reshape(out.shape),), create_graph)
        for k, (x, g) in enumerate(zip(inputs, row_grads)):
            if g is None and strict:
                raise RuntimeError(f"jacobian: output {index} of the user-provided function is "
                                   f"independent of input {k}. This is not allowed in strict "
                                   "mode.")
            rows[k].append(zeros_like(x) if g is None else g)
    return tuple(Stack.apply(*row, dim=0).reshape(*out.shape, *x.shape) if row
                 else x.new_zeros((*out.shape, *x.shape)) for x, row in zip(inputs, rows))


def jacobian(func, inputs, create_graph=False, strict=False, vectorize=False,
             strategy="reverse-mode"):
    """∂outputs/∂inputs: a tensor shaped output.shape + input.shape per (output, input)
    pair, in nested tuples as PyTorch returns them. vectorize and strategy are accepted;
    the rows are always computed by reverse mode, one backward pass each."""
    if strategy not in ("reverse-mode", "forward-mode"):
        raise ValueError(f"jacobian: expected strategy to be either \"forward-mode\" or "
                         f"\"reverse-mode\", got {strategy!r}")
    if strategy == "forward-mode" and not vectorize:
        raise NotImplementedError("jacobian: computing the Jacobian with forward-mode AD is "
                                  "only implemented for vectorize=True.")
    if strict and vectorize:
        raise RuntimeError("jacobian: strict=True and vectorize=True are not supported "
                           "together; set one of them to False.")
    with enable_grad():
        inputs_tuple, inputs = _as_tuple(inputs, "inputs", "jacobian")
        inputs = _differentiable_inputs(inputs, create_graph)
        outputs_tuple, outputs = _as_tuple(func(*inputs), "outputs of the user-provided "
                                           "function", "jacobian")
        matrix = tuple(_jacobian_rows(out, inputs, create_graph, strict, k)
                       for k, out in enumerate(outputs))
    return _unpack(_detached(matrix, create_graph), (outputs_tuple, inputs_tuple))


def _single_element(func, caller: str):
    """func, checked to return one tensor with one element (returned as a 0-d tensor)."""
    def scalar(*inputs):
        _, out = _as_tuple(func(*inputs), "outputs of the user-provided function", caller)
        if len(out) != 1:
            raise RuntimeError(f"The function given to {caller} should return a single Tensor")
        if out[0].numel() != 1:
            raise RuntimeError(f"The Tensor returned by the function given to {caller} should "
                               "contain a single element")
        return out[0].reshape(())
    return scalar


def hessian(func, inputs, create_graph=False, strict=False, vectorize=False,
            outer_jacobian_strategy="reverse-mode"):
    """∂²func/∂inputs²: for a function returning one element, a tensor shaped
    x.shape + y.shape per pair of inputs (x, y), in nested tuples as PyTorch."""
    inputs_tuple, inputs = _as_tuple(inputs, "inputs", "hessian")
    scalar = _single_element(func, "hessian")

    def gradient(*xs):
        return jacobian(scalar, xs, create_graph=True, strict=strict)

    second = jacobian(gradient, inputs, create_graph=create_graph, strict=strict,
                      vectorize=vectorize, strategy=outer_jacobian_strategy)
    return _unpack(second, (inputs_tuple, inputs_tuple))


def _gradient_of_scalar(func, inputs, v, create_graph: bool, strict: bool, caller: str):
    """(inputs tuple?, inputs, v, the 0-d output, its gradient with a graph) for vhp/hvp."""
    inputs_tuple, inputs = _as_tuple(inputs, "inputs", caller)
    inputs = _differentiable_inputs(inputs, create_graph)
    v = _check_vector(v, inputs, caller, "input to the user-provided function")
    out = _single_element(func, caller)(*inputs)
    _check_outputs_require_grad((out,), strict, caller)
    gradient = _grads((out,), inputs, (ones_like(out),), create_graph=True)
    gradient = _zeros_where_unused(gradient, inputs, strict, caller, "the Jacobian of the "
                                   "user-provided function is independent of input {i}.")
    return inputs_tuple, inputs, v, out, gradient


def vhp(func, inputs, v=None, create_graph=False, strict=False):
    """(func(inputs), vᵀH) for a function returning one element: the gradient of ∇f · v."""
    with enable_grad():
        inputs_tuple, inputs, v, out, gradient = _gradient_of_scalar(
            func, inputs, v, create_graph, strict, "vhp")
        product = _zeros_where_unused(_grads(gradient, inputs, v, create_graph), inputs,
                                      strict, "vhp", "the Hessian of the user-provided "
                                      "function with respect to input {i} is independent of "
                                      "the input.")
    return _detached((out,), create_graph)[0], _unpack(_detached(product, create_graph),
                                                 inputs_tuple)


def hvp(func, inputs, v=None, create_graph=False, strict=False):
    """(func(inputs), H v) for a function returning one element: the forward product of
    ∇f, through the double-backward trick (equal to vhp where H is symmetric)."""
    with enable_grad():
        inputs_tuple, inputs, v, out, gradient = _gradient_of_scalar(
            func, inputs, v, create_graph, strict, "hvp")
        product = _forward_product(gradient, inputs, v, create_graph, strict, "hvp")
    return _detached((out,), create_graph)[0], _unpack(_detached(product, create_graph),
                                                 inputs_tuple)
