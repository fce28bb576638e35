"""Samplers: the order in which a `DataLoader` visits a dataset's indices, as in
`torch.utils.data.sampler`. A sampler is an iterable of indices; a batch sampler is an
iterable of lists of indices."""
from __future__ import annotations

from collections.abc import Iterable, Iterator, Sized

import numpy

from .generator import numpy_rng

__all__ = ["Sampler", "SequentialSampler", "RandomSampler", "SubsetRandomSampler",
           "WeightedRandomSampler", "BatchSampler"]


_DRAW_CHUNK = 1024   # indices drawn at once by RandomSampler(replacement=True)


class Sampler:
    """Base class: subclasses give `__iter__` (indices) and, if they can, `__len__`."""

    def __init__(self, data_source: Sized | None = None) -> None:
        pass

    def __iter__(self) -> Iterator:
        raise NotImplementedError(f"{type(self).__name__} must define __iter__")


class SequentialSampler(Sampler):
    """0, 1, 2, …, len(data_source) - 1."""

    def __init__(self, data_source: Sized) -> None:
        self.data_source = data_source

    def __iter__(self) -> Iterator[int]:
        return iter(range(len(self.data_source)))

    def __len__(self) -> int:
        return len(self.data_source)


class RandomSampler(Sampler):
    """A random permutation of the indices, or `num_samples` indices drawn with
    replacement; the stream is `generator`'s (chainrule's global one by default)."""

    def __init__(self, data_source: Sized, replacement: bool = False,
                 num_samples: int | None = None, generator=None) -> None:
        _check_bool("replacement", replacement, TypeError)
        self.data_source = data_source
        self.replacement = replacement
        self._num_samples = num_samples
        self.generator = generator
        _check_positive_int("num_samples", self.num_samples, allow_bool=True)  # as torch

    @property
    def num_samples(self) -> int:
        return len(self.data_source) if self._num_samples is None else self._num_samples

    def __iter__(self) -> Iterator[int]:
        n = len(self.data_source)
        rng = numpy_rng(self.generator)
        if self.replacement:   # drawn a chunk at a time: an endless loader asks for 1e10
            for start in range(0, self.num_samples, _DRAW_CHUNK):
                size = min(_DRAW_CHUNK, self.num_samples - start)
                yield from rng.integers(0, n, size=size).tolist()
            return
        for _ in range(self.num_samples // n):
            yield from rng.permutation(n).tolist()
        yield from rng.permutation(n)[:self.num_samples % n].tolist()

    def __len__(self) -> int:
        return self.num_samples


class SubsetRandomSampler(Sampler):
    """The given indices in a random order (a fresh one each epoch)."""

    def __init__(self, indices, generator=None) -> None:
        self.indices = indices
        self.generator = generator

    def __iter__(self) -> Iterator:
        for i in numpy_rng(self.generator).permutation(len(self.indices)).tolist():
            yield self.indices[i]

    def __len__(self) -> int:
        return len(self.indices)


class WeightedRandomSampler(Sampler):
    """`num_samples` indices in 0..len(weights)-1, index i drawn with probability
    proportional to weights[i] (with or without replacement)."""

    def __init__(self, weights, num_samples: int, replacement: bool = True,
                 generator=None) -> None:
        _check_positive_int("num_samples", num_samples)
        _check_bool("replacement", replacement)
        weights = numpy.asarray(weights.numpy() if hasattr(weights, "numpy") else weights,
                                dtype=numpy.float64)
        if weights.ndim != 1:
            raise ValueError(f"weights should be a 1d sequence but given weights have shape "
                             f"{tuple(weights.shape)}")
        if not replacement and num_samples > len(weights):
            raise RuntimeError(f"WeightedRandomSampler: cannot draw {num_samples} samples "
                               f"without replacement from {len(weights)} weights")
        self.weights = weights
        self.num_samples = num_samples
        self.replacement = replacement
        self.generator = generator

    def __iter__(self) -> Iterator[int]:
        p = self.weights / self.weights.sum()
        rng = numpy_rng(self.generator)
        yield from rng.choice(len(p), size=self.num_samples, replace=self.replacement,
                              p=p).tolist()

    def __len__(self) -> int:
        return self.num_samples


class BatchSampler(Sampler):
    """Groups the indices of `sampler` into lists of `batch_size` (the last one shorter
    unless `drop_last`)."""

    def __init__(self, sampler: Iterable, batch_size: int, drop_last: bool) -> None:
        _check_positive_int("batch_size", batch_size)
        _check_bool("drop_last", drop_last)
        self.sampler = sampler
        self.batch_size = batch_size
        self.drop_last = drop_last

    def __iter__(self) -> Iterator[list]:
        batch = []
        for index in self.sampler:
            batch.append(index)
            if len(batch) == self.batch_size:
                yield batch
                batch = []
        if batch and not self.drop_last:
            yield batch

    def __len__(self) -> int:
        if self.drop_last:
            return len(self.sampler) // self.batch_size
        return (len(self.sampler) + self.batch_size - 1) // self.batch_size


def _check_bool(name: str, value, error: type[Exception] = ValueError) -> None:
    """PyTorch's check (and message) for a sampler argument that must be a bool."""
    if not isinstance(value, bool):
        raise error(f"{name} should be a boolean value, but got {name}={value}")


def _check_positive_int(name: str, value, allow_bool: bool = False) -> None:
    """PyTorch's check (and message) for a sampler argument that must be a positive int;
    RandomSampler's num_samples, as in torch, lets a bool (True) through."""
    if (not allow_bool and isinstance(value, bool)) or not isinstance(value, int) or value <= 0:
        raise ValueError(f"{name} should be a positive integer value, but got {name}={value}")
