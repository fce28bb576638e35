"""y += a·x in place for large arrays, in one pass over memory.

NumPy writes `y += a * x` as two loops: a·x into a temporary as large as x, then the sum.
For a (100,000, 64) embedding table's SGD step that streams five arrays of 25 MB through
memory (x read, temporary written, y read, temporary read, y written) where three would
do. Done in blocks of 64 KiB, the temporary stays in the cache and only x and y travel
(measured: 9.1 → 6.7 ms for that table, 1.66 → 1.19 ms for 20,000 rows).
"""
from __future__ import annotations

from ..backend import device_of, xp

BLOCK = 1 << 14  # elements per block: 64 KiB of float32, well inside the L2 cache
MIN_SIZE = 1 << 18  # below this the arrays stay in the cache anyway


def add_scaled_(y, a: float, x) -> None:
    """y += a·x, in place (x of y's shape and dtype for the blocked loop)."""
    if (y.size < MIN_SIZE or device_of(y) != "cpu" or x.shape != y.shape
            or x.dtype != y.dtype or not (y.flags.c_contiguous and x.flags.c_contiguous)):
        y += a * x
        return
    flat_y, flat_x = y.reshape(-1), x.reshape(-1)
    scale = y.dtype.type(a)
    multiply = xp(y).multiply
    scratch = xp(y).empty(BLOCK, dtype=y.dtype)
    for start in range(0, flat_y.size, BLOCK):
        block = flat_x[start:start + BLOCK]
        flat_y[start:start + BLOCK] += multiply(block, scale, out=scratch[:block.size])
