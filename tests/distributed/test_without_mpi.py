"""What needs no MPI to check: DistributedSampler's shares and the errors before MPI starts
(these run where mpi4py is not installed too)."""
from __future__ import annotations

import pytest

import chainrule.distributed as dist
from chainrule.utils.data import DistributedSampler


def test_unknown_backend_is_refused_in_one_line():
    with pytest.raises(ValueError, match="backend 'ucc' is not available"):
        dist.init_process_group("ucc")
    with pytest.raises(RuntimeError, match="not initialized"):
        dist.get_rank()


@pytest.mark.parametrize("n,world,drop_last", [(10, 4, False), (10, 4, True), (12, 3, False),
                                               (3, 4, False)])
def test_distributed_sampler_shares_are_disjoint_and_cover(n, world, drop_last):
    shares = [list(DistributedSampler(range(n), world, rank, seed=3, drop_last=drop_last))
              for rank in range(world)]
    assert len({len(s) for s in shares}) == 1 and len(shares[0]) == len(
        DistributedSampler(range(n), world, 0, drop_last=drop_last))
    everything = sorted(i for s in shares for i in s)
    if drop_last:
        assert len(set(everything)) == len(everything) == n - n % world
    else:
        assert set(everything) == set(range(n))  # every example, the first few twice
        assert len(everything) == -(-n // world) * world


def test_distributed_sampler_reshuffles_per_epoch_and_agrees_across_ranks():
    sampler = DistributedSampler(range(100), 2, 0)
    first = list(sampler)
    assert list(sampler) == first
    sampler.set_epoch(1)
    second = list(sampler)
    assert second != first
    other = DistributedSampler(range(100), 2, 1)
    other.set_epoch(1)
    assert not set(second) & set(other)
    assert list(DistributedSampler(range(6), 2, 1, shuffle=False)) == [1, 3, 5]
    with pytest.raises(ValueError, match="Invalid rank 2"):
        DistributedSampler(range(6), 2, 2)
