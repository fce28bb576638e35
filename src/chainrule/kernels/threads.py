"""How many threads NumPy's BLAS uses for a stretch of small products.

A recurrent layer multiplies small matrices thousands of times: one (B, H)·(H, G·H)
product per step, and a cell (`nn.LSTMCell` in a Python loop) all of its products per
step. OpenBLAS splits a product over its threads from about 2.6·10⁵ multiply-adds on;
for products this small, waking and joining the threads costs more than they save, and
when the machine's cores are busy with other work the threads wait for each other. Measured
on this project's 2-core machine under load: a 97×51·51×204 float64 product took 6 ms on
OpenBLAS's two threads and 0.15 ms on one, and pytorch/examples' time_sequence_prediction
(two LSTMCells over 999 steps, float64) spent 69 s in one forward and backward against
3.9 s on one thread. PyTorch too keeps work under a grain size on one thread.

`one_blas_thread()` runs the code inside it on one BLAS thread and restores the setting
after (a decorator too). `blas_threads_for(multiply_adds)` does so only when the product is
small. The BLAS is found through threadpoolctl; without it, or without a BLAS it knows
(CuPy arrays on a GPU never reach it), the setting is left alone.
"""
from __future__ import annotations

import contextlib
import functools
import os
import time

SMALL_PRODUCT = 1 << 22  # multiply-adds below which one thread is faster (≈ 4·10⁶)
OPENBLAS_ALONE = 1 << 18  # up to this OpenBLAS multiplies on one thread by itself (4·65536)


@functools.lru_cache(maxsize=1)
def _blas_libraries() -> tuple:
    """threadpoolctl's controllers of the BLAS libraries loaded in this process."""
    try:
        from threadpoolctl import ThreadpoolController
    except ImportError:
        return ()
    return tuple(lib for lib in ThreadpoolController().lib_controllers if lib.user_api == "blas")


# What `busy` last read: when (monotonic seconds), the smoothed count of runnable threads,
# and the answer.
_load = {"read": -1.0, "running": 0.0, "busy": False}
READ_EVERY = 0.2  # seconds between readings of the run queue
KEEP = 0.6  # the share of the smoothed count a new reading leaves (so ~1 s to react)


def busy() -> bool:
    """Whether more threads want to run than the machine has cores: the number of runnable
    threads (Linux's /proc/loadavg, read at most every READ_EVERY seconds, this thread and
    a spinning BLAS thread of ours included), smoothed over about a second, above the
    core count. A process of ours alone counts at most 2 on 2 cores (this thread and
    OpenBLAS's second); another busy process adds 1. The 1-minute load average would say
    so only after tens of seconds, while two-thread products already ran 10-40 times
    slower. Without /proc (macOS, Windows) the answer is no."""
    now = time.monotonic()
    if now - _load["read"] >= READ_EVERY:
        running = _runnable()
        if running is None:
            return False
        level = running if _load["read"] < 0 else \
            KEEP * _load["running"] + (1 - KEEP) * running
        _load.update(read=now, running=level, busy=level > (os.cpu_count() or 1) + 0.5)
    return _load["busy"]


def _runnable() -> int | None:
    """The threads runnable now on the whole machine, or None where the system does not
    say (the first number of /proc/loadavg's fourth field, "running/total")."""
    try:
        with open("/proc/loadavg") as f:
            return int(f.read().split()[3].split("/")[0])
    except (OSError, IndexError, ValueError):
        return None


# The count `set_num_threads` was given, None until then.
_requested: dict = {"threads": None}


def set_num_threads(threads: int) -> None:
    """PyTorch's `torch.set_num_threads`: the threads NumPy's BLAS may use from now on (set
    through threadpoolctl; the element-wise ufuncs run on one thread in any case)."""
    if type(threads) is not int:
        raise RuntimeError(f"set_num_threads expects an int, but got {type(threads).__name__}")
    if threads < 1:
        raise RuntimeError(f"set_num_threads expects a positive integer, got {threads}")
    for lib in _blas_libraries():
        lib.set_num_threads(threads)
    _requested["threads"] = threads


def get_num_threads() -> int:
    """PyTorch's `torch.get_num_threads`: what `set_num_threads` set, else the BLAS's own
    count, else the OMP/OPENBLAS/MKL_NUM_THREADS variable or the CPU count."""
    if _requested["threads"] is not None:
        return _requested["threads"]
    if _blas_libraries():
        return blas_threads()
    for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        if os.environ.get(name, "").isdigit():
            return int(os.environ[name])
    return os.cpu_count() or 1


def blas_threads() -> int:
    """The threads NumPy's BLAS may use now (2 when threadpoolctl knows no BLAS here)."""
    return max((lib.get_num_threads() for lib in _blas_libraries()), default=2)


@contextlib.contextmanager
def one_blas_thread():
    """Inside: NumPy's BLAS on one thread; after: as it was."""
    saved = [(lib, lib.get_num_threads()) for lib in _blas_libraries()]
    for lib, _ in saved:
        lib.set_num_threads(1)
    try:
        yield
    finally:
        for lib, threads in saved:
            lib.set_num_threads(threads)


def blas_threads_for(multiply_adds: int):
    """One BLAS thread for a product of fewer than SMALL_PRODUCT multiply-adds, else as set
    (and no switch up to OPENBLAS_ALONE, where OpenBLAS uses one thread anyway)."""
    if OPENBLAS_ALONE < multiply_adds < SMALL_PRODUCT:
        return one_blas_thread()
    return contextlib.nullcontext()
