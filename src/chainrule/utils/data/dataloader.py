"""`DataLoader`: a dataset read in mini-batches, with PyTorch's arguments and meaning.

Workers run in this process: `num_workers=N` reads batch k as worker k % N would (its
`get_worker_info()` set, `worker_init_fn` called once per worker and epoch; an
`IterableDataset` is iterated once per worker, batches taken round-robin), so code
written for worker processes gives the same batches here, only without the parallelism.
`pin_memory`, `timeout`, `prefetch_factor` and `persistent_workers` are checked as
PyTorch checks them and otherwise have nothing to do on one process.
"""
from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy

from ...composites.functions import stack
from ...creation import as_tensor
from ...tensor import Tensor
from .dataset import IterableDataset, TensorDataset
from .generator import numpy_rng
from .sampler import BatchSampler, RandomSampler, SequentialSampler

__all__ = ["DataLoader", "default_collate", "default_convert", "get_worker_info"]


# --- collating examples into a batch ------------------------------------------------
def default_collate(batch: list):
    """Stack a list of examples into a batch, keeping their structure: tensors and NumPy
    arrays stack along a new first dimension, Python floats become a float64 tensor and
    ints an int64 tensor, strings stay as they came, dicts collate per key, tuples and lists
    per position (returned as a list, as PyTorch does), named tuples keep their type."""
    first = batch[0]
    if isinstance(first, Tensor):
        return stack(batch)
    if isinstance(first, numpy.ndarray):
        if first.dtype.kind in "OUS":
            raise TypeError(f"default_collate: batch must contain tensors, numpy arrays, "
                            f"numbers, dicts or lists; found an array of {first.dtype}")
        return as_tensor(numpy.stack(batch))
    if isinstance(first, numpy.generic):
        return as_tensor(numpy.asarray(batch))
    if isinstance(first, float):
        return as_tensor(numpy.asarray(batch, dtype=numpy.float64))
    if isinstance(first, int):                     # bool is an int: a bool tensor
        return as_tensor(numpy.asarray(batch))
    if isinstance(first, (str, bytes)):
        return batch
    if isinstance(first, Mapping):
        collated = {key: default_collate([example[key] for example in batch])
                    for key in first}
        return _same_mapping_type(first, collated)
    if isinstance(first, tuple) and hasattr(first, "_fields"):
        return type(first)(*(default_collate(part) for part in zip(*batch)))
    if isinstance(first, Sequence):
        if len({len(example) for example in batch}) != 1:
            raise RuntimeError("each element in list of batch should be of equal size")
        return [default_collate(part) for part in zip(*batch)]
    raise TypeError(f"default_collate: batch must contain tensors, numpy arrays, numbers, "
                    f"dicts or lists; found {type(first).__name__}")


def default_convert(data):
    """What the loader does to each example when batching is off (`batch_size=None`):
    NumPy arrays become tensors, containers are converted inside, the rest is kept."""
    if isinstance(data, numpy.ndarray) and data.dtype.kind not in "OUS":
        return as_tensor(data)
    if isinstance(data, Mapping):
        return _same_mapping_type(data, {k: default_convert(v) for k, v in data.items()})
    if isinstance(data, tuple) and hasattr(data, "_fields"):
        return type(data)(*(default_convert(d) for d in data))
    if isinstance(data, tuple):
        return [default_convert(d) for d in data]
    if isinstance(data, list):
        return [default_convert(d) for d in data]
    return data


def _same_mapping_type(template: Mapping, values: dict):
    try:
        return type(template)(values)
    except TypeError:              # a mapping type that cannot be built from a dict
        return values


# --- workers ------------------------------------------------------------------------
@dataclass(frozen=True)
class WorkerInfo:
    """What `get_worker_info()` tells the code running in worker `id`."""
    id: int
    num_workers: int
    seed: int
    dataset: Any


_worker_info: WorkerInfo | None = None


def get_worker_info() -> WorkerInfo | None:
    """The worker reading the current batch (id, num_workers, seed, dataset), or None in
    the main process (`num_workers=0`)."""
    return _worker_info


class _AsWorker:
    """Within the block, `get_worker_info()` answers `info`."""

    def __init__(self, info: WorkerInfo | None):
        self.info = info

    def __enter__(self):
        global _worker_info
        self.outer, _worker_info = _worker_info, self.info

    def __exit__(self, *exc):
        global _worker_info
        _worker_info = self.outer


# --- the loader ---------------------------------------------------------------------
class DataLoader:
    """Iterate over `dataset` in batches.

    Map-style datasets are read in the order of `sampler` (sequential, or a fresh random
    permutation each epoch with `shuffle=True`), grouped by `batch_sampler` (batches of
    `batch_size`, the last one shorter unless `drop_last`) and stacked by `collate_fn`.
    `batch_size=None` turns batching off. `generator` is the random stream for shuffling
    and worker seeds. `seed` (chainrule's own) makes epoch e shuffle with seed + e, so a
    training run resumed at epoch e sees the same order.
    """

    def __init__(self, dataset, batch_size: int | None = 1, shuffle: bool | None = None,
                 sampler=None, batch_sampler=None, num_workers: int = 0, collate_fn=None,
                 pin_memory: bool = False, drop_last: bool = False, timeout: float = 0,
                 worker_init_fn=None, multiprocessing_context=None, generator=None, *,
                 prefetch_factor: int | None = None, persistent_workers: bool = False,
                 pin_memory_device: str = "", in_order: bool = True,
                 seed: int | None = None):
        _check_worker_arguments(num_workers, timeout, prefetch_factor, persistent_workers)
        iterable = isinstance(dataset, IterableDataset)
        if iterable and (shuffle not in (None, False) or sampler is not None
                         or batch_sampler is not None):
            raise ValueError("DataLoader with IterableDataset: expected unspecified shuffle, "
                             "sampler and batch_sampler options")
        if sampler is not None and shuffle:
            raise ValueError("sampler option is mutually exclusive with shuffle")
        if batch_sampler is not None:
            if batch_size != 1 or shuffle or sampler is not None or drop_last:
                raise ValueError("batch_sampler option is mutually exclusive with "
                                 "batch_size, shuffle, sampler, and drop_last")
            batch_size, drop_last = None, False
        elif batch_size is None and drop_last:
            raise ValueError("batch_size=None option disables auto-batching and is mutually "
                             "exclusive with drop_last")
        elif batch_size is not None and (isinstance(batch_size, bool)
                                         or not isinstance(batch_size, int) or batch_size < 1):
            raise ValueError(f"DataLoader: batch_size should be a positive integer value, "
                             f"but got batch_size={batch_size}")

        if sampler is None and not iterable:
            sampler = (RandomSampler(dataset, generator=generator) if shuffle
                       else SequentialSampler(dataset))
        if batch_size is not None and batch_sampler is None and not iterable:
            batch_sampler = BatchSampler(sampler, batch_size, drop_last)

        self.dataset = dataset
        self.batch_size = batch_size
        self.drop_last = drop_last
        self.sampler = sampler
        self.batch_sampler = batch_sampler
        self.num_workers = num_workers
        self.collate_fn = collate_fn or (default_collate if self._auto_collation
                                         else default_convert)
        self.pin_memory = pin_memory
        self.pin_memory_device = pin_memory_device
        self.timeout = timeout
        self.worker_init_fn = worker_init_fn
        self.multiprocessing_context = multiprocessing_context
        self.generator = generator
        self.prefetch_factor = prefetch_factor
        self.persistent_workers = persistent_workers
        self.in_order = in_order
        self.seed = seed
        self.epoch = 0

    @property
    def _auto_collation(self) -> bool:
        return self.batch_sampler is not None or (
            isinstance(self.dataset, IterableDataset) and self.batch_size is not None)

    def __len__(self) -> int:
        if isinstance(self.dataset, IterableDataset):
            n = len(self.dataset)
            if self.batch_size is None:
                return n
            return n // self.batch_size if self.drop_last else -(-n // self.batch_size)
        return len(self.batch_sampler if self._auto_collation else self.sampler)

    def __iter__(self):
        if self.seed is not None and isinstance(self.sampler, RandomSampler):
            self.sampler.generator = numpy.random.default_rng(self.seed + self.epoch)
        self.epoch += 1
        workers = self._start_workers()
        if isinstance(self.dataset, IterableDataset):
            yield from self._iterable_batches(workers)
            return
        for k, indices in enumerate(self.batch_sampler if self._auto_collation
                                    else self.sampler):
            with _AsWorker(workers[k % len(workers)]):
                yield self._fetch(indices)

    def _start_workers(self) -> list[WorkerInfo | None]:
        """One WorkerInfo per worker (seeded as PyTorch seeds them: base seed + id), each
        `worker_init_fn` called as that worker; `[None]` without workers."""
        if self.num_workers == 0:
            return [None]
        base_seed = int(numpy_rng(self.generator).integers(0, 2**63 - 1))
        workers = [WorkerInfo(i, self.num_workers, base_seed + i, self.dataset)
                   for i in range(self.num_workers)]
        if self.worker_init_fn is not None:
            for info in workers:
                with _AsWorker(info):
                    self.worker_init_fn(info.id)
        return workers

    def _fetch(self, indices):
        """The batch for `indices` (one index when batching is off)."""
        if not self._auto_collation:
            return self.collate_fn(self.dataset[indices])
        if isinstance(self.dataset, TensorDataset) and self.collate_fn is default_collate:
            rows = numpy.asarray(indices, dtype=numpy.int64)
            return [t[as_tensor(rows)] if isinstance(t, Tensor) else default_collate(
                [t[i] for i in indices]) for t in self.dataset.tensors]
        if hasattr(self.dataset, "__getitems__"):
            return self.collate_fn(self.dataset.__getitems__(list(indices)))
        return self.collate_fn([self.dataset[i] for i in indices])

    def _iterable_batches(self, workers):
        """Each worker iterates its own copy of the stream; batches come round-robin."""
        streams = []
        for info in workers:
            with _AsWorker(info):
                streams.append((info, iter(self.dataset)))
        while streams:
            for info, stream in list(streams):
                with _AsWorker(info):
                    batch = self._next_batch(stream)
                if batch is None:
                    streams.remove((info, stream))
                else:
                    yield batch

    def _next_batch(self, stream):
        if self.batch_size is None:
            example = next(stream, _END)
            return None if example is _END else self.collate_fn(example)
        examples = list(itertools.islice(stream, self.batch_size))
        if not examples or (self.drop_last and len(examples) < self.batch_size):
            return None
        return self.collate_fn(examples)

    def __repr__(self) -> str:
        return (f"DataLoader(dataset={type(self.dataset).__name__}, batch_size="
                f"{self.batch_size}, num_workers={self.num_workers})")


_END = object()


def _check_worker_arguments(num_workers, timeout, prefetch_factor, persistent_workers):
    """PyTorch's rules for the worker arguments, with its messages."""
    if isinstance(num_workers, bool) or not isinstance(num_workers, int) or num_workers < 0:
        raise ValueError("num_workers option should be non-negative; use num_workers=0 to "
                         "disable multiprocessing.")
    if timeout < 0:
        raise ValueError("timeout option should be non-negative")
    if num_workers == 0 and prefetch_factor is not None:
        raise ValueError("prefetch_factor option could only be specified in multiprocessing."
                         "let num_workers > 0 to enable multiprocessing, otherwise set "
                         "prefetch_factor to None.")
    if prefetch_factor is not None and prefetch_factor < 0:
        raise ValueError("prefetch_factor option should be non-negative")
    if persistent_workers and num_workers == 0:
        raise ValueError("persistent_workers option needs num_workers > 0")
