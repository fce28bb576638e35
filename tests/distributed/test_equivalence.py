"""DistributedDataParallel on 1, 2 and 4 ranks ends with the weights of one process
trained on the same global batches (float32 tolerance)."""
from __future__ import annotations

import pathlib
import sys

import numpy
import pytest

import chainrule as cr
from chainrule import nn

from . import cases
from .mpi import mpirun

WORKER = pathlib.Path(__file__).with_name("equivalence_worker.py")
CASES = ["mlp", "cnn-bn", "cnn-syncbn", "sparse-embedding"]


@pytest.fixture(scope="module", params=[1, 2, 4], ids=lambda n: f"{n}-ranks")
def trained(request, tmp_path_factory):
    """Every case trained on n ranks: case -> final state dict of rank 0."""
    out = tmp_path_factory.mktemp(f"ranks{request.param}")
    done = mpirun(request.param, sys.executable, str(WORKER), str(out), *CASES)
    assert done.returncode == 0, done.stdout + done.stderr
    return request.param, {case: dict(numpy.load(out / f"{case}.npz")) for case in CASES}


def one_process(case: str, world: int) -> dict:
    """The same training in this process. For a plain BatchNorm each of the `world` shards
    is normalised with its own statistics (as every rank does, PyTorch's behaviour): the
    loss is the mean of the shards' mean losses, whose gradient is DDP's average."""
    model = cases.build(case)
    optimizer = cr.optim.SGD(model.parameters(), lr=cases.LR)
    for x, y in cases.batches(case):
        if case != "cnn-bn":
            cases.step(model, optimizer, x, y)
            continue
        optimizer.zero_grad()
        losses = [nn.functional.cross_entropy(model(cr.tensor(cases.shard(x, r, world))),
                                              cr.tensor(cases.shard(y, r, world)))
                  for r in range(world)]
        (sum(losses[1:], losses[0]) / world).backward()
        optimizer.step()
    return cases.state(model)


@pytest.mark.parametrize("case", CASES)
def test_same_weights_as_one_process(trained, case):
    world, results = trained
    expected = one_process(case, world)
    got = results[case]
    for name, value in expected.items():
        if case == "cnn-bn" and ("running" in name or "num_batches" in name):
            continue  # per-rank statistics: rank 0 saw only its shard (checked below)
        numpy.testing.assert_allclose(got[name], value, rtol=1e-5, atol=1e-6,
                                      err_msg=f"{case} on {world} ranks: {name}")


def test_plain_batchnorm_keeps_rank_zero_statistics(trained):
    """A plain BatchNorm's running mean is rank 0's (broadcast before every forward): with
    several ranks it is not the whole batch's, which is what SyncBatchNorm is for."""
    world, results = trained
    whole = one_process("cnn-syncbn", 1)["1.running_mean"]
    same = numpy.allclose(results["cnn-bn"]["1.running_mean"], whole, atol=1e-6)
    assert same == (world == 1)
    numpy.testing.assert_allclose(results["cnn-syncbn"]["1.running_mean"], whole, atol=1e-6)
