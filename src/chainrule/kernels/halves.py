"""A batch in two halves on two threads, for the convolution kernels (kernels/im2col.py).

NumPy lets go of the GIL inside its copies, its ufunc loops and its BLAS calls, so two
threads that each work on half of a batch run at the same time on two cores. The
convolution kernels split their work that way: each half unfolds its own images, makes
its part of the products and writes its part of the result; a weight gradient is the sum
of the two halves' gradients. Everything else (the element-wise ops) stays on one thread.

While the halves run, NumPy's BLAS is held to one thread (`threads.one_blas_thread`): its
own threads would compete with ours for the two cores, and after each product they spin
for 10-30 ms, which slowed the other thread's copies 1.5-4× when the copies alone were
split (docs/performance.md, change 9). With the products inside the halves, each half's
product is a one-thread BLAS call and nothing spins.

A batch is split only on a busy machine (`threads.busy`). When nothing else runs, NumPy's
BLAS on its own two threads with everything else on one thread was faster on this
project's 2-core machine: W3's second convolution forward took 1.6 ms in one piece against
1.9-2.3 ms in halves, its weight gradient 0.9 against 1.6 ms (handing a half to the worker
and waking it costs ~90 µs there: an idle core of a virtual machine wakes slowly). With
more runnable threads than cores, the two-thread products wait on each other, and a W3
step took 3-4 times longer without the halves.

Arrays off the CPU (CuPy) and batches of one image run in one piece on the calling thread,
and so does a call made from inside a half (the pool has one worker), every call in a
process forked from the one that imported chainrule (a data-loading worker: threads do
not survive a fork, and starting new ones there deadlocked in tests), and every call while
the BLAS is set to one thread (OPENBLAS_NUM_THREADS=1, as the distributed benchmark sets
for each rank): the halves use no more threads than the BLAS is given.
"""
from __future__ import annotations

import os
import threading
from concurrent.futures import ThreadPoolExecutor

from ..backend import device_of
from .threads import blas_threads, busy, one_blas_thread

# Arrays smaller than this run in one piece: handing a half to the other thread costs
# ~20-30 µs, about what NumPy takes for 65536 numbers' worth of a copy or a comparison.
MIN_SPLIT = 1 << 16

_pool: ThreadPoolExecutor | None = None
_pool_lock = threading.Lock()
_home = os.getpid()  # the process that may split (not a forked child)
_inside = threading.local()  # .half: this thread is running a half


def batch_parts(batch: int, like) -> list:
    """The (start, stop) of each part of a batch of `batch` images, the array `like` its
    input: two halves on the CPU, else (one image, a small array, inside a half, a forked
    child) the whole batch."""
    if batch < 2 or not busy() or not _second_thread(like):
        return [(0, batch)]
    half = batch // 2
    return [(0, half), (half, batch)]


def _second_thread(like) -> bool:
    """Whether work on the array `like` may use the pool's thread (see the module's doc)."""
    return like.size >= MIN_SPLIT and device_of(like) == "cpu" \
        and not getattr(_inside, "half", False) and os.getpid() == _home and blas_threads() >= 2


def run_parts(work, parts) -> list:
    """[work(0, start, stop), work(1, ...)] for the parts of `batch_parts`: the first part
    on the pool's thread, the second on this one, BLAS on one thread meanwhile."""
    if len(parts) == 1:
        return [work(0, *parts[0])]
    with one_blas_thread():
        first = _worker().submit(_as_half, work, 0, *parts[0])
        second = _as_half(work, 1, *parts[1])
        return [first.result(), second]


def _as_half(work, index, start, stop):
    _inside.half = True
    try:
        return work(index, start, stop)
    finally:
        _inside.half = False


def _worker() -> ThreadPoolExecutor:
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="chainrule-half")
        return _pool
