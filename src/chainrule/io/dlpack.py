"""`cr.from_dlpack(x)`: a chainrule Tensor sharing the memory of any DLPack producer.

    t = cr.from_dlpack(torch_tensor)      # no copy: writes to one show in the other
    u = torch.from_dlpack(t)              # the other way (Tensor.__dlpack__)
    j = jax.numpy.from_dlpack(t)          # JAX on the CPU (JAX's arrays are read-only)

DLPack is a small C struct (pointer, shape, strides, dtype, device) passed in a capsule,
so both sides read the same bytes. A CPU producer is imported with NumPy, a CUDA one with
CuPy; the tensor wraps that array, so nothing is copied. Producers whose dtype chainrule
cannot hold (bfloat16, complex) are refused with the dtype named.
"""
from __future__ import annotations

import numpy

from .. import backend
from ..tensor import Tensor

__all__ = ["from_dlpack", "to_dlpack"]

CPU, CUDA = 1, 2          # DLPack device types (kDLCPU, kDLCUDA)


def from_dlpack(source) -> Tensor:
    """A Tensor sharing `source`'s memory (`source` has `__dlpack__`, as tensors of
    PyTorch, JAX, CuPy, NumPy arrays and chainrule Tensors do)."""
    if isinstance(source, Tensor):
        return Tensor._wrap(source.array)
    if not hasattr(source, "__dlpack__") or not hasattr(source, "__dlpack_device__"):
        raise TypeError(f"from_dlpack: a {type(source).__name__} is not a DLPack producer "
                        "(it needs __dlpack__ and __dlpack_device__; pass the tensor itself, "
                        "not a capsule)")
    device_type, index = source.__dlpack_device__()
    if device_type == CPU:
        array = _import(numpy, source)
    elif device_type == CUDA:
        array = _import(backend.cupy(), source)   # CuPy keeps it on device `index`
    else:
        raise ValueError(f"from_dlpack: DLPack device type {device_type} (index {index}) "
                         "is neither the CPU nor CUDA")
    if array.dtype not in backend.SUPPORTED_DTYPES:
        raise TypeError(f"from_dlpack: dtype {array.dtype} is not one chainrule holds "
                        "(floats, integers, booleans)")
    return Tensor._wrap(array)


def to_dlpack(tensor: Tensor):
    """The DLPack capsule of `tensor` (PyTorch's name; consumers usually take the tensor
    itself, through `Tensor.__dlpack__`)."""
    return tensor.__dlpack__()


def _import(module, source):
    try:
        return module.from_dlpack(source)
    except (BufferError, TypeError, RuntimeError) as err:  # bfloat16, complex, ...
        raise TypeError(f"from_dlpack: cannot import this {type(source).__name__}: "
                        f"{err}") from None
