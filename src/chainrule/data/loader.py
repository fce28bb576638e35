"""`DataLoader`: examples grouped into shuffled mini-batches.

For a `TensorDataset` a batch is one fancy-indexing of each array (no per-example Python
work); other datasets are read example by example and `collate` stacks them.
"""
from __future__ import annotations

import math

import numpy

from .. import backend
from ..tensor import Tensor
from .dataset import TensorDataset
from .encoders import pad_sequences


def collate(examples):
    """Stack a list of examples (tuples of tensors, arrays or numbers) into batch tensors."""
    first = examples[0]
    if isinstance(first, (tuple, list)):
        return tuple(collate([e[i] for e in examples]) for i in range(len(first)))
    arrays = [e.numpy() if isinstance(e, Tensor) else numpy.asarray(e) for e in examples]
    return Tensor(numpy.stack(arrays))


def collate_padded(examples, pad_index: int = 0):
    """Collate (sequence, label) pairs whose sequences differ in length: pads to the longest."""
    sequences = [numpy.asarray(s.numpy() if isinstance(s, Tensor) else s) for s, _ in examples]
    labels = numpy.asarray([int(y.item() if isinstance(y, Tensor) else y) for _, y in examples])
    longest = max(1, max(len(s) for s in sequences))
    return Tensor(pad_sequences(sequences, longest, pad_index)), Tensor(labels)


class DataLoader:
    """Iterate over `dataset` in batches of `batch_size`, reshuffled every epoch if asked.

    The order comes from `seed` when given (epoch e uses seed + e), else from the global
    generator seeded by `cr.manual_seed`, so a run is reproducible either way.
    """

    def __init__(self, dataset, batch_size: int = 1, shuffle: bool = False,
                 drop_last: bool = False, seed: int | None = None, collate_fn=None):
        if batch_size < 1:
            raise ValueError(f"DataLoader: batch_size must be at least 1, got {batch_size}")
        self.dataset = dataset
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.drop_last = drop_last
        self.seed = seed
        self.collate_fn = collate_fn or collate
        self.epoch = 0

    def __len__(self) -> int:
        n = len(self.dataset)
        return n // self.batch_size if self.drop_last else math.ceil(n / self.batch_size)

    def _order(self) -> numpy.ndarray:
        n = len(self.dataset)
        if not self.shuffle:
            return numpy.arange(n)
        if self.seed is None:
            return backend.rng().permutation(n)
        return numpy.random.default_rng(self.seed + self.epoch).permutation(n)

    def __iter__(self):
        order = self._order()
        self.epoch += 1
        fast = isinstance(self.dataset, TensorDataset) and self.collate_fn is collate
        for start in range(0, len(order), self.batch_size):
            index = order[start:start + self.batch_size]
            if self.drop_last and len(index) < self.batch_size:
                break
            if fast:
                yield tuple(Tensor._wrap(t[index]) for t in self.dataset.tensors)
            else:
                yield self.collate_fn([self.dataset[int(i)] for i in index])
