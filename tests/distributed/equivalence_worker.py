"""Run under `mpirun -n N`: train each case with DistributedDataParallel on this rank's
share of every global batch; rank 0 saves the final weights to OUT/<case>.npz."""
from __future__ import annotations

import pathlib
import sys

import numpy

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import cases  # noqa: E402

import chainrule as cr  # noqa: E402
import chainrule.distributed as dist  # noqa: E402
from chainrule import nn  # noqa: E402


def main(out: str, names: list) -> None:
    dist.init_process_group("mpi")
    rank, world = dist.get_rank(), dist.get_world_size()
    for case in names:
        model = cases.build(case)
        if case == "cnn-syncbn":
            model = nn.SyncBatchNorm.convert_sync_batchnorm(model)
        if rank:  # other ranks start from other weights: DDP must broadcast rank 0's
            for p in model.parameters():
                p.array[...] += 1.0
        ddp = nn.parallel.DistributedDataParallel(model, bucket_cap_mb=0.0005)
        optimizer = cr.optim.SGD(ddp.parameters(), lr=cases.LR)
        for x, y in cases.batches(case):
            cases.step(ddp, optimizer, cases.shard(x, rank, world), cases.shard(y, rank, world))
        weights = numpy.concatenate([p.numpy().ravel() for p in model.parameters()])
        everyone = cr.zeros(world, len(weights))
        dist.all_gather_into_tensor(everyone, cr.tensor(weights))
        if not numpy.array_equal(everyone.numpy(), numpy.broadcast_to(weights, everyone.shape)):
            raise SystemExit(f"{case}: the ranks' weights differ after training")
        if rank == 0:
            numpy.savez(pathlib.Path(out) / f"{case}.npz", **cases.state(model))
    dist.destroy_process_group()


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2:])
