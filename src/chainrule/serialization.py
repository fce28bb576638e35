"""`chainrule.serialization`: `save` and `load` at PyTorch's module path (`torch.serialization`),
and PyTorch's allowlist of classes for loading with `weights_only=True`.

PyTorch unpickles only allowlisted classes under `weights_only=True`, and programs widen the
list with `add_safe_globals([...])` or `with safe_globals([...]):` before loading a whole
model. chainrule's `load` never unpickles: it rebuilds a whole model only from classes
already imported (Note [whole objects] in chainrule/serialize.py), so it needs no list.
These functions keep one, as PyTorch's do, so that such programs run unchanged.
"""
from __future__ import annotations

import contextlib

from .serialize import LoadError, SaveError, load, save  # noqa: F401

_safe_globals: list = []


def add_safe_globals(safe_globals: list) -> None:
    """Add classes (or (class, name) pairs) to the allowlist."""
    _safe_globals.extend(safe_globals)


def get_safe_globals() -> list:
    """The allowlist, as added to."""
    return list(_safe_globals)


def clear_safe_globals() -> None:
    _safe_globals.clear()


@contextlib.contextmanager
def safe_globals(safe_globals: list):
    """The classes on the allowlist inside the `with` block only."""
    saved = list(_safe_globals)
    add_safe_globals(safe_globals)
    try:
        yield
    finally:
        _safe_globals[:] = saved
