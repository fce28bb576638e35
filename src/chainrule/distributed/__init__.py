"""`chainrule.distributed`: many processes training one model, over MPI (PyTorch's names).

    import chainrule.distributed as dist
    dist.init_process_group("mpi")            # in each process started by `mpirun -n 4`
    model = cr.nn.parallel.DistributedDataParallel(model)
    sampler = cr.utils.data.DistributedSampler(dataset)
    ...
    dist.destroy_process_group()

The layer sits just above the ops (it needs tensors, and nothing from `nn`), so `nn`'s
DistributedDataParallel and SyncBatchNorm build on it. docs/distributed.md tells how the
pieces fit and how the training scales.
"""
from .collectives import (
                          CollectiveTimeout,
                          ReduceOp,
                          Work,
                          all_gather,
                          all_gather_into_tensor,
                          all_reduce,
                          barrier,
                          broadcast,
                          reduce_op,
)
from .group import (
                          ProcessGroup,
                          destroy_process_group,
                          get_backend,
                          get_rank,
                          get_world_size,
                          init_process_group,
                          is_available,
                          is_initialized,
                          is_mpi_available,
                          launched_world_size,
)

__all__ = ["CollectiveTimeout", "ProcessGroup", "ReduceOp", "Work", "all_gather",
           "all_gather_into_tensor", "all_reduce", "barrier", "broadcast",
           "destroy_process_group", "get_backend", "get_rank", "get_world_size",
           "init_process_group", "is_available", "is_initialized", "is_mpi_available",
           "launched_world_size", "reduce_op"]
