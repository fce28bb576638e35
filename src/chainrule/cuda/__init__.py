"""`cr.cuda`: PyTorch's questions about the GPU, answered truthfully.

chainrule runs on a GPU through CuPy, so CUDA "is available" exactly when CuPy is
installed and finds a GPU. Without one, the questions that real programs ask first
(`is_available()`, `device_count()`) answer False and 0, seeding and cache calls do
nothing, and putting a tensor on "cuda" is a one-line RuntimeError.
"""
from __future__ import annotations

from .. import backend
from ..device import device
from . import amp  # noqa: F401 - torch.cuda.amp.autocast / GradScaler


def is_available() -> bool:
    return backend.gpu_count() > 0


def device_count() -> int:
    return backend.gpu_count()


def _require(what: str) -> None:
    if not is_available():
        raise RuntimeError(f"cuda.{what}(): CUDA is not available (chainrule needs CuPy and "
                           "a GPU for it)")


def current_device() -> int:
    _require("current_device")
    return backend.cupy().cuda.runtime.getDevice()


def set_device(where) -> None:
    _require("set_device")
    index = device(where).index if not isinstance(where, int) else where
    backend.cupy().cuda.runtime.setDevice(index or 0)


def get_device_name(where=None) -> str:
    _require("get_device_name")
    index = 0 if where is None else (where if isinstance(where, int) else device(where).index)
    return backend.cupy().cuda.runtime.getDeviceProperties(index or 0)["name"].decode()


def synchronize(where=None) -> None:
    if is_available():
        backend.cupy().cuda.runtime.deviceSynchronize()


def empty_cache() -> None:
    if is_available():
        backend.cupy().get_default_memory_pool().free_all_blocks()


def memory_allocated(where=None) -> int:
    return backend.cupy().get_default_memory_pool().used_bytes() if is_available() else 0


def memory_reserved(where=None) -> int:
    return backend.cupy().get_default_memory_pool().total_bytes() if is_available() else 0


def manual_seed(seed: int) -> None:
    """Seeds the GPU's generator where there is one (cr.manual_seed seeds every source)."""
    if is_available():
        backend.cupy().random.seed(seed)


manual_seed_all = manual_seed
