"""Datasets: anything with `len()` and `[i]`, and ways to make and split them."""
from __future__ import annotations

import numpy

from .. import backend
from ..tensor import Tensor


class Dataset:
    """A sized collection of examples; subclasses give `__len__` and `__getitem__`."""

    def __len__(self) -> int:  # pragma: no cover - abstract
        raise NotImplementedError

    def __getitem__(self, index):  # pragma: no cover - abstract
        raise NotImplementedError


class TensorDataset(Dataset):
    """Examples are rows of equally long tensors or arrays: (x[i], y[i], …)."""

    def __init__(self, *tensors):
        if not tensors:
            raise ValueError("TensorDataset: give at least one tensor")
        lengths = {len(t) for t in tensors}
        if len(lengths) != 1:
            shapes = ", ".join(str(tuple(t.shape)) for t in tensors)
            raise ValueError(f"TensorDataset: tensors differ in their first dimension: {shapes}")
        self.tensors = tuple(t.data if isinstance(t, Tensor) else t for t in tensors)

    def __len__(self) -> int:
        return len(self.tensors[0])

    def __getitem__(self, index):
        return tuple(Tensor._wrap(t[index]) if hasattr(t, "dtype") else t[index]
                     for t in self.tensors)


class Subset(Dataset):
    def __init__(self, dataset: Dataset, indices):
        self.dataset = dataset
        self.indices = list(indices)

    def __len__(self) -> int:
        return len(self.indices)

    def __getitem__(self, index):
        return self.dataset[self.indices[index]]


def random_split(dataset: Dataset, lengths, seed: int | None = None) -> list[Subset]:
    """Split into non-overlapping subsets of the given lengths (or fractions summing to 1)."""
    total = len(dataset)
    lengths = list(lengths)
    if all(isinstance(n, float) for n in lengths) and abs(sum(lengths) - 1) < 1e-6:
        counts = [int(total * f) for f in lengths]
        for i in range(total - sum(counts)):
            counts[i % len(counts)] += 1
        lengths = counts
    if sum(lengths) != total:
        raise ValueError(f"random_split: lengths {lengths} do not add up to the dataset's "
                         f"{total} examples")
    generator = backend.rng() if seed is None else numpy.random.default_rng(seed)
    order = generator.permutation(total).tolist()
    subsets, start = [], 0
    for n in lengths:
        subsets.append(Subset(dataset, order[start:start + n]))
        start += n
    return subsets
