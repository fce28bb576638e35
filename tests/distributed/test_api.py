"""The collectives and DistributedDataParallel's options on 2 ranks, the launcher checks,
and DistributedSampler (which needs no MPI to check)."""
from __future__ import annotations

import os
import pathlib
import sys

import pytest

from chainrule.utils.data import DistributedSampler

from .mpi import mpirun

WORKER = pathlib.Path(__file__).with_name("api_worker.py")


def test_collectives_and_ddp_options_on_two_ranks():
    done = mpirun(2, sys.executable, str(WORKER))
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    for name in ("all_reduce sum", "all_reduce avg", "all_reduce max", "all_reduce async product",
                 "broadcast", "all_gather", "barrier", "timeout raises", "late join completes",
                 "no_sync accumulates", "sparse gradient stays sparse", "sparse rows of every rank",
                 "sparse rows averaged", "unused parameter named", "find_unused_parameters",
                 "second init refused", "destroyed"):
        assert lines.count(f"{name} ok") == (1 if name == "timeout raises" else 2), name


def test_launcher_that_mpi_does_not_know_is_refused():
    """WORLD_SIZE=3 from a torchrun-style launcher, but MPI started one process: a clear
    error instead of training alone."""
    code = "import chainrule.distributed as d; d.init_process_group()"
    os.environ["WORLD_SIZE"], os.environ["RANK"] = "3", "0"
    try:
        done = mpirun(1, sys.executable, "-c", code)
    finally:
        del os.environ["WORLD_SIZE"], os.environ["RANK"]
    assert done.returncode != 0
    assert "WORLD_SIZE (set by a torchrun-style launcher) is 3 but MPI sees this process as " \
           "rank 0 of 1" in " ".join(done.stderr.split())


def test_unknown_backend_is_refused_in_one_line():
    import chainrule.distributed as dist
    with pytest.raises(ValueError, match="backend 'nccl' is not available"):
        dist.init_process_group("nccl")
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
