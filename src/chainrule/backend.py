"""The array backend: which array library holds a tensor's numbers, and random numbers.

Every op asks `xp(array)` for the module that owns its inputs (NumPy on the CPU, CuPy on a
GPU), so the same code runs on both. Nothing above this module imports numpy or cupy for
array math directly.
"""
from __future__ import annotations

import random as _pyrandom
from types import ModuleType

import numpy

from .device import COMPUTES_ON, ENTERED, device

float32 = numpy.dtype("float32")
float64 = numpy.dtype("float64")
float16 = numpy.dtype("float16")
int32 = numpy.dtype("int32")
int64 = numpy.dtype("int64")
bool_ = numpy.dtype("bool")
uint8 = numpy.dtype("uint8")

SUPPORTED_DTYPES = (float16, float32, float64, int32, int64, bool_, uint8,
                    numpy.dtype("int8"), numpy.dtype("int16"))

_default_dtype = float32


def default_dtype() -> numpy.dtype:
    return _default_dtype


def set_default_dtype(dtype) -> None:
    global _default_dtype
    dtype = numpy.dtype(dtype)
    if dtype.kind != "f":
        raise TypeError(f"set_default_dtype: only floating dtypes, got {dtype}")
    _default_dtype = dtype


def is_floating(dtype) -> bool:
    return dtype.kind == "f"


# --- devices ---------------------------------------------------------------------------

_cupy: ModuleType | None = None


def cupy() -> ModuleType:
    """CuPy, imported on first use; a clear one-line error where it or a GPU is missing."""
    global _cupy
    if _cupy is None:
        try:
            import cupy as cp  # noqa: PLC0415 - optional dependency
        except ImportError as err:
            raise RuntimeError("device 'cuda' is not available: it needs CuPy and a GPU "
                               "(pip install 'chainrule[gpu]'); use 'cpu'") from err
        if not _gpu_count(cp):
            raise RuntimeError("device 'cuda' is not available: CuPy found no GPU; use 'cpu'")
        _cupy = cp
    return _cupy


def _gpu_count(cp) -> int:
    try:
        return cp.cuda.runtime.getDeviceCount()
    except Exception:  # noqa: BLE001 - no driver, no device: CuPy raises its own errors
        return 0


def gpu_count() -> int:
    """How many GPUs CuPy can use (0 without CuPy or without a GPU)."""
    if _cupy is not None:
        return _gpu_count(_cupy)
    try:
        import cupy as cp  # noqa: PLC0415 - optional dependency
    except ImportError:
        return 0
    return _gpu_count(cp)


def xp(array) -> ModuleType:
    """The array module (numpy or cupy) that owns `array`."""
    if isinstance(array, numpy.ndarray) or _cupy is None:
        return numpy
    return _cupy.get_array_module(array)


def on_gpu(*arrays) -> bool:
    """Whether every one of `arrays` is a CuPy array: the condition for the fused GPU
    kernels (kernels/gpu). False at once where CuPy was never loaded."""
    return _cupy is not None and all(isinstance(a, _cupy.ndarray) for a in arrays)


def special(array) -> ModuleType:
    """The special functions (erf, gammaln, digamma, ...) for `array`'s library:
    scipy.special on the CPU, cupyx.scipy.special on a GPU."""
    if xp(array) is numpy:
        import scipy.special  # noqa: PLC0415 - loaded on first use
        return scipy.special
    import cupyx.scipy.special  # noqa: PLC0415 - optional dependency
    return cupyx.scipy.special


CPU = device("cpu")
_gpus: dict = {}


def device_of(array) -> device:
    if isinstance(array, (numpy.ndarray, numpy.generic)):
        return CPU
    index = array.device.id
    return _gpus.get(index) or _gpus.setdefault(index, device("cuda", index))


def module_for(where) -> ModuleType:
    return numpy if where is None or normalize_device(where).type == "cpu" else cupy()


_default_device = CPU


def default_device() -> device:
    """The innermost `with cr.device(...)` block's device, else set_default_device's."""
    return ENTERED[-1] if ENTERED else _default_device


def set_default_device(where) -> None:
    """The device of new tensors made without `device=` (as torch.set_default_device)."""
    global _default_device
    _default_device = CPU if where is None else device(where)


def normalize_device(where) -> device:
    """A `device` from a name, a device or None (the default device); one line for a device
    chainrule cannot compute on ("mps", "xpu", ...)."""
    if where is None:
        return default_device()
    if where is CPU or where == "cpu":
        return CPU
    where = device(where)
    if where.type not in COMPUTES_ON:
        raise RuntimeError(f"device '{where}' is not available: chainrule computes on 'cpu' "
                           "(NumPy) and 'cuda' (CuPy)")
    return where


def to_arguments(args: tuple, kwargs: dict) -> tuple:
    """(device or None, dtype or None) from any of PyTorch's `.to(...)` forms: `.to(device)`,
    `.to(dtype)`, `.to(device, dtype)`, `.to(other_tensor)`, `.to(device=, dtype=,
    non_blocking=, copy=)` (the last two change nothing here)."""
    where, dtype = kwargs.get("device"), kwargs.get("dtype")
    for arg in args:
        if isinstance(arg, (str, device, int)) and not isinstance(arg, bool):
            where = arg
        elif hasattr(arg, "dtype") and hasattr(arg, "device"):  # another tensor
            where, dtype = arg.device, arg.dtype
        elif arg is not None and not isinstance(arg, bool):  # (non_blocking, copy)
            dtype = arg
    unknown = set(kwargs) - {"device", "dtype", "non_blocking", "copy", "memory_format"}
    if unknown:
        raise TypeError(f"to(): unexpected keyword argument {sorted(unknown)[0]!r}")
    return (None if where is None else normalize_device(where),
            None if dtype is None else numpy.dtype(dtype))


def to_device(array, where):
    """Copy `array` to device `where`; no copy when it is there already."""
    where = normalize_device(where)
    here = device_of(array)
    if here.type == where.type and where.index in (None, here.index):
        return array
    if where.type == "cpu":
        return array.get()
    with cupy().cuda.Device(where.index or 0):
        return cupy().asarray(array)


# --- random numbers --------------------------------------------------------------------

def rng() -> numpy.random.Generator:
    """The one NumPy generator behind every random op (init, dropout, shuffling)."""
    return _rng


_initial_seed = int(numpy.random.SeedSequence().entropy % 2 ** 63)
_rng = numpy.random.default_rng(_initial_seed)


def manual_seed(seed: int) -> None:
    """Seed every random source chainrule uses: its generator, Python's, CuPy's."""
    global _rng, _initial_seed
    _initial_seed = int(seed)
    _rng = numpy.random.default_rng(seed)
    _pyrandom.seed(seed)
    if _cupy is not None:
        _cupy.random.seed(seed)


def uniform_like(array, dtype=float64):
    """Uniform samples on [0, 1) shaped like `array`, on its device: from chainrule's
    generator on the CPU (so that manual_seed fixes them), from CuPy's on a GPU."""
    if isinstance(array, numpy.ndarray):
        return _rng.random(array.shape, dtype=dtype)
    return cupy().random.random(array.shape, dtype=dtype)


def initial_seed() -> int:
    return _initial_seed


def get_rng_state() -> dict:
    return _rng.bit_generator.state


def set_rng_state(state: dict) -> None:
    _rng.bit_generator.state = state


# --- memory ------------------------------------------------------------------------------

def keep_freed_memory() -> bool:
    """Ask glibc's malloc to reuse freed arrays instead of returning them to the system.

    A training step allocates and frees the same large arrays again and again. By default
    glibc gives arrays above a threshold back to the kernel at once, and every new array
    then costs one page fault per 4 KiB touched (measured: ~40% of a W3 step, ~20% of W2 at
    batch 1024). Raising the mmap threshold to its maximum (32 MiB) and the trim threshold
    keeps such memory in the process for reuse, as PyTorch's caching allocators do. It is
    process-wide and only on glibc; returns whether it was applied.
    """
    import ctypes
    import ctypes.util
    import platform

    if platform.system() != "Linux" or platform.libc_ver()[0] != "glibc":
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
    except OSError:
        return False
    m_trim_threshold, m_mmap_threshold = -1, -3
    return bool(libc.mallopt(m_mmap_threshold, 32 * 2 ** 20)) and \
        bool(libc.mallopt(m_trim_threshold, 512 * 2 ** 20))


keep_freed_memory()
