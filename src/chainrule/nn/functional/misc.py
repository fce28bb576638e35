"""Padding: `pad(input, pad, mode, value)` with PyTorch's argument order."""
from __future__ import annotations

from ...backend import xp
from ...composites.functions import index
from ...ops.padding import ConstantPad
from ...tensor import Tensor

__all__ = ["pad"]

MODES = ("constant", "reflect", "replicate", "circular")


def pad(input: Tensor, pad, mode: str = "constant", value: float | None = None) -> Tensor:  # noqa: A002
    """Pad the last dims of input. `pad` lists (before, after) widths starting from the
    LAST dim: (left, right) pads only the last dim, (left, right, top, bottom) the last two.

    mode: 'constant' (fill with `value`, default 0; negative widths crop), 'reflect'
    (mirror without repeating the edge), 'replicate' (repeat the edge), 'circular' (wrap).
    """
    pad = tuple(int(p) for p in pad)
    if len(pad) % 2 or len(pad) // 2 > input.ndim:
        raise ValueError(f"pad: the padding must hold one (before, after) pair per padded "
                         f"dim, at most {input.ndim} pairs for input of shape "
                         f"{tuple(input.shape)}; got {pad}")
    if mode not in MODES:
        raise ValueError(f"pad: mode must be one of {', '.join(MODES)}; got {mode!r}")
    dims = len(pad) // 2
    widths = [(0, 0)] * (input.ndim - dims) + \
        [(pad[2 * k], pad[2 * k + 1]) for k in reversed(range(dims))]
    if mode == "constant":
        if all(w == (0, 0) for w in widths):
            return input
        return ConstantPad.apply(input, widths=tuple(widths),
                                 value=0 if value is None else value)
    if value not in (None, 0):
        raise ValueError(f"pad: a fill value only makes sense in 'constant' mode, not {mode!r}")
    # Other modes read existing elements again: one gather along each padded dim, whose
    # backward adds the gradient of every copy back into the element it came from.
    out = input
    for d, (before, after) in enumerate(widths):
        if before == 0 and after == 0:
            continue
        n = input.shape[d]
        if before < 0 or after < 0:
            raise ValueError(f"pad: negative padding {pad} works only in 'constant' mode")
        if mode == "reflect" and (before >= n or after >= n):
            raise ValueError(f"pad: reflect padding must be smaller than the padded dim, "
                             f"got ({before}, {after}) for dim {d} of size {n} "
                             f"(input shape {tuple(input.shape)})")
        if mode == "circular" and (before > n or after > n):
            raise ValueError(f"pad: circular padding must be at most the padded dim, got "
                             f"({before}, {after}) for dim {d} of size {n} "
                             f"(input shape {tuple(input.shape)})")
        out = index(out, (slice(None),) * d + (_source_index(n, before, after, mode,
                                                             input.array),))
    return out


def _source_index(n: int, before: int, after: int, mode: str, like):
    """For every position of the padded dim, the input position it copies (an index array
    on `like`'s device)."""
    i = xp(like).arange(-before, n + after)
    if mode == "replicate":
        return xp(like).clip(i, 0, n - 1)
    if mode == "circular":
        return i % n
    i = xp(like).abs(i)  # reflect: mirror at 0, then at n - 1
    return xp(like).where(i > n - 1, 2 * (n - 1) - i, i)
