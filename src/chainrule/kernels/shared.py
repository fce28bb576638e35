"""Arrays whose numbers live in a file in shared memory (/dev/shm where there is one), so
that other processes can map the very same numbers: `Tensor.share_memory_()` and
`torch.multiprocessing` (chainrule/multiprocessing.py) are built on these functions.

The process that makes a shared array owns its file and removes it when the array is
freed (or at exit); a process that attaches to it maps the file and owns nothing. A file
already removed stays mapped wherever it was attached, as files do on POSIX systems."""
from __future__ import annotations

import mmap
import os
import tempfile
import weakref

import numpy


def shared_copy(array: numpy.ndarray) -> numpy.ndarray:
    """A copy of `array` in a new shared-memory file (`array` itself if it is shared
    already; a plain copy if it is empty, as there is nothing to map)."""
    if shared_path(array) is not None:
        return array
    if array.size == 0:
        return array.copy()
    descriptor, path = tempfile.mkstemp(prefix="chainrule-shared-",
                                        dir="/dev/shm" if os.path.isdir("/dev/shm") else None)
    os.close(descriptor)
    shared = numpy.memmap(path, dtype=array.dtype, mode="w+", shape=array.shape)
    shared[...] = array
    weakref.finalize(shared, _remove, path)
    return shared


def attach(path: str, dtype, shape) -> numpy.ndarray:
    """The shared array of `path` (made by shared_copy in some process), mapped here."""
    return numpy.memmap(path, dtype=numpy.dtype(dtype), mode="r+", shape=tuple(shape))


def shared_path(array) -> str | None:
    """The file of a whole array made by shared_copy or attach; None for any other array
    (a slice of one included: it is not the file's whole contents)."""
    if isinstance(array, numpy.memmap) and isinstance(array.base, mmap.mmap) \
            and array.offset == 0:
        return array.filename
    return None


def _remove(path: str) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
