"""`torch.multiprocessing`: Python's multiprocessing, with tensors that processes share.

Every name of the standard library's multiprocessing is here (Process, Queue, Pool,
set_start_method, get_context, ...). What PyTorch adds, this module adds too: a tensor
sent to another process (a Process's argument, an item put on a Queue) is not copied but
shared. Its numbers move into a file in shared memory (`t.share_memory_()`, which
`model.share_memory()` does for a whole model, or on sending), and the pickle carries
the file's name: the receiving process maps the same file, so an in-place update in
either (an optimizer's step: Hogwild training) is seen by both. A GPU tensor is sent as a
copy. Under `chainrule run`, a spawned child imports `torch` as chainrule too
(compat/torch_alias.py).
"""
from __future__ import annotations

import multiprocessing
from multiprocessing import *  # noqa: F401,F403 - PyTorch re-exports them all
from multiprocessing.reduction import ForkingPickler

from . import backend
from .kernels import shared
from .nn.parameter import Buffer, Parameter
from .tensor import Tensor

__all__ = list(multiprocessing.__all__)


def _rebuild(kind: type, path: str, dtype: str, shape: tuple, requires_grad: bool) -> Tensor:
    """The tensor on the receiving side: the sender's shared file, mapped here."""
    tensor = kind.__new__(kind)
    tensor.array = shared.attach(path, dtype, shape)
    tensor.grad, tensor.grad_fn, tensor._requires_grad = None, None, requires_grad
    if kind is Buffer:
        tensor.persistent = True
    return tensor


def _reduce(tensor: Tensor):
    """How a tensor travels to another process: by its shared file (moving it into one
    first, as PyTorch does), or as an ordinary pickle when it is on a GPU."""
    if backend.device_of(tensor.array) != "cpu" or tensor.array.size == 0:
        return tensor.__reduce_ex__(2)
    if tensor.grad_fn is not None:
        raise RuntimeError("torch.multiprocessing: a tensor that is not a leaf cannot be "
                           "shared between processes (send tensor.detach())")
    tensor.share_memory_()
    return _rebuild, (type(tensor), shared.shared_path(tensor.array), tensor.array.dtype.str,
                      tensor.array.shape, tensor.requires_grad)


for _kind in (Tensor, Parameter, Buffer):
    ForkingPickler.register(_kind, _reduce)


class ProcessExitedException(Exception):
    """A process started by spawn() ended with a non-zero exit code."""

    def __init__(self, message: str, error_index: int, exit_code: int):
        super().__init__(message)
        self.error_index, self.exit_code = error_index, exit_code


class ProcessContext:
    """The processes spawn() started; join() waits for them all and raises if one failed."""

    def __init__(self, processes):
        self.processes = processes

    def pids(self) -> list:
        return [process.pid for process in self.processes]

    def join(self, timeout=None) -> bool:
        for process in self.processes:
            process.join(timeout)
        for index, process in enumerate(self.processes):
            if process.exitcode not in (0, None):
                raise ProcessExitedException(
                    f"process {index} terminated with exit code {process.exitcode}",
                    error_index=index, exit_code=process.exitcode)
        return all(process.exitcode is not None for process in self.processes)


def start_processes(fn, args=(), nprocs: int = 1, join: bool = True, daemon: bool = False,
                    start_method: str = "spawn"):
    """fn(i, *args) in `nprocs` new processes, i = 0 .. nprocs - 1; waits for them all
    when `join` (raising if one fails), else returns their ProcessContext."""
    context = multiprocessing.get_context(start_method)
    processes = [context.Process(target=fn, args=(i, *args), daemon=daemon)
                 for i in range(nprocs)]
    for process in processes:
        process.start()
    started = ProcessContext(processes)
    if not join:
        return started
    started.join()
    return None


def spawn(fn, args=(), nprocs: int = 1, join: bool = True, daemon: bool = False,
          start_method: str = "spawn"):
    """torch.multiprocessing.spawn: start_processes with the spawn method."""
    return start_processes(fn, args, nprocs, join, daemon, start_method)


__all__ += ["spawn", "start_processes", "ProcessContext", "ProcessExitedException"]
