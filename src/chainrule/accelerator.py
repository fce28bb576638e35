"""`cr.accelerator`: PyTorch's device-agnostic questions. The one accelerator chainrule
knows is CUDA through CuPy; without it there is none (`current_accelerator()` is None)."""
from __future__ import annotations

from . import cuda
from .device import device


def is_available() -> bool:
    return cuda.is_available()


def current_accelerator(check_available: bool = False) -> device | None:
    return device("cuda") if cuda.is_available() else None


def device_count() -> int:
    return cuda.device_count()


def current_device_index() -> int:
    return cuda.current_device()


def synchronize(where=None) -> None:
    cuda.synchronize(where)
