"""Version counters: how an in-place change to a tensor saved for backward is caught.

`l = (w * x).sum(); x += 10; l.backward()` would give `w` the gradient of the new `x`:
a wrong number, silently. So, as in PyTorch, every in-place change made through a tensor
(`x += 1`, `x[0] = 5`, `x.zero_()`, `x.copy_(y)`, `x.exp_()`) bumps a version counter, an op
records the versions of what it saves for backward, and backward refuses a saved value
whose version moved, naming the op.

A counter belongs to memory, not to a tensor object: a view (`x[0]`, `x.T`), `x.detach()`
and `x.data` hold the array of `x` or a view of it, so they share its counter, as views and
detached tensors do in PyTorch. Only memory that was ever changed in place has a counter
(dropped with the memory), so until the first in-place change recording costs one test of an
empty dict, and after it one lookup per saved array.
"""
from __future__ import annotations

import weakref

# id(owning array) -> [version, weak reference to the owning array]
_counters: dict[int, list] = {}


def _owner(array):
    """The array that owns the memory `array` views (itself if it owns it)."""
    base = getattr(array, "base", None)
    while base is not None and hasattr(base, "shape"):
        array, base = base, getattr(base, "base", None)
    return array


def bump(array) -> None:
    """Record one in-place change of `array`'s memory."""
    owner = _owner(array)
    key = id(owner)
    entry = _counters.get(key)
    if entry is None:
        try:
            ref = weakref.ref(owner, lambda _: _counters.pop(key, None))  # freed: forgotten
        except TypeError:  # an immutable scalar: nothing can share it
            return
        entry = _counters[key] = [0, ref]
    entry[0] += 1


def version(array) -> int:
    """How many in-place changes `array`'s memory has seen."""
    if not _counters:
        return 0
    entry = _counters.get(id(_owner(array)))
    return entry[0] if entry is not None else 0


def versions_of(arrays) -> tuple | None:
    """The versions of arrays being saved for backward (None: all 0, no change ever made)."""
    if not _counters:
        return None
    return tuple(version(a) for a in arrays)


def check_saved(name: str, arrays, recorded) -> None:
    """Raise if a saved array changed in place since it was saved (as PyTorch's message)."""
    if not _counters:
        return
    for i, array in enumerate(arrays):
        expected = recorded[i] if recorded is not None else 0
        now = version(array)
        if now != expected:
            what = (f"a {array.dtype} tensor of shape {tuple(array.shape)}"
                    if hasattr(array, "dtype") else "a value")
            raise RuntimeError(
                "one of the variables needed for gradient computation has been modified by "
                f"an inplace operation: {what}, saved by {name}, is at version {now}; "
                f"expected version {expected} instead. Hint: change it out of place "
                "(x = x + 1, not x += 1), or clone() it before changing it")
