"""`cr.amp` (also `cr.cuda.amp`): PyTorch's mixed-precision helpers, as they behave when
mixed precision is off. chainrule computes in the dtype you choose, so `autocast` changes
nothing inside its block and `GradScaler` does not scale: `scaler.scale(loss).backward();
scaler.step(optimizer); scaler.update()` is an ordinary step, exactly as PyTorch's
GradScaler(enabled=False). Programs written for mixed precision therefore run, in full
precision."""
from __future__ import annotations

import functools


class autocast:  # noqa: N801 - PyTorch's name
    def __init__(self, device_type: str = "cuda", dtype=None, enabled: bool = True,
                 cache_enabled=None):
        self.device_type, self.fast_dtype, self.enabled = device_type, dtype, enabled

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> bool:
        return False

    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with self:
                return fn(*args, **kwargs)
        return wrapper


def is_autocast_available(device_type: str) -> bool:
    return False


class GradScaler:
    """A gradient scaler that does not scale (PyTorch's behaviour when disabled)."""

    def __init__(self, device: str = "cuda", init_scale: float = 2.0 ** 16,
                 growth_factor: float = 2.0, backoff_factor: float = 0.5,
                 growth_interval: int = 2000, enabled: bool = True):
        self._enabled = False

    def scale(self, outputs):
        return outputs

    def unscale_(self, optimizer) -> None:
        return None

    def step(self, optimizer, *args, **kwargs):
        return optimizer.step(*args, **kwargs)

    def update(self, new_scale=None) -> None:
        return None

    def get_scale(self) -> float:
        return 1.0

    def is_enabled(self) -> bool:
        return self._enabled

    def state_dict(self) -> dict:
        return {}

    def load_state_dict(self, state_dict: dict) -> None:
        return None
