"""Collectives: operations that every rank of a group calls together.

    all_reduce(t)      every rank ends with the element-wise sum (or product, min, max,
                       average) of everyone's `t`, in place
    broadcast(t, src)  every rank ends with rank `src`'s `t`, in place
    all_gather(ts, t)  every rank ends with everyone's `t`, in rank order, in `ts`
    barrier()          no rank leaves before every rank has arrived

They are MPI's collectives (through mpi4py's buffer interface: arrays travel as raw bytes,
never pickled). Each is started non-blocking and then waited on by polling, for two
reasons: a rank that never arrives makes the waiting ranks raise after the group's
timeout instead of hanging forever, and a waiting rank still runs Python's signal
handlers, so `mpirun` stopping the job is reported, not silently killed. `async_op=True`
returns the `Work` instead of waiting: DistributedDataParallel overlaps its gradient
averaging with the rest of backward this way.

A tensor on a GPU is staged through host memory (the MPI from PyPI is not CUDA-aware).
"""
from __future__ import annotations

import enum
import time

import numpy

from .. import backend
from ..tensor import Tensor
from .group import ProcessGroup, resolve


class ReduceOp(enum.Enum):
    """How all_reduce combines the ranks' values (PyTorch's names)."""

    SUM = "sum"
    PRODUCT = "product"
    MIN = "min"
    MAX = "max"
    AVG = "avg"
    BAND = "band"
    BOR = "bor"
    BXOR = "bxor"


reduce_op = ReduceOp  # the old PyTorch spelling
# A waiting collective polls MPI without pause for SPIN_SECONDS (a message on one machine
# takes about a millisecond), then sleeps between polls, from MIN_ to MAX_PAUSE_SECONDS:
# on a busy machine a rank that waits must not take the core from the rank it waits for.
SPIN_SECONDS = 0.002
MIN_PAUSE_SECONDS, MAX_PAUSE_SECONDS = 20e-6, 1e-3


def _mpi_op(op: ReduceOp):
    from mpi4py import MPI
    return {ReduceOp.SUM: MPI.SUM, ReduceOp.AVG: MPI.SUM, ReduceOp.PRODUCT: MPI.PROD,
            ReduceOp.MIN: MPI.MIN, ReduceOp.MAX: MPI.MAX, ReduceOp.BAND: MPI.BAND,
            ReduceOp.BOR: MPI.BOR, ReduceOp.BXOR: MPI.BXOR}[op]


class CollectiveTimeout(RuntimeError):
    """A collective that some rank never joined within the group's timeout."""


class Work:
    """A started collective (`async_op=True`): `wait()` finishes it, `is_completed()` asks."""

    def __init__(self, requests, group: ProcessGroup, what: str, finish=None):
        self._requests = list(requests)
        self._group = group
        self._what = what
        self._finish = finish  # runs once, after every request is complete
        self._done = False

    def is_completed(self) -> bool:
        if not self._done and _test_all(self._requests):
            self._complete()
        return self._done

    def wait(self, timeout=None) -> bool:
        if self._done:
            return True
        limit = self._group.timeout if timeout is None else _as_seconds(timeout)
        started = time.monotonic()
        deadline, pause = started + limit, MIN_PAUSE_SECONDS
        while not _test_all(self._requests):
            now = time.monotonic()
            if now - started > SPIN_SECONDS:  # a long wait: sleep, leaving the core to the
                time.sleep(pause)              # ranks (or others) that still compute
                pause = min(2 * pause, MAX_PAUSE_SECONDS)
            if now > deadline:
                raise CollectiveTimeout(
                    f"{self._what}: rank {self._group.rank()} waited {limit:.0f} s for the "
                    f"other ranks of {self._group.size()} (a rank stopped, crashed or is "
                    f"stuck in a different collective)")
        self._complete()
        return True

    def _complete(self) -> None:
        self._done = True
        if self._finish is not None:
            self._finish()
            self._finish = None


def _test_all(requests) -> bool:
    from mpi4py import MPI
    return MPI.Request.Testall(requests)


def _as_seconds(timeout) -> float:
    return timeout.total_seconds() if hasattr(timeout, "total_seconds") else float(timeout)


def _host(array) -> numpy.ndarray:
    """A contiguous NumPy array MPI can read and write (a copy only when needed)."""
    if not isinstance(array, numpy.ndarray):
        array = backend.to_device(array, "cpu")
    return numpy.ascontiguousarray(array)


def _write_back(tensor: Tensor, host: numpy.ndarray):
    """After MPI filled `host`: copy it into the tensor's own array, if it is not the same."""
    def finish():
        if host is not tensor.array:
            tensor.array[...] = backend.to_device(host, tensor.device)
    return finish


def _run(work: Work, async_op: bool):
    return work if async_op else work.wait()


def _check_tensor(tensor, what: str) -> None:
    if not isinstance(tensor, Tensor):
        raise TypeError(f"{what}: expected a chainrule Tensor, got {type(tensor).__name__}")


# --- the collectives ---------------------------------------------------------------------
def all_reduce(tensor: Tensor, op: ReduceOp = ReduceOp.SUM, group: ProcessGroup | None = None,
               async_op: bool = False):
    """Combine `tensor` across ranks with `op`, in place on every rank."""
    _check_tensor(tensor, "all_reduce")
    group = resolve(group)
    op = ReduceOp(op) if not isinstance(op, ReduceOp) else op
    from mpi4py import MPI
    host = _host(tensor.array)
    request = group.comm.Iallreduce(MPI.IN_PLACE, host, op=_mpi_op(op))
    write_back = _write_back(tensor, host)

    def finish():
        if op is ReduceOp.AVG:
            host[...] = host / group.size() if host.dtype.kind == "f" else host // group.size()
        write_back()
    return _run(Work([request], group, "all_reduce", finish), async_op)


def broadcast(tensor: Tensor, src: int = 0, group: ProcessGroup | None = None,
              async_op: bool = False):
    """Every rank's `tensor` becomes rank `src`'s, in place."""
    _check_tensor(tensor, "broadcast")
    group = resolve(group)
    _check_rank(src, group, "broadcast")
    host = _host(tensor.array)
    request = group.comm.Ibcast(host, root=src)
    return _run(Work([request], group, "broadcast", _write_back(tensor, host)), async_op)


def all_gather(tensor_list: list, tensor: Tensor, group: ProcessGroup | None = None,
               async_op: bool = False):
    """`tensor_list[r]` becomes rank r's `tensor` (same shape and dtype on every rank)."""
    _check_tensor(tensor, "all_gather")
    group = resolve(group)
    if len(tensor_list) != group.size():
        raise ValueError(f"all_gather: tensor_list has {len(tensor_list)} entries but the "
                         f"group has {group.size()} ranks")
    for t in tensor_list:
        _check_tensor(t, "all_gather")
        if t.shape != tensor.shape or t.dtype != tensor.dtype:
            raise ValueError(f"all_gather: output tensors must match the input {tuple(tensor.shape)} "
                             f"{tensor.dtype}, got {tuple(t.shape)} {t.dtype}")
    host = _host(tensor.array)
    gathered = numpy.empty((group.size(),) + host.shape, dtype=host.dtype)
    request = group.comm.Iallgather(host, gathered)

    def finish():
        for t, part in zip(tensor_list, gathered):
            t.array[...] = backend.to_device(part, t.device)
    return _run(Work([request], group, "all_gather", finish), async_op)


def all_gather_into_tensor(output_tensor: Tensor, input_tensor: Tensor,
                           group: ProcessGroup | None = None, async_op: bool = False):
    """Ranks' `input_tensor`s concatenated along dim 0 (or stacked on a new dim 0) into
    `output_tensor`."""
    group = resolve(group)
    shape = tuple(input_tensor.shape)
    concatenated = (shape[0] * group.size(),) + shape[1:] if shape else (group.size(),)
    if tuple(output_tensor.shape) not in (concatenated, (group.size(),) + shape):
        raise ValueError(f"all_gather_into_tensor: output should have shape {concatenated} "
                         f"or {(group.size(),) + shape} for {group.size()} ranks of {shape}, "
                         f"got {tuple(output_tensor.shape)}")
    host_out = _host(output_tensor.array)
    request = group.comm.Iallgather(_host(input_tensor.array), host_out)
    return _run(Work([request], group, "all_gather_into_tensor",
                     _write_back(output_tensor, host_out)), async_op)


def all_gather_rows(array, group: ProcessGroup | None = None) -> numpy.ndarray:
    """Every rank's `array` (any number of rows, the same row shape) stacked in rank order:
    how row-sparse gradients travel (their row counts differ from rank to rank)."""
    group = resolve(group)
    host = _host(array)
    counts = numpy.empty(group.size(), dtype=numpy.int64)
    Work([group.comm.Iallgather(numpy.array([host.shape[0]], numpy.int64), counts)], group,
         "all_gather (row counts)").wait()
    row_size = int(numpy.prod(host.shape[1:], dtype=numpy.int64))
    out = numpy.empty((int(counts.sum()),) + host.shape[1:], dtype=host.dtype)
    request = group.comm.Iallgatherv(host, [out, counts * row_size])
    Work([request], group, "all_gather (rows)").wait()
    return out


def barrier(group: ProcessGroup | None = None, async_op: bool = False, device_ids=None):
    """Return only once every rank of the group has called barrier()."""
    group = resolve(group)
    return _run(Work([group.comm.Ibarrier()], group, "barrier"), async_op)


def _check_rank(rank: int, group: ProcessGroup, what: str) -> None:
    if not 0 <= rank < group.size():
        raise ValueError(f"{what}: src rank {rank} is outside the group of {group.size()} ranks")
