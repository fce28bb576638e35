"""`chainrule.nn.parallel`: one model trained by many processes (see chainrule.distributed)."""
from .distributed import DistributedDataParallel
from .sync_batchnorm import SyncBatchNorm

__all__ = ["DistributedDataParallel", "SyncBatchNorm"]
