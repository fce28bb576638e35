"""`torch.nn.modules.utils`: the argument helpers custom layers import from PyTorch
(`from torch.nn.modules.utils import _pair`): one value repeated n times, or an iterable
as a tuple."""
from __future__ import annotations

import collections.abc
import itertools


def _ntuple(n: int, name: str = "parse"):
    def parse(x) -> tuple:
        if isinstance(x, collections.abc.Iterable):
            return tuple(x)
        return tuple(itertools.repeat(x, n))
    parse.__name__ = name
    return parse


_single = _ntuple(1, "_single")
_pair = _ntuple(2, "_pair")
_triple = _ntuple(3, "_triple")
_quadruple = _ntuple(4, "_quadruple")


def _reverse_repeat_tuple(t, n: int) -> tuple:
    """Each element of t, in reverse order, n times (F.pad's order of a conv's padding)."""
    return tuple(x for x in reversed(t) for _ in range(n))


def _list_with_default(out_size, defaults) -> list:
    """An adaptive pool's output size, None entries taken from `defaults`' last dims."""
    if isinstance(out_size, int):
        return [out_size]
    if len(defaults) <= len(out_size):
        raise ValueError(f"Input dimension should be at least {len(out_size) + 1}")
    return [v if v is not None else d for v, d in zip(out_size, defaults[-len(out_size):])]
