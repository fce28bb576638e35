"""PyTorch's names for the nodes that public functions make: `torch.nll_loss` composed of
several ops prints `grad_fn=<NllLossBackward0>`, as in PyTorch, not the name of its last
op (an op's own name is its `torch_name`, or its class name + "Backward0")."""
from __future__ import annotations

import functools

from ..tensor import Tensor


def named(result, torch_name: str):
    """`result` (a tensor or a tuple of them) with its node named as PyTorch names the
    function that made it: a loss composed of several ops prints
    `grad_fn=<NllLossBackward0>`, as in PyTorch."""
    for t in result if isinstance(result, (tuple, list)) else (result,):
        if isinstance(t, Tensor) and t.grad_fn is not None:
            t.grad_fn.torch_name = torch_name
    return result


def pytorch_node(torch_name: str):
    """Decorates a public function whose results PyTorch makes with a `torch_name` node
    (a result that is one of the arguments, returned as it is, keeps its own node)."""
    def decorate(function):
        @functools.wraps(function)
        def naming(*args, **kwargs):
            result = function(*args, **kwargs)
            return result if any(result is a for a in args) else named(result, torch_name)
        return naming
    return decorate


def index_node_name(key) -> str:
    """PyTorch's node for x[key]: Index for an array key, else its last basic step (an int
    selects, a slice slices, None unsqueezes)."""
    parts = key if isinstance(key, tuple) else (key,)
    if any(getattr(part, "ndim", 0) > 0 for part in parts):
        return "IndexBackward0"
    steps = ["UnsqueezeBackward0" if part is None else "SliceBackward0"
             if isinstance(part, slice) else "SelectBackward0"
             for part in parts if part is not Ellipsis and part != slice(None)]
    return steps[-1] if steps else "AliasBackward0"
