"""`DistributedSampler`: each rank reads its own disjoint share of a dataset.

Every rank draws the same permutation (from `seed + epoch`, so all ranks agree without
talking), pads it by repeating its start until it divides evenly (or, with `drop_last`,
cuts the tail), and keeps every `num_replicas`-th index from its `rank` on:

    permutation  7 2 9 0 4 1 8 3 6 5      4 ranks, 10 examples → 12 slots
    padded       7 2 9 0 4 1 8 3 6 5 7 2
    rank 1            2     4     3     2      (indices 1, 5, 9 of the padded list)

Call `set_epoch(epoch)` before each epoch, or every epoch repeats the first one's order.
"""
from __future__ import annotations

import math
from collections.abc import Iterator

import numpy

from ...distributed import get_rank, get_world_size
from .sampler import Sampler

__all__ = ["DistributedSampler"]


class DistributedSampler(Sampler):
    """Indices of rank `rank`'s share (PyTorch's arguments and defaults); `num_replicas`
    and `rank` default to the default process group's world size and rank."""

    def __init__(self, dataset, num_replicas: int | None = None, rank: int | None = None,
                 shuffle: bool = True, seed: int = 0, drop_last: bool = False) -> None:
        if num_replicas is None or rank is None:
            num_replicas = get_world_size() if num_replicas is None else num_replicas
            rank = get_rank() if rank is None else rank
        if num_replicas < 1:
            raise ValueError(f"DistributedSampler: num_replicas must be at least 1, got "
                             f"{num_replicas}")
        if not 0 <= rank < num_replicas:
            raise ValueError(f"Invalid rank {rank}, rank should be in the interval "
                             f"[0, {num_replicas - 1}]")
        self.dataset = dataset
        self.num_replicas = num_replicas
        self.rank = rank
        self.shuffle = shuffle
        self.seed = seed
        self.drop_last = drop_last
        self.epoch = 0
        n = len(dataset)
        if drop_last and n % num_replicas:
            self.num_samples = math.ceil((n - num_replicas) / num_replicas)
        else:
            self.num_samples = math.ceil(n / num_replicas)
        self.total_size = self.num_samples * num_replicas

    def __iter__(self) -> Iterator[int]:
        n = len(self.dataset)
        if self.shuffle:
            order = numpy.random.default_rng(self.seed + self.epoch).permutation(n)
        else:
            order = numpy.arange(n)
        if self.total_size > n:  # pad by repeating the start (as often as needed)
            order = numpy.resize(order, self.total_size)
        else:
            order = order[:self.total_size]
        return iter(order[self.rank:self.total_size:self.num_replicas].tolist())

    def __len__(self) -> int:
        return self.num_samples

    def set_epoch(self, epoch: int) -> None:
        """Use epoch `epoch`'s permutation (the same on every rank) from now on."""
        self.epoch = epoch
