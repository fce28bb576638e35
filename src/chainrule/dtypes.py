"""PyTorch's dtype names and questions, over NumPy's dtypes.

A chainrule dtype *is* a NumPy dtype (`cr.float32 == numpy.dtype("float32")`), so NumPy's
`finfo`/`iinfo` answer PyTorch's questions about ranges and precision. Promotion follows
PyTorch, not NumPy: an integer meeting a float takes the float's dtype (NumPy widens
int64 + float32 to float64), and a Python float is the default dtype.
"""
from __future__ import annotations

import builtins
import numbers

import numpy

from . import backend

float16 = half = backend.float16
float32 = float = backend.float32  # noqa: A001 - PyTorch's names
float64 = double = backend.float64
int8 = numpy.dtype("int8")
int16 = short = numpy.dtype("int16")
int32 = int = backend.int32  # noqa: A001
int64 = long = backend.int64
uint8 = backend.uint8
bool = backend.bool_  # noqa: A001

dtype = numpy.dtype  # what `isinstance(x.dtype, cr.dtype)` asks
finfo = numpy.finfo
iinfo = numpy.iinfo


def is_floating_point(input) -> builtins.bool:  # noqa: A002
    return numpy.dtype(input.dtype).kind == "f"


def is_complex(input) -> builtins.bool:  # noqa: A002
    return numpy.dtype(input.dtype).kind == "c"


def promote_types(a, b) -> numpy.dtype:
    """The dtype of `a op b` for tensors of dtypes a and b, as PyTorch."""
    a, b = numpy.dtype(a), numpy.dtype(b)
    if (a.kind == "f") != (b.kind == "f"):
        return a if a.kind == "f" else b
    return numpy.promote_types(a, b)


def _dtype_of(value) -> numpy.dtype:
    if hasattr(value, "dtype"):
        return numpy.dtype(value.dtype)
    if isinstance(value, builtins.bool):
        return bool
    if isinstance(value, numbers.Integral):
        return int64
    return backend.default_dtype()


def result_type(a, b) -> numpy.dtype:
    """The dtype of `a op b` where each is a tensor or a Python number: a number takes part
    only through its kind (an int keeps an int tensor's dtype, a float makes it float)."""
    da, db = _dtype_of(a), _dtype_of(b)
    if not hasattr(a, "dtype") and hasattr(b, "dtype"):
        a, b, da, db = b, a, db, da
    if hasattr(a, "dtype") and not hasattr(b, "dtype"):
        return db if db.kind == "f" and da.kind != "f" else da
    return promote_types(da, db)


def can_cast(from_, to) -> builtins.bool:
    """Whether PyTorch's type promotion allows the cast (no float to int, no to bool)."""
    rank = {"b": 0, "u": 1, "i": 1, "f": 2, "c": 3}
    return rank[numpy.dtype(from_).kind] <= rank[numpy.dtype(to).kind]


