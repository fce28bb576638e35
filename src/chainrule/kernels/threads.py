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
import math
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


# What `busy` last read: when (monotonic seconds), this process's CPU time then, its
# average use of the cores (the load it adds), and the answer.
_load = {"read": -1.0, "cpu": 0.0, "own": 0.0, "busy": False}
LOAD_MINUTE = 60.0  # the load average's time constant, in seconds


def busy() -> bool:
    """Whether other processes keep the machine's cores busy: the 1-minute load average,
    less this process's own share of it, at least the number of cores. Read at most once
    a second. The own share is this process's CPU time per second averaged like the load
    (over a minute), so that a process whose threads fill every core by themselves (its
    BLAS threads spin between products) does not count as a busy machine."""
    now = time.monotonic()
    elapsed = now - _load["read"]
    if elapsed >= 1.0:
        cpu = time.process_time()
        if _load["read"] >= 0:
            keep = math.exp(-elapsed / LOAD_MINUTE)
            rate = (cpu - _load["cpu"]) / elapsed
            _load["own"] = keep * _load["own"] + (1 - keep) * rate
        try:
            load = os.getloadavg()[0]
        except (AttributeError, OSError):  # no load average on this system
            load = 0.0
        _load.update(read=now, cpu=cpu,
                     busy=load - _load["own"] >= (os.cpu_count() or 1))
    return _load["busy"]


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
