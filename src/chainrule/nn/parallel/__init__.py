"""`chainrule.nn.parallel`: one model trained by many processes (see chainrule.distributed),
and PyTorch's one-process DataParallel wrapper."""
from .data_parallel import DataParallel
from .distributed import DistributedDataParallel
from .sync_batchnorm import SyncBatchNorm

__all__ = ["DataParallel", "DistributedDataParallel", "SyncBatchNorm"]
