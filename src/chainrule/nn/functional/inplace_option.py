"""`inplace=True` on torch.nn.functional's activations and dropouts, with PyTorch's meaning:
x itself is overwritten with the result and returned (`F.relu(x, inplace=True) is x`).

`honours_inplace(function)` wraps an out-of-place function: with inplace=True the call goes
through composites' in-place rule, as `F.relu_` does (outside the graph the result is
written into x's array and its version bumped; inside the graph x becomes the result's
node; a leaf that requires grad refuses).
"""
from __future__ import annotations

import functools
import inspect

from ...composites import inplace as in_place_form


def honours_inplace(function):
    """`function(x, ..., inplace=False)` whose inplace flag, by keyword or by position,
    writes the result into x and returns x."""
    signature = inspect.signature(function)
    writes_into_input = in_place_form(function, f"{function.__name__}_")
    flag_position = list(signature.parameters).index("inplace")

    @functools.wraps(function)
    def dispatch(*args, **kwargs):
        if len(args) <= flag_position and not kwargs.get("inplace"):  # the common call
            kwargs.pop("inplace", None)
            return function(*args, **kwargs)
        bound = signature.bind(*args, **kwargs)
        if not bound.arguments.pop("inplace", False):
            return function(*bound.args, **bound.kwargs)
        return writes_into_input(*bound.args, **bound.kwargs)
    return dispatch
