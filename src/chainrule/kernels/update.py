"""Element-wise updates of large arrays, run block by block so that they pass over memory
once.

NumPy runs `y += a * x` as two loops: a·x into a temporary as large as x, then the sum.
An optimizer's rule is a dozen such loops (Adam: the two moments, a square root, a
division, the step), each streaming whole arrays and their temporaries through memory;
for a (100,000, 64) embedding table every loop moves 25 MB. Run on successive blocks of
128 KiB instead, the same loops find their temporaries, and the block, in the cache: only
the arrays themselves travel, once. The numbers are the same bit for bit (each element
sees the same operations). Measured alone on this machine: SGD's step 9.1 → 6.7 ms for
that table and 1.66 → 1.19 ms for 20,000 rows; Adam's 67 → 24 ms and 8.3 → 5.0 ms.
"""
from __future__ import annotations

from ..backend import device_of

BLOCK = 1 << 15  # elements per block: 128 KiB of float32, inside the L2 cache
MIN_SIZE = 1 << 18  # below this the arrays stay in the cache anyway


def in_blocks(update, *arrays) -> None:
    """update(*arrays) for an element-wise rule that changes some of them in place, run on
    matching blocks of their elements when they are large, C-contiguous arrays of one
    shape on the CPU (else on the whole arrays at once)."""
    first = arrays[0]
    if (first.size < MIN_SIZE or device_of(first) != "cpu"
            or any(a.shape != first.shape or not a.flags.c_contiguous for a in arrays)):
        update(*arrays)
        return
    flat = [a.reshape(-1) for a in arrays]
    for start in range(0, first.size, BLOCK):
        update(*(a[start:start + BLOCK] for a in flat))


def add_scaled_(y, a: float, x) -> None:
    """y += a·x, in place."""
    def add(y, x):
        y += a * x
    in_blocks(add, y, x)
