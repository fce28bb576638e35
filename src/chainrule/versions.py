"""Version counters: how an in-place change to a tensor saved for backward is caught.

`l = (w * x).sum(); x += 10; l.backward()` would give `w` the gradient of the new `x`:
a wrong number, silently. So, as in PyTorch, every in-place change made through a tensor
(`x += 1`, `x[0] = 5`, `x.zero_()`, `x.copy_(y)`, `x.exp_()`, an optimizer's step) bumps a
version counter, and backward refuses a saved value whose version moved since it was saved,
naming the op.

A counter belongs to memory, not to a tensor object: a view (`x[0]`, `x.T`), `x.detach()`
and `x.data` hold the array of `x` or a view of it, so they share its counter, as views and
detached tensors do in PyTorch. Only memory that was ever changed in place has a counter
(dropped with the memory).

Cheap per op: a `clock` counts every in-place change anywhere; an op notes the clock when it
saves (one integer), and backward looks at the saved arrays only if the clock moved since.
In a training loop the changes (the optimizer's step) come after backward, so it never does.
"""
from __future__ import annotations

import bisect
import weakref

clock = 0  # in-place changes so far, to any memory
_RECENT = 64  # a counter remembers the clock of this many of its latest changes

# id(owning array) -> [version, weak reference to the array, clocks of its latest changes]
_counters: dict[int, list] = {}


def _owner(array):
    """The array that owns the memory `array` views (itself if it owns it)."""
    base = getattr(array, "base", None)
    while base is not None and hasattr(base, "shape"):
        array, base = base, getattr(base, "base", None)
    return array


def bump(array) -> None:
    """Record one in-place change of `array`'s memory."""
    global clock
    owner = _owner(array)
    key = id(owner)
    entry = _counters.get(key)
    if entry is None:
        try:
            ref = weakref.ref(owner, lambda _: _counters.pop(key, None))  # freed: forgotten
        except TypeError:  # an immutable scalar: nothing can share it
            return
        entry = _counters[key] = [0, ref, []]
    clock += 1
    entry[0] += 1
    recent = entry[2]
    recent.append(clock)
    if len(recent) > _RECENT:
        del recent[0]


def version(array) -> int:
    """How many in-place changes `array`'s memory has seen."""
    entry = _counters.get(id(_owner(array)))
    return entry[0] if entry is not None else 0


def check_saved(name: str, arrays, saved_at: int) -> None:
    """Raise if an array saved when the clock read `saved_at` was changed in place since
    (PyTorch's message: the version it is at, and the version it was saved at)."""
    for array in arrays:
        entry = _counters.get(id(_owner(array)))
        if entry is None or entry[2][-1] <= saved_at:
            continue
        now, recent = entry[0], entry[2]
        since = len(recent) - bisect.bisect_right(recent, saved_at)
        expected = f"{now - since}" if since < len(recent) or now == len(recent) \
            else f"{now - since} or less"  # changed more often than it remembers
        what = (f"a {array.dtype} tensor of shape {tuple(array.shape)}"
                if hasattr(array, "dtype") else "a value")
        raise RuntimeError(
            "one of the variables needed for gradient computation has been modified by an "
            f"inplace operation: {what}, saved by {name}, is at version {now}; expected "
            f"version {expected} instead. Hint: change it out of place (x = x + 1, not "
            "x += 1), or clone() it before changing it")
