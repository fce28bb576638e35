"""PyTorch's `out=` on the functions that have it beyond the pointwise table:
`torch.matmul(a, b, out=c)`, `torch.cat(ts, out=c)`, `torch.max(x, 1, out=(values, indices))`.

The result is computed as without `out=`, then written into `out` (a tuple of tensors for
the functions that return several), which is returned, as PyTorch does; like PyTorch, it
refuses inputs that require grad while grad is on (pointwise.into says why).
"""
from __future__ import annotations

from .pointwise import into

# torch functions documented with `out=` (PyTorch 2.13) that chainrule composes elsewhere.
OUT_NAMES = (
    "addbmm", "addmm", "addmv", "addr", "all", "amax", "amin", "aminmax", "any", "baddbmm",
    "bitwise_not", "bmm", "bucketize", "cat", "clip", "column_stack", "concat",
    "concatenate", "cross", "cummax", "cummin", "cumprod", "cumsum", "diag", "dot", "dstack",
    "frexp", "gather", "gcd", "ger", "heaviside", "histc", "histogram", "hstack",
    "index_select", "inner", "inverse", "isneginf", "isposinf", "kron", "kthvalue", "lcm",
    "ldexp", "logcumsumexp", "logical_not", "logsumexp", "masked_select", "matmul",
    "matrix_power", "max", "maximum", "mean", "min", "minimum", "mm", "mode", "mv",
    "mvlgamma", "nanmean", "nanquantile", "negative", "nextafter", "nonzero", "outer",
    "polygamma", "quantile", "renorm", "row_stack", "searchsorted", "sort", "std",
    "stack", "std_mean", "take_along_dim", "topk", "tril", "triu", "var", "var_mean", "vdot",
    "vstack", "where", "svd",
    # the factories (chainrule/creation.py): torch.rand(2, 2, out=c) fills c
    "arange", "empty", "eye", "full", "linspace", "logspace", "multinomial",
    "normal", "ones", "rand", "randint", "randn", "randperm", "range", "zeros")


def with_out(function):
    """`function` taking PyTorch's `out=`: one tensor, or a tuple for tuple results."""
    def with_out_argument(*args, out=None, **kwargs):
        result = function(*args, **kwargs)
        if out is None or not isinstance(result, tuple):
            return into(out, result)
        if len(out) != len(result):
            raise TypeError(f"{function.__name__}(): out= expects a tuple of {len(result)} "
                            f"tensors, got {len(out)}")
        written = [into(o, r) for o, r in zip(out, result)]
        return type(result)(*written) if hasattr(result, "_fields") else tuple(written)
    with_out_argument.__name__ = function.__name__
    with_out_argument.__doc__ = function.__doc__
    return with_out_argument


def out_forms(namespace: dict) -> dict:
    """The functions of `namespace` named in OUT_NAMES, given `out=` where they lack it."""
    return {name: with_out(namespace[name]) for name in OUT_NAMES
            if name in namespace and not _takes_out(namespace[name])}


def _takes_out(function) -> bool:
    code = getattr(function, "__code__", None)
    return code is not None and "out" in code.co_varnames[:code.co_argcount +
                                                          code.co_kwonlyargcount]
