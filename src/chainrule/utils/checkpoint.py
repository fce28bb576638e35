"""`chainrule.utils.checkpoint`: PyTorch's activation checkpointing, for programs that use it.

PyTorch's `checkpoint(f, *args)` keeps no intermediate values of f during the forward
pass and recomputes them in the backward pass: less memory, the same numbers and
gradients. chainrule runs f once and keeps its values as usual, so a checkpointed
program computes exactly what it would without checkpointing (the results and gradients
PyTorch's recomputation reproduces, random numbers included); only the memory saving is
not there.
"""
from __future__ import annotations

import warnings

__all__ = ["checkpoint", "checkpoint_sequential"]


def checkpoint(function, *args, use_reentrant: bool | None = None, context_fn=None,
               determinism_check: str = "default", debug: bool = False,
               early_stop: bool = True, **kwargs):
    """function(*args, **kwargs), its values kept (see the module's note)."""
    if use_reentrant is None:
        warnings.warn("torch.utils.checkpoint: the use_reentrant parameter should be passed "
                      "explicitly (use_reentrant=False is recommended)", stacklevel=2)
    return function(*args, **kwargs)


def checkpoint_sequential(functions, segments: int, input, use_reentrant=None,  # noqa: A002
                          **kwargs):
    """Run `functions` (an nn.Sequential or a list of modules) in order on `input`."""
    if use_reentrant is None:
        warnings.warn("torch.utils.checkpoint: the use_reentrant parameter should be passed "
                      "explicitly (use_reentrant=False is recommended)", stacklevel=2)
    for function in (functions.children() if hasattr(functions, "children") else functions):
        input = function(input)
    return input
