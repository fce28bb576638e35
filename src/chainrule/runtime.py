"""PyTorch's process-wide switches that programs call at start-up: threads, determinism,
warnings, denormals, build flags, and `compile`.

chainrule's arithmetic is deterministic on the CPU, so these record what was asked and
answer truthfully (`set_num_threads` is kernels.threads', which sets NumPy's BLAS);
`compile(model)` returns the model unchanged (there is no compiler: the model runs
eagerly, as it would without it).
"""
from __future__ import annotations

import warnings

has_lapack = True  # NumPy's linalg
has_mkl = has_openmp = has_spectral = False

_settings = {"deterministic": False, "warn_only": False, "warn_always": False,
             "interop_threads": 1, "matmul_precision": "highest"}


class OutOfMemoryError(RuntimeError):
    """Raised where an accelerator runs out of memory (PyTorch's name)."""


class AcceleratorError(RuntimeError):
    """An error reported by the accelerator's runtime (PyTorch's name)."""


def init_num_threads() -> None:
    return None


def get_num_interop_threads() -> int:
    return _settings["interop_threads"]


def set_num_interop_threads(n: int) -> None:
    _settings["interop_threads"] = int(n)


def set_float32_matmul_precision(precision: str) -> None:
    """Recorded only: float32 products are always computed in float32 here (PyTorch's
    "highest"); "high" and "medium" would allow TensorFloat-32 or bfloat16 on a GPU."""
    if precision not in ("highest", "high", "medium"):
        warnings.warn(f"{precision} is not one of 'highest', 'high', or 'medium'; the "
                      f"set_float32_matmul_precision call has no effect", stacklevel=2)
        return
    _settings["matmul_precision"] = precision


def get_float32_matmul_precision() -> str:
    return _settings["matmul_precision"]


def use_deterministic_algorithms(mode: bool, *, warn_only: bool = False) -> None:
    """chainrule's CPU ops are deterministic already; the setting is kept for the getters."""
    _settings["deterministic"], _settings["warn_only"] = bool(mode), bool(warn_only)


def are_deterministic_algorithms_enabled() -> bool:
    return _settings["deterministic"]


def is_deterministic_algorithms_warn_only_enabled() -> bool:
    return _settings["warn_only"]


def set_deterministic_debug_mode(mode) -> None:
    use_deterministic_algorithms(mode not in (0, "default"), warn_only=mode in (1, "warn"))


def get_deterministic_debug_mode() -> int:
    return 0 if not _settings["deterministic"] else (1 if _settings["warn_only"] else 2)


def set_warn_always(flag: bool) -> None:
    _settings["warn_always"] = bool(flag)


def is_warn_always_enabled() -> bool:
    return _settings["warn_always"]


def set_flush_denormal(mode: bool) -> bool:
    """False: flushing denormals is not supported by NumPy (as PyTorch answers where the
    CPU cannot)."""
    return False


def compile(model=None, **options):  # noqa: A001 - PyTorch's name
    """`torch.compile`: returns the model (or function) unchanged, also as a decorator."""
    if model is None:
        return lambda fn: fn
    return model


def typename(obj) -> str:
    """"torch.FloatTensor" for a tensor, else the object's qualified type name."""
    if hasattr(obj, "type") and hasattr(obj, "grad_fn"):
        return obj.type()
    kind = type(obj)
    return kind.__qualname__ if kind.__module__ == "builtins" else \
        f"{kind.__module__}.{kind.__qualname__}"
