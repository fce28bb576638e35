"""Run under `mpirun -n 2`: checks of the collectives and of DistributedDataParallel's
options; each check prints "<name> ok", and a failing one raises (a non-zero exit)."""
from __future__ import annotations

import time

import numpy

import chainrule as cr
import chainrule.distributed as dist
from chainrule import nn
from chainrule.sparse import RowSparseTensor
from chainrule.utils.data import DataLoader, DistributedSampler, TensorDataset


def check(name: str, condition: bool) -> None:
    if not condition:
        raise AssertionError(f"rank {dist.get_rank()}: {name} failed")
    print(f"{name} ok", flush=True)


def collectives(rank: int, world: int) -> None:
    t = cr.tensor([1.0, 2.0]) * (rank + 1)
    dist.all_reduce(t)
    check("all_reduce sum", t.tolist() == [3.0, 6.0])
    t = cr.tensor([1.0, 2.0]) * (rank + 1)
    dist.all_reduce(t, op=dist.ReduceOp.AVG)
    check("all_reduce avg", t.tolist() == [1.5, 3.0])
    t = cr.tensor([float(rank), -float(rank)])
    dist.all_reduce(t, op=dist.ReduceOp.MAX)
    check("all_reduce max", t.tolist() == [1.0, 0.0])
    t = cr.tensor([rank + 2])
    work = dist.all_reduce(t, op=dist.reduce_op.PRODUCT, async_op=True)
    work.wait()
    check("all_reduce async product", work.is_completed() and t.tolist() == [6])
    t = cr.tensor([[float(rank)] * 3])
    dist.broadcast(t, src=1)
    check("broadcast", t.tolist() == [[1.0] * 3])
    parts = [cr.zeros(2) for _ in range(world)]
    dist.all_gather(parts, cr.tensor([rank, 10.0 * rank]))
    check("all_gather", [p.tolist() for p in parts] == [[0.0, 0.0], [1.0, 10.0]])
    dist.barrier()
    check("barrier", True)


def timeout(rank: int) -> None:
    """A rank that does not join: the other raises after the timeout instead of hanging."""
    t = cr.tensor([1.0])
    if rank == 0:
        work = dist.all_reduce(t, async_op=True)
        try:
            work.wait(timeout=0.3)
            raised = False
        except dist.CollectiveTimeout as err:
            raised = "waited" in str(err)
        check("timeout raises", raised)
        work.wait()  # rank 1 joins late: the collective still completes
    else:
        time.sleep(1.0)
        dist.all_reduce(t)
    check("late join completes", t.tolist() == [2.0])


def no_sync(rank: int, world: int) -> None:
    """Two micro-batches under no_sync and one outside: the average of all the ranks'
    summed gradients, as in one process."""
    rng = numpy.random.default_rng(5)
    xs = [rng.standard_normal((4 * world, 6)).astype(numpy.float32) for _ in range(3)]
    cr.manual_seed(0)
    reference = nn.Linear(6, 3)
    for x in xs:
        (reference(cr.tensor(x)) ** 2).mean().backward()
    cr.manual_seed(0)
    model = nn.parallel.DistributedDataParallel(nn.Linear(6, 3))
    for i, x in enumerate(xs):
        mine = cr.tensor(x[4 * rank:4 * (rank + 1)])
        if i < 2:
            with model.no_sync():
                (model(mine) ** 2).mean().backward()
        else:
            (model(mine) ** 2).mean().backward()
    got = model.module.weight.grad.numpy()
    check("no_sync accumulates", numpy.allclose(got, reference.weight.grad.numpy(), atol=1e-6))


def buckets_leave_during_backward(rank: int) -> None:
    """While backward is still to finish the first layer, the later layers' buckets are
    already sent (a hook on the first weight, registered before DDP's, looks)."""
    cr.manual_seed(0)
    model = nn.Sequential(nn.Linear(8, 8), nn.ReLU(), nn.Linear(8, 8), nn.ReLU(), nn.Linear(8, 2))
    seen = []
    model[0].weight.register_post_accumulate_grad_hook(
        lambda leaf: seen.append([b.work is not None for b in ddp._buckets]))
    ddp = nn.parallel.DistributedDataParallel(model, bucket_cap_mb=0.0001)
    ddp(cr.ones(4, 8)).sum().backward()
    check("several buckets", len(ddp._buckets) >= 3)
    check("buckets sent during backward", seen[0][0] and not seen[0][-1])


def sampler_in_a_loader(rank: int, world: int) -> None:
    """A DataLoader with a DistributedSampler: the ranks' batches are disjoint and cover."""
    data = TensorDataset(cr.arange(10))
    sampler = DistributedSampler(data, shuffle=True, seed=1)
    sampler.set_epoch(2)
    mine = cr.cat([x for (x,) in DataLoader(data, batch_size=2, sampler=sampler)])
    everyone = cr.zeros(world, len(mine), dtype=mine.dtype)
    dist.all_gather_into_tensor(everyone, mine)
    check("sampler shares cover", sorted(everyone.numpy().ravel().tolist()) == list(range(10)))


def sparse_stays_sparse(rank: int) -> None:
    cr.manual_seed(0)
    model = nn.parallel.DistributedDataParallel(nn.Embedding(100, 4, sparse=True))
    model(cr.tensor([[rank, 7]])).sum().backward()
    grad = model.module.weight.grad
    check("sparse gradient stays sparse", isinstance(grad, RowSparseTensor))
    rows = grad.indices().numpy().ravel().tolist()
    check("sparse rows of every rank", rows == [0, 1, 7])
    values = grad.values().numpy()[:, 0].tolist()
    check("sparse rows averaged", values == [0.5, 0.5, 1.0])


def unused_parameters(rank: int) -> None:
    class TwoHeads(nn.Module):
        def __init__(self):
            super().__init__()
            self.used = nn.Linear(3, 1)
            self.unused = nn.Linear(3, 1)

        def forward(self, x):
            return self.used(x)

    x = cr.ones(2, 3)
    model = nn.parallel.DistributedDataParallel(TwoHeads())
    model(x).sum().backward()
    try:
        model(x)
        message = ""
    except RuntimeError as err:
        message = str(err)
    check("unused parameter named", "no gradient reached unused.weight, unused.bias" in message
          and "find_unused_parameters=True" in message)
    model = nn.parallel.DistributedDataParallel(TwoHeads(), find_unused_parameters=True)
    for _ in range(2):
        model(x).sum().backward()
    check("find_unused_parameters", model.module.unused.weight.grad is None
          and model.module.used.weight.grad is not None)


def main() -> None:
    check("not initialized before init", not dist.is_initialized())
    dist.init_process_group(backend="mpi")
    rank, world = dist.get_rank(), dist.get_world_size()
    try:
        dist.init_process_group("mpi")
        twice = False
    except RuntimeError:
        twice = True
    check("second init refused", twice)
    collectives(rank, world)
    timeout(rank)
    no_sync(rank, world)
    buckets_leave_during_backward(rank)
    sampler_in_a_loader(rank, world)
    sparse_stays_sparse(rank)
    unused_parameters(rank)
    dist.destroy_process_group()
    check("destroyed", not dist.is_initialized())


if __name__ == "__main__":
    main()
